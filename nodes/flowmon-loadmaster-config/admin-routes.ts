import type { NodeAPI } from 'node-red';
import { CONNECTION_DEFAULTS, ConnectionFields, LookupKind, NamedNode, lookupHandler } from '../../lib/config/connection-lookup';
import { typedCredential } from '../../lib/config/editor-values';
import { readText } from '../../lib/config/fields';
import { failureCategory } from '../../lib/http/errors';
import { connectLoadMaster } from '../../lib/loadmaster/create';
import { LoadMasterError, describeFailure } from '../../lib/loadmaster/errors';
import { LoadMasterCredentials, LoadMasterSettings, readAuth, readLoadMasterSettings } from '../../lib/loadmaster/settings';
import type { LoadMasterClient } from '../../lib/loadmaster/client';

export const LOADMASTER_CONFIG_TYPE = 'flowmon-loadmaster-config';

/** What an empty LoadMaster connection field means. */
export const LOADMASTER_CONNECTION_DEFAULTS: Partial<ConnectionFields> = { ...CONNECTION_DEFAULTS, authType: 'apikey' };

const usesUser = (body: Record<string, unknown>) => readText(body.authType, 'apikey') === 'user';

/** How the LoadMaster lookups read a dialog (see lib/config/connection-lookup.ts for the rule). */
export const loadMasterLookup: LookupKind<LoadMasterSettings, LoadMasterCredentials> = {
  nodeType: LOADMASTER_CONFIG_TYPE,
  label: 'LoadMaster',
  defaults: LOADMASTER_CONNECTION_DEFAULTS,
  typedCredentials(body) {
    if (usesUser(body)) {
      const user = typedCredential(body.user);
      const password = typedCredential(body.password);
      return user && password ? { user, password } : null;
    }
    const apiKey = typedCredential(body.apiKey);
    return apiKey ? { apiKey } : null;
  },
  askFor: (body) => (usesUser(body) ? 'the user name and password' : 'the API key'),
  readPosted(body, credentials) {
    const { url, authType, tlsMode, tlsCa, tlsFingerprint, tlsInsecure, timeout } = body;
    return readLoadMasterSettings({ url, authType, tlsMode, tlsCa, tlsFingerprint, tlsInsecure, timeout }, credentials);
  },
  forLookup: (settings, credentials) => ({
    ...settings,
    auth: credentials ? readAuth('apiKey' in settings.auth ? 'apikey' : 'user', credentials) : settings.auth,
    attempts: 1,
    outageRetryMs: 0,
  }),
  secretsOf: (credentials) => [credentials.apiKey, credentials.user, credentials.password].filter((s): s is string => !!s),
};

/** A failed lookup as a fixed text: the LoadMaster's documented meaning of a status, or the kind of failure. */
function describeLoadMasterFailure(err: unknown, settings: LoadMasterSettings): string {
  if (err instanceof LoadMasterError) return describeFailure(err.status, '', 'apiKey' in settings.auth ? 'apikey' : 'user');
  return `LoadMaster: ${failureCategory(err)}`;
}

const registeredOn = new WeakSet<object>();

/**
 * Editor lookups through a LoadMaster config: "test connection" and the virtual-service picker. They reach an
 * appliance and may use a stored credential, so they need `flowmon-response.write`; which settings and credentials
 * they may use is decided by lib/config/connection-lookup.ts. Secrets are never sent back.
 */
export function registerLoadMasterAdminRoutes(RED: NodeAPI): void {
  if (registeredOn.has(RED.httpAdmin)) return;
  registeredOn.add(RED.httpAdmin);

  const getNode = (id: string) => RED.nodes.getNode(id) as unknown as NamedNode<LoadMasterSettings> | null;
  async function withClient<T>(settings: LoadMasterSettings, use: (client: LoadMasterClient) => Promise<T>): Promise<T> {
    const connection = connectLoadMaster(settings);
    try {
      return await use(connection.client);
    } finally {
      await connection.close();
    }
  }
  const permission = RED.auth.needsPermission('flowmon-response.write');

  RED.httpAdmin.post(
    '/flowmon-response/loadmaster/test',
    permission,
    lookupHandler(
      loadMasterLookup,
      getNode,
      (settings) => withClient(settings, (client) => client.testConnection()),
      (result) => ({ ok: true, message: result.message }),
      describeLoadMasterFailure,
    ),
  );

  // Failures answer HTTP 200 with {ok: false, message}: the editor shows the message, and logs no failed request.
  RED.httpAdmin.post(
    '/flowmon-response/loadmaster/virtual-services',
    permission,
    lookupHandler(
      loadMasterLookup,
      getNode,
      (settings) => withClient(settings, (client) => client.listVirtualServices()),
      (services) => services.map(({ index, address, port, protocol, name }) => ({ index, address, port, protocol, name })),
      describeLoadMasterFailure,
    ),
  );
}
