/**
 * Editor lookups through an appliance configuration ("Test connection", the virtual-service picker) run with what
 * the dialog posts, but a stored credential only ever goes where its own deployed node sends it:
 *
 * - The connection fields posted (URL, sign-in type and every TLS field) are compared, as text, with the deployed
 *   node's fields as they were deployed, before `${VAR}` substitution.
 * - The same: the lookup uses the deployed node's own resolved settings, and its credentials unless the dialog
 *   typed new ones (so a deployed `${LOADMASTER_URL}` tests fine).
 * - Different, or no deployed node: the posted values are used literally (a request never has an environment
 *   variable read) and the dialog must bring its own credentials; nothing stored is used or sent.
 *
 * Answers never carry a credential or a value that came from the environment: failures are fixed texts naming a
 * field or a kind of failure, and every such value is redacted from them besides.
 */
import { redact } from '../loadmaster/errors';
import { FIELD_ERRORS, isEnvReference } from './fields';

/** The fields that decide where a credential goes and which certificate is trusted with it. */
export const CONNECTION_FIELDS = ['url', 'authType', 'tlsMode', 'tlsCa', 'tlsFingerprint', 'tlsInsecure'] as const;
export type ConnectionField = (typeof CONNECTION_FIELDS)[number];
export type ConnectionFields = Record<ConnectionField, string>;

/** What an empty connection field means to both appliances' settings readers. */
export const CONNECTION_DEFAULTS: Partial<ConnectionFields> = { tlsMode: 'auto', tlsInsecure: 'false' };

/** The connection fields of a posted dialog or a deployed node, as text: CRLF as LF, trimmed, empty as the default. */
export function connectionFields(source: Record<string, unknown>, defaults: Partial<ConnectionFields>): ConnectionFields {
  const fields = {} as ConnectionFields;
  for (const name of CONNECTION_FIELDS) {
    const value = source[name];
    const text = (value === undefined || value === null ? '' : String(value)).replace(/\r\n?/g, '\n').trim();
    fields[name] = text || defaults[name] || '';
  }
  // Older LoadMaster flows name the accept-any variable in a typedInput of type "env": that is `${NAME}`.
  if (source.tlsInsecureType === 'env' && fields.tlsInsecure !== defaults.tlsInsecure) {
    fields.tlsInsecure = `\${${fields.tlsInsecure}}`;
  }
  return fields;
}

function sameConnection(a: ConnectionFields, b: ConnectionFields): boolean {
  return CONNECTION_FIELDS.every((name) => a[name] === b[name]);
}

/** What a deployed configuration node keeps for lookups. */
export interface DeployedConnection<S> {
  /** Its connection fields as deployed (before substitution); null when the deployed definition was not found. */
  fields: ConnectionFields | null;
  /** Its settings as resolved when it started; null when they did not read (`error` says why). */
  settings: S | null;
  error: string | null;
  /** Its credentials and every value it received from the environment: never in an answer. */
  sensitive: string[];
}

/** Words no answer needs to hide (an environment variable set to `true` is no secret). */
const HARMLESS = /^(true|false|yes|no|on|off|auto|\d{1,3})$/i;

function withHosts(values: string[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (value.trim().length < 3 || HARMLESS.test(value.trim())) continue;
    out.add(value);
    out.add(value.trim());
    try {
      const url = new URL(value.trim());
      for (const part of [url.origin, url.host, url.hostname, url.hostname.replace(/^\[|\]$/g, '')]) {
        if (part.length >= 3) out.add(part);
      }
    } catch {
      // not a URL
    }
  }
  // Longest first, so that a URL is hidden whole rather than around its host.
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * The lookup record of a deployed node. `raw` is its definition as deployed (before `${VAR}` substitution),
 * `resolved` the definition the node received; a string field that differs between the two came from the
 * environment.
 */
export function deployedConnection<S>(options: {
  raw: Record<string, unknown> | undefined;
  resolved: Record<string, unknown>;
  credentials: object;
  defaults: Partial<ConnectionFields>;
  settings: S | null;
  error: string | null;
}): DeployedConnection<S> {
  const { raw, resolved } = options;
  const fromEnvironment = Object.keys(resolved).flatMap((key) => {
    const value = resolved[key];
    return typeof value === 'string' && (!raw || raw[key] !== value) ? [value] : [];
  });
  const credentials = Object.values(options.credentials).filter((v): v is string => typeof v === 'string');
  return {
    fields: raw ? connectionFields(raw, options.defaults) : null,
    settings: options.settings,
    error: options.error,
    sensitive: withHosts([...credentials, ...fromEnvironment]),
  };
}

/** The definition of node `id` as deployed (Node-RED substitutes `${VAR}` only in the copy the node receives). */
export function deployedDefinition(
  eachNode: (visit: (definition: object) => void) => void,
  id: string,
): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  eachNode((definition) => {
    if ((definition as { id?: unknown }).id === id) found = definition as Record<string, unknown>;
  });
  return found;
}

