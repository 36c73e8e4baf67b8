// flowmon-cryptospike-config: one ProLion CryptoSpike appliance (connection, credentials, safety settings).
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { CryptoSpikeClient } from '../../lib/cryptospike/client';
import { ProtectedUsers } from '../../lib/cryptospike/protected-users';
import { CryptoSpikeResponder } from '../../lib/cryptospike/responder';
import {
  CryptoSpikeConfigFields,
  CryptoSpikeCredentials,
  clientOptionsFrom,
  readCryptoSpikeSettings,
} from '../../lib/cryptospike/settings';
import type { MitigationKey, ReleaseOutcome } from '../../lib/mitigation/types';
import type { CryptoSpikeConfigNode } from './config-node';
import { StormCap } from '../../lib/safety/storm-cap';
import { substituteEnvFields, typedOrDeployedSecret } from '../../lib/config/editor-values';

type ConfigDef = NodeDef & CryptoSpikeConfigFields;

const TYPE = 'flowmon-cryptospike-config';

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
    try {
      const settings = readCryptoSpikeSettings(def, node.credentials ?? {});
      if (settings.client.tls.mode === 'insecure') {
        node.warn('TLS certificate checks are OFF for this CryptoSpike appliance (explicit opt-out)');
      }
      client = new CryptoSpikeClient(settings.client);
      node.simulate = settings.simulate;
      node.userIdType = settings.userIdType;
      node.responder = new CryptoSpikeResponder({
        client,
        configId: node.id,
        userIdType: settings.userIdType,
        unblockValue: settings.unblockValue,
        simulate: settings.simulate,
        protectedUsers: new ProtectedUsers(settings.protectedUsers),
        stormCap: new StormCap(settings.stormCap),
        memoryMs: settings.memoryMs,
      });
    } catch (err) {
      node.configError = (err as Error).message;
      node.error(`CryptoSpike configuration: ${node.configError}`);
    }

    node.releaseMitigation = async (key: MitigationKey): Promise<ReleaseOutcome> => {
      if (!node.responder) throw new Error(`CryptoSpike configuration: ${node.configError}`);
      return node.responder.release(key);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = client ? client.close() : Promise.resolve();
      closing.catch(() => undefined).then(() => done());
    });
  }

  RED.nodes.registerType(TYPE, CryptoSpikeConfig as unknown as (this: Node, def: NodeDef) => void, {
    credentials: { apiToken: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  });

  RED.httpAdmin.post(
    '/flowmon-response/cryptospike/test',
    RED.auth.needsPermission('flowmon-response.read'),
    (req: Request, res: Response) => {
      const body = substituteEnvFields((req.body ?? {}) as CryptoSpikeConfigFields & CryptoSpikeCredentials & { id?: string });
      const deployed = body.id ? (RED.nodes.getNode(body.id) as CryptoSpikeConfigNode | null) : null;
      const saved: CryptoSpikeCredentials = deployed?.credentials ?? {};
      const credentials: CryptoSpikeCredentials = {
        apiToken: typedOrDeployedSecret(body.apiToken, saved.apiToken),
        username: body.username?.trim() || saved.username,
        password: typedOrDeployedSecret(body.password, saved.password),
      };
      testConnection(body, credentials).then((result) => res.json(result));
    },
  );
};

async function testConnection(
  fields: CryptoSpikeConfigFields,
  credentials: CryptoSpikeCredentials,
): Promise<{ ok: boolean; message: string }> {
  let client: CryptoSpikeClient | null = null;
  try {
    client = new CryptoSpikeClient({ ...clientOptionsFrom(fields, credentials), retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    return { ok: true, message: await client.testConnection() };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  } finally {
    await client?.close().catch(() => undefined);
  }
}
