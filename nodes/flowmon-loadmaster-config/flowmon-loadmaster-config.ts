import type { Node, NodeAPI, NodeDef } from 'node-red';
import { deployedConnection, deployedDefinition } from '../../lib/config/connection-lookup';
import { LoadMasterRuntime, createLoadMasterRuntime } from '../../lib/loadmaster/create';
import { redact } from '../../lib/loadmaster/errors';
import type { LoadMasterService } from '../../lib/loadmaster/service';
import { LoadMasterConfigFields, LoadMasterSettings, readLoadMasterSettings } from '../../lib/loadmaster/settings';
import type { HoldInfo } from '../../lib/decisions/types';
import type { AppliedHold, MitigationKey, ReleaseOutcome } from '../../lib/mitigation/types';
import { getRegistry } from '../../lib/registry';
import { StoreRuntime, getStore } from '../../lib/store';
import { LOADMASTER_CONFIG_TYPE, LOADMASTER_CONNECTION_DEFAULTS, registerLoadMasterAdminRoutes } from './admin-routes';
import type { LoadMasterConfigNode } from './types';

interface ConfigDef extends NodeDef, LoadMasterConfigFields {
  /** typedInput types of the boolean fields: 'bool' or 'env' (the value is then an environment variable name). */
  simulateType?: string;
  protectHostType?: string;
  /** Older flows only: 'env' when tlsInsecure names a variable. The dialog now takes `${VAR}` text, as CryptoSpike's. */
  tlsInsecureType?: string;
}

export = function (RED: NodeAPI) {
  function fromEnvIfAsked(node: Node, value: unknown, type: string | undefined): unknown {
    return type === 'env' ? RED.util.evaluateNodeProperty(String(value ?? ''), 'env', node, {} as never) : value;
  }

  function FlowmonLoadMasterConfig(this: LoadMasterConfigNode, def: ConfigDef) {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: LoadMasterConfigNode, def: ConfigDef): void {
    let runtime: LoadMasterRuntime | null = null;
    let settings: LoadMasterSettings | null = null;
    node.loadMaster = null;
    node.configError = null;
    const resolved = {
      ...def,
      simulate: fromEnvIfAsked(node, def.simulate, def.simulateType),
      protectHost: fromEnvIfAsked(node, def.protectHost, def.protectHostType),
      tlsInsecure: fromEnvIfAsked(node, def.tlsInsecure, def.tlsInsecureType),
    };
    try {
      settings = readLoadMasterSettings(resolved, node.credentials ?? {});
      const store = getStore(RED as unknown as StoreRuntime);
      runtime = createLoadMasterRuntime(settings, {
        configId: node.id,
        isActive: (key) => getRegistry(RED as never).isActive(key),
        budgets: store.budgets,
        claims: store.claims,
      });
      node.loadMaster = runtime.service;
      if (settings.tls.mode === 'insecure') {
        node.warn('TLS certificate checks are OFF for this LoadMaster: any certificate is accepted (pin its fingerprint instead)');
        node.status({ fill: 'yellow', shape: 'ring', text: 'TLS not verified' });
      }
      // A warning may name the LoadMaster's host, which may come from the environment.
      runtime.warnings.then((warnings) => warnings.forEach((w) => node.warn(redact(w, node.deployedConnection.sensitive))));
    } catch (err) {
      settings = null;
      node.configError = (err as Error).message;
      node.error(`LoadMaster configuration: ${node.configError}`);
    }
    node.deployedConnection = deployedConnection({
      raw: deployedDefinition(RED.nodes.eachNode, node.id),
      resolved,
      credentials: node.credentials ?? {},
      defaults: LOADMASTER_CONNECTION_DEFAULTS,
      settings,
      error: node.configError,
    });

    const service = (): LoadMasterService => {
      if (!node.loadMaster) throw new Error(`LoadMaster configuration: ${node.configError ?? 'not ready'}`);
      return node.loadMaster;
    };
    Object.defineProperty(node, 'simulate', { get: () => node.loadMaster?.simulate ?? false });
    Object.defineProperty(node, 'applianceKind', { value: 'loadmaster' });
    node.releaseMitigation = (key: MitigationKey): Promise<ReleaseOutcome> =>
      Promise.resolve().then(() => service().releaseMitigation(key));
    node.listTaggedTargets = (scope: string) => Promise.resolve().then(() => service().listTaggedTargets(scope));
    node.reapplyMitigation = (key: MitigationKey, comment: string) =>
      Promise.resolve().then(() => service().reapplyMitigation(key, comment));
    node.applyHeld = (key: MitigationKey, hold: HoldInfo): Promise<AppliedHold> =>
      Promise.resolve().then(() => service().applyHeld(key, hold));

    node.on('close', (_removed: boolean, done: () => void) => {
      node.loadMaster = null;
      if (!runtime) return done();
      runtime.close().then(done, done);
    });
  }

  RED.nodes.registerType(LOADMASTER_CONFIG_TYPE, FlowmonLoadMasterConfig as never, {
    credentials: {
      apiKey: { type: 'password' },
      user: { type: 'text' },
      password: { type: 'password' },
    },
  });
  registerLoadMasterAdminRoutes(RED);
};