/** How one appliance's lookups read a dialog. */
export interface LookupKind<S, C> {
  /** The configuration node type whose id a request may name. */
  nodeType: string;
  /** "LoadMaster", "CryptoSpike": for answers. */
  label: string;
  defaults: Partial<ConnectionFields>;
  /** The credentials the dialog typed for its sign-in type (see typedCredential), or null when it brought none. */
  typedCredentials(body: Record<string, unknown>): C | null;
  /** What to ask for when the dialog brought no credentials: "the API key". */
  askFor(body: Record<string, unknown>): string;
  /** Settings from the posted values, taken literally; throws a text that names a field. */
  readPosted(body: Record<string, unknown>, credentials: C): S;
  /** Settings for one lookup (no retries, no outage wait), with the dialog's credentials when given. */
  forLookup(settings: S, credentials: C | null): S;
  secretsOf(credentials: C): string[];
}

export type LookupPlan<S> =
  | { settings: S; sensitive: string[]; refused?: undefined }
  | { refused: { status: number; message: string } };

/** The node a request names, as far as a lookup looks at it: its type, and the record of its own type. */
export interface NamedNode<S> {
  type?: unknown;
  deployedConnection?: DeployedConnection<S>;
}

function refuse(status: number, message: string): { refused: { status: number; message: string } } {
  return { refused: { status, message } };
}

/** Decides which settings and credentials a lookup may use, or why it is refused (nothing is sent then). */
export function planLookup<S, C>(
  kind: LookupKind<S, C>,
  posted: unknown,
  getNode: (id: string) => NamedNode<S> | null | undefined,
): LookupPlan<S> {
  if (!posted || typeof posted !== 'object' || Array.isArray(posted)) return refuse(400, 'the request must be a JSON object');
  const body = posted as Record<string, unknown>;
  if (body.id !== undefined && body.id !== null && typeof body.id !== 'string') return refuse(400, 'the id field must be a node id');
  const id = typeof body.id === 'string' ? body.id : '';
  const node = id ? getNode(id) : null;
  if (node && node.type !== kind.nodeType) return refuse(400, `the id does not name a ${kind.nodeType} node`);
  const deployed = node?.deployedConnection;
  const typed = kind.typedCredentials(body);
  const typedSecrets = typed ? kind.secretsOf(typed) : [];

  if (deployed?.fields && sameConnection(connectionFields(body, kind.defaults), deployed.fields)) {
    if (!deployed.settings) {
      const reason = redact(deployed.error ?? 'not ready', withHosts(deployed.sensitive));
      return refuse(200, `the deployed ${kind.label} configuration is not usable: ${reason}`);
    }
    return { settings: kind.forLookup(deployed.settings, typed), sensitive: withHosts([...deployed.sensitive, ...typedSecrets]) };
  }
  if (!typed) {
    return deployed
      ? refuse(200, `enter ${kind.askFor(body)}: the URL or TLS settings differ from the deployed node`)
      : refuse(404, `no deployed ${kind.label} configuration has this id: deploy it, or enter ${kind.askFor(body)}`);
  }
  const sensitive = withHosts(typedSecrets);
  for (const name of CONNECTION_FIELDS) {
    if (isEnvReference(body[name])) return refuse(200, FIELD_ERRORS[name]);
  }
  try {
    return { settings: kind.forLookup(kind.readPosted(body, typed), null), sensitive };
  } catch (err) {
    return refuse(200, redact((err as Error).message, sensitive));
  }
}

/** The request and response of a lookup route, as far as it uses them (Express in Node-RED). */
export interface LookupRequest {
  body?: unknown;
}
export interface LookupResponse {
  status(code: number): { json(body: unknown): void };
}

/**
 * An admin route handler: plans the lookup, runs it, and answers `success(result)`, or `{ok: false, message}` with
 * the failure as `describe(err)` gives it, every sensitive value redacted.
 */
export function lookupHandler<S, C, T>(
  kind: LookupKind<S, C>,
  getNode: (id: string) => NamedNode<S> | null | undefined,
  run: (settings: S) => Promise<T>,
  success: (result: T) => unknown,
  describe: (err: unknown, settings: S) => string,
): (req: LookupRequest, res: LookupResponse) => void {
  return (req, res) => {
    const plan = planLookup(kind, req.body, getNode);
    if (plan.refused) {
      res.status(plan.refused.status).json({ ok: false, message: plan.refused.message });
      return;
    }
    const { settings, sensitive } = plan;
    Promise.resolve()
      .then(() => run(settings))
      .then(
        (result) => res.status(200).json(success(result)),
        (err: unknown) => res.status(200).json({ ok: false, message: redact(describe(err, settings), sensitive) }),
      );
  };
}
