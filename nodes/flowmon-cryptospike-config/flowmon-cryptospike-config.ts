// flowmon-cryptospike-config: one ProLion CryptoSpike appliance (connection, credentials, safety settings).
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { deployedConnection, deployedDefinition } from '../../lib/config/connection-lookup';
import { CryptoSpikeClient } from '../../lib/cryptospike/client';
import { ProtectedUsers } from '../../lib/cryptospike/protected-users';
import { CryptoSpikeResponder } from '../../lib/cryptospike/responder';
import { CryptoSpikeConfigFields, CryptoSpikeSettings, readCryptoSpikeSettings } from '../../lib/cryptospike/settings';
import type { HoldInfo } from '../../lib/decisions/types';
import type { AppliedHold, MitigationKey, ReleaseOutcome } from '../../lib/mitigation/types';
import { getRegistry } from '../../lib/registry';
import { StoreRuntime, getStore } from '../../lib/store';
import { HoldGate } from '../../lib/safety/hold-gate';
import { StormCap } from '../../lib/safety/storm-cap';
import type { CryptoSpikeConfigNode } from './config-node';
import { CRYPTOSPIKE_CONFIG_TYPE, CRYPTOSPIKE_CONNECTION_DEFAULTS, registerCryptoSpikeAdminRoutes } from './admin-routes';

type ConfigDef = NodeDef & CryptoSpikeConfigFields;

/** The storm gate counts new blocks per minute. */
const STORM_WINDOW_MS = 60_000;

export = function (RED: NodeAPI): void {
  function CryptoSpikeConfig(this: CryptoSpikeConfigNode, def: ConfigDef): void {
    RED.nodes.createNode(this, def);
    setUp(this, def);
  }

  function setUp(node: CryptoSpikeConfigNode, def: ConfigDef): void {
    node.applianceKind = 'cryptospike';
    node.responder = null;
    node.configError = null;
    node.simulate = false;
    node.userIdType = 'WINDOWS';
    let client: CryptoSpikeClient | null = null;
    let settings: CryptoSpikeSettings | null = null;
    try {
      settings = readCryptoSpikeSettings(def, node.credentials ?? {});
      if (settings.client.tls.mode === 'insecure') {
        node.warn('TLS certificate checks are OFF for this CryptoSpike appliance: any certificate is accepted (pin its fingerprint instead)');
        node.status({ fill: 'yellow', shape: 'ring', text: 'TLS not verified' });
      }
      client = new CryptoSpikeClient({ ...settings.client, configId: node.id });
      node.simulate = settings.simulate;
      node.userIdType = settings.userIdType;
      const store = getStore(RED as unknown as StoreRuntime);
      const stormBudget = store.budgets?.budget(`cryptospike-storm:${node.id}`, settings.stormCap, STORM_WINDOW_MS);
      node.responder = new CryptoSpikeResponder({
        client,
        configId: node.id,
        userIdType: settings.userIdType,
        unblockValue: settings.unblockValue,
        simulate: settings.simulate,
        protectedUsers: new ProtectedUsers(settings.protectedUsers),
        holdGate: new HoldGate(new StormCap(settings.stormCap, STORM_WINDOW_MS, { budget: stormBudget }), settings.approval),
        memoryMs: settings.memoryMs,
        isActive: (key) => getRegistry(RED as unknown as Parameters<typeof getRegistry>[0]).isActive(key),
        claims: store.claims,
      });
    } catch (err) {
      settings = null;
      node.configError = (err as Error).message;
      node.error(`CryptoSpike configuration: ${node.configError}`);
    }
    node.deployedConnection = deployedConnection({
      raw: deployedDefinition(RED.nodes.eachNode, node.id),
      resolved: def as unknown as Record<string, unknown>,
      credentials: node.credentials ?? {},
      defaults: CRYPTOSPIKE_CONNECTION_DEFAULTS,
      settings: settings?.client ?? null,
      error: node.configError,
    });

    node.releaseMitigation = async (key: MitigationKey): Promise<ReleaseOutcome> => {
      if (!node.responder) throw new Error(`CryptoSpike configuration: ${node.configError}`);
      return node.responder.release(key);
    };
    node.applyHeld = async (key: MitigationKey, hold: HoldInfo, userId?: string): Promise<AppliedHold> => {
      if (!node.responder) throw new Error(`CryptoSpike configuration: ${node.configError}`);
      return node.responder.applyHeld(key, hold, userId);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = client ? client.close() : Promise.resolve();
      closing.catch(() => undefined).then(() => done());
    });
  }

  RED.nodes.registerType(CRYPTOSPIKE_CONFIG_TYPE, CryptoSpikeConfig as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { apiToken: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  });
  registerCryptoSpikeAdminRoutes(RED);
};
