import { FIELD_ERRORS, readBool, readList, readNumber, readText, unlessUnsetEnv } from '../config/fields';
import { TlsSettings, resolveTlsSettings } from '../http/tls';
import { parseCidr } from '../net/address';
import { ApprovalFields, ApprovalPolicy, readApprovalPolicy } from '../safety/approval';
import type { LoadMasterAuth } from './client';

/** The fields of a flowmon-loadmaster-config node as the editor stores them (any may arrive as `${ENV_VAR}` text). */
export interface LoadMasterConfigFields extends ApprovalFields {
  url?: unknown;
  authType?: unknown;
  tlsMode?: unknown;
  tlsCa?: unknown;
  tlsFingerprint?: unknown;
  tlsInsecure?: unknown;
  timeout?: unknown;
  rateCalls?: unknown;
  rateWindow?: unknown;
  maxQueued?: unknown;
  retries?: unknown;
  outageRetry?: unknown;
  neverBlock?: unknown;
  protectHost?: unknown;
  stormCap?: unknown;
  ipv6Prefix?: unknown;
  simulate?: unknown;
}

export interface LoadMasterCredentials {
  apiKey?: string;
  user?: string;
  password?: string;
}

export interface LoadMasterSettings {
  url: string;
  /** Host name or address of the LoadMaster, without brackets. */
  host: string;
  auth: LoadMasterAuth;
  tls: TlsSettings;
  timeoutMs: number;
  /** Pacing: at most `rateCalls` API calls start within `rateWindowMs`. */
  rateCalls: number;
  rateWindowMs: number;
  maxQueued: number;
  /** Attempts in all for connection errors and 5xx (1 = no retry). */
  attempts: number;
  /** How long a call keeps being retried while the LoadMaster is unreachable (0 = only `attempts`). */
  outageRetryMs: number;
  neverBlock: string[];
  protectHost: boolean;
  stormCap: number;
  /** Which new blocks wait for a person, and for how long. */
  approval: ApprovalPolicy;
  ipv6Prefix: number;
  simulate: boolean;
}

export const DEFAULTS = {
  timeoutSeconds: 10,
  rateCalls: 25,
  rateWindowSeconds: 3,
  maxQueued: 10_000,
  retries: 3,
  outageRetrySeconds: 120,
  stormCap: 60,
  ipv6Prefix: 128,
} as const;

function readUrl(value: unknown): { url: string; host: string } {
  const text = readText(value);
  if (!text) throw new Error(FIELD_ERRORS.urlMissing);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(FIELD_ERRORS.url);
  }
  if (url.protocol !== 'https:') throw new Error(FIELD_ERRORS.urlScheme);
  return { url: url.origin, host: url.hostname.replace(/^\[|\]$/g, '') };
}

/** The sign-in of a LoadMaster: `authType` "user" (user name and password) or "apikey" (the default). */
export function readAuth(authType: unknown, credentials: LoadMasterCredentials): LoadMasterAuth {
  const type = readText(authType, 'apikey');
  if (type !== 'apikey' && type !== 'user') throw new Error(FIELD_ERRORS.authType);
  if (type === 'user') {
    const user = readText(credentials.user);
    const pass = unlessUnsetEnv(credentials.password ?? '');
    if (!user || !pass) throw new Error('user name and password are needed for user authentication');
    return { user, pass };
  }
  const apiKey = readText(credentials.apiKey);
  if (!apiKey) throw new Error('the API key is missing');
  return { apiKey };
}

/** Invalid entries are named by position: the list may come from the environment, and the text reaches the log. */
function readNeverBlock(value: unknown): string[] {
  const list = readList(value).flatMap((item) => item.split(/\s+/)).filter(Boolean);
  const invalid = list.flatMap((item, i) => (parseCidr(item, { clearHostBits: true }) ? [] : [i + 1]));
  if (invalid.length > 0) {
    throw new Error(`never-block list: entr${invalid.length === 1 ? 'y' : 'ies'} ${invalid.join(', ')} of ${list.length} not an address or CIDR`);
  }
  return list;
}

/** Reads and checks every field, throwing a message that names the first field that does not fit (never its value). */
export function readLoadMasterSettings(fields: LoadMasterConfigFields, credentials: LoadMasterCredentials): LoadMasterSettings {
  const { url, host } = readUrl(fields.url);
  const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined ? undefined : String(value));
  const tls = resolveTlsSettings({
    tlsMode: text(fields.tlsMode),
    tlsCa: text(fields.tlsCa),
    tlsFingerprint: text(fields.tlsFingerprint),
    tlsInsecure: text(fields.tlsInsecure),
  });
  const timeout = readNumber(fields.timeout, DEFAULTS.timeoutSeconds, { name: 'timeout (s)', min: 0.1, max: 600, integer: false });
  const rateWindow = readNumber(fields.rateWindow, DEFAULTS.rateWindowSeconds, {
    name: 'pacing window (s)',
    min: 0.05,
    max: 3600,
    integer: false,
  });
  return {
    url,
    host,
    auth: readAuth(fields.authType, credentials),
    tls,
    timeoutMs: Math.round(timeout * 1000),
    rateCalls: readNumber(fields.rateCalls, DEFAULTS.rateCalls, { name: 'pacing: calls per window', min: 1, max: 10_000 }),
    rateWindowMs: Math.round(rateWindow * 1000),
    maxQueued: readNumber(fields.maxQueued, DEFAULTS.maxQueued, { name: 'queue limit', min: 1, max: 1_000_000 }),
    attempts: 1 + readNumber(fields.retries, DEFAULTS.retries, { name: 'retries', min: 0, max: 10 }),
    outageRetryMs:
      1000 * readNumber(fields.outageRetry, DEFAULTS.outageRetrySeconds, { name: 'outage retry (s)', min: 0, max: 3600 }),
    neverBlock: readNeverBlock(fields.neverBlock),
    protectHost: readBool(fields.protectHost, true),
    stormCap: readNumber(fields.stormCap, DEFAULTS.stormCap, { name: 'storm cap (blocks per minute)', min: 1, max: 100_000 }),
    approval: readApprovalPolicy(fields),
    ipv6Prefix: readNumber(fields.ipv6Prefix, DEFAULTS.ipv6Prefix, { name: 'IPv6 block prefix', min: 1, max: 128 }),
    simulate: readBool(fields.simulate, false),
  };
}
