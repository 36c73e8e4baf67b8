import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { substituteEnv, substituteEnvFields, typedOrDeployedSecret } from '../../lib/config/editor-values';
import { LoadMasterClient } from '../../lib/loadmaster/client';
import { connectLoadMaster } from '../../lib/loadmaster/create';
import { LoadMasterConfigFields, LoadMasterCredentials, readLoadMasterSettings } from '../../lib/loadmaster/settings';

/** What the editor posts: the dialog's current field values, and the id of the config node. */
interface LookupBody extends LoadMasterConfigFields {
  id?: string;
  apiKey?: string;
  user?: string;
  password?: string;
}

const registeredOn = new WeakSet<object>();

/**
 * Editor lookups through a LoadMaster config: "test connection" and the virtual-service picker. The dialog's
 * values are used as typed; a secret left as the editor's placeholder (or empty) comes from the deployed node.
 * Secrets are never sent back.
 */
export function registerLoadMasterAdminRoutes(RED: NodeAPI): void {
  if (registeredOn.has(RED.httpAdmin)) return;
  registeredOn.add(RED.httpAdmin);

  async function withClient<T>(body: LookupBody, use: (client: LoadMasterClient) => Promise<T>): Promise<T> {
    const deployed = body.id ? (RED.nodes.getNode(body.id) as { credentials?: LoadMasterCredentials } | null) : null;
    const stored = deployed?.credentials ?? {};
    const credentials: LoadMasterCredentials = {
      apiKey: typedOrDeployedSecret(body.apiKey, stored.apiKey),
      user: (substituteEnv(body.user) as string | undefined) || stored.user,
      password: typedOrDeployedSecret(body.password, stored.password),
    };
    const fields = substituteEnvFields(body) as LoadMasterConfigFields & Record<string, unknown>;
    for (const name of ['tlsInsecure', 'simulate', 'protectHost']) {
      if (fields[`${name}Type`] === 'env') fields[name] = process.env[String(fields[name] ?? '')] ?? '';
    }
    const connection = connectLoadMaster(readLoadMasterSettings({ ...fields, retries: 0 }, credentials));
    try {
      return await use(connection.client);
    } finally {
      await connection.close();
    }
  }

  const permission = RED.auth.needsPermission('flowmon-response.read');

  RED.httpAdmin.post('/flowmon-response/loadmaster/test', permission, (req: Request, res: Response) => {
    withClient(req.body as LookupBody, (client) => client.testConnection()).then(
      (result) => res.json({ ok: true, message: result.message }),
      (err: Error) => res.json({ ok: false, message: err.message }),
    );
  });

  RED.httpAdmin.post('/flowmon-response/loadmaster/virtual-services', permission, (req: Request, res: Response) => {
    withClient(req.body as LookupBody, (client) => client.listVirtualServices()).then(
      (services) => res.json(services.map(({ index, address, port, protocol, name }) => ({ index, address, port, protocol, name }))),
      // HTTP 200 on purpose: the editor shows the message, and the browser logs no failed request.
      (err: Error) => res.json({ ok: false, message: err.message }),
    );
  });
}
