import type { NodeAPI } from 'node-red';
import { CONNECTION_DEFAULTS, ConnectionFields, LookupKind, NamedNode, lookupHandler } from '../../lib/config/connection-lookup';
import { typedCredential } from '../../lib/config/editor-values';
import { readText } from '../../lib/config/fields';
import { ApplianceResponseError, failureCategory } from '../../lib/http/errors';
import { CryptoSpikeClient, CryptoSpikeClientOptions } from '../../lib/cryptospike/client';
import { CryptoSpikeCredentials, authFrom, clientOptionsFrom } from '../../lib/cryptospike/settings';

export const CRYPTOSPIKE_CONFIG_TYPE = 'flowmon-cryptospike-config';

/** What an empty CryptoSpike connection field means ("" sign-in: the token if set, else user name and password). */
export const CRYPTOSPIKE_CONNECTION_DEFAULTS: Partial<ConnectionFields> = CONNECTION_DEFAULTS;

const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/** How the CryptoSpike "Test connection" reads a dialog (see lib/config/connection-lookup.ts for the rule). */
export const cryptoSpikeLookup: LookupKind<CryptoSpikeClientOptions, CryptoSpikeCredentials> = {
  nodeType: CRYPTOSPIKE_CONFIG_TYPE,
  label: 'CryptoSpike',
  defaults: CRYPTOSPIKE_CONNECTION_DEFAULTS,
  typedCredentials(body) {
    const authType = readText(body.authType);
    const apiToken = typedCredential(body.apiToken);
    if (apiToken && authType !== 'user') return { apiToken };
    const username = typedCredential(body.username);
    const password = typedCredential(body.password);
    return username && password && authType !== 'token' ? { username, password } : null;
  },
  askFor(body) {
    const authType = readText(body.authType);
    if (authType === 'token') return 'the API token';
    return authType === 'user' ? 'the user name and password' : 'the API token, or the user name and password';
  },
  readPosted(body, credentials) {
    const { url, authType, tlsMode, tlsCa, tlsFingerprint, tlsInsecure, timeout } = body as Record<string, string | undefined>;
    return clientOptionsFrom({ url, authType, tlsMode, tlsCa, tlsFingerprint, tlsInsecure, timeout }, credentials);
  },
  forLookup: (options, credentials) => ({
    ...options,
    auth: credentials ? authFrom(credentials) : options.auth,
    retry: NO_RETRY,
  }),
  secretsOf: (credentials) => [credentials.apiToken, credentials.username, credentials.password].filter((s): s is string => !!s),
};

/** A failed test as a fixed text: rejected credentials, or the kind of failure. */
function describeCryptoSpikeFailure(err: unknown, options: CryptoSpikeClientOptions): string {
  if (err instanceof ApplianceResponseError && (err.status === 401 || err.status === 403)) {
    return 'apiToken' in options.auth
      ? `CryptoSpike: API token rejected (HTTP ${err.status})`
      : `CryptoSpike refused the login (HTTP ${err.status}): check the user name and password`;
  }
  return `CryptoSpike: ${failureCategory(err)}`;
}

async function testConnection(options: CryptoSpikeClientOptions): Promise<string> {
  const client = new CryptoSpikeClient(options);
  try {
    await client.testConnection();
    return `connected: the user list is readable (${'apiToken' in options.auth ? 'API token' : 'user sign-in'})`;
  } finally {
    await client.close().catch(() => undefined);
  }
}

const registeredOn = new WeakSet<object>();

/**
 * "Test connection" of a CryptoSpike config: it reaches the appliance and may use a stored credential, so it needs
 * `flowmon-response.write`; which settings and credentials it may use is decided by
 * lib/config/connection-lookup.ts. Secrets are never sent back.
 */
export function registerCryptoSpikeAdminRoutes(RED: NodeAPI): void {
  if (registeredOn.has(RED.httpAdmin)) return;
  registeredOn.add(RED.httpAdmin);
  RED.httpAdmin.post(
    '/flowmon-response/cryptospike/test',
    RED.auth.needsPermission('flowmon-response.write'),
    lookupHandler(
      cryptoSpikeLookup,
      (id) => RED.nodes.getNode(id) as unknown as NamedNode<CryptoSpikeClientOptions> | null,
      testConnection,
      (message) => ({ ok: true, message }),
      describeCryptoSpikeFailure,
    ),
  );
}
