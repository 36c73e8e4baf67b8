/** Turns the flowmon-cryptospike-config fields (each may be `${ENV_VAR}`) into client and responder settings. */
import { FIELD_ERRORS, readBool, readList, readNumber, readText, unlessUnsetEnv } from '../config/fields';
import { resolveTlsSettings } from '../http/tls';
import { ApprovalFields, ApprovalPolicy, readApprovalPolicy } from '../safety/approval';
import type { CryptoSpikeAuth, CryptoSpikeClientOptions } from './client';

export interface CryptoSpikeConfigFields extends ApprovalFields {
  url?: string;
  /** "token" or "user"; empty picks the token when one is set. */
  authType?: string;
  tlsMode?: string;
  tlsCa?: string;
  tlsFingerprint?: string;
  tlsInsecure?: string | boolean;
  timeout?: string | number;
  concurrency?: string | number;
  pageSize?: string | number;
  unblockValue?: string;
  userIdType?: string;
  protectedUsers?: string;
  stormCap?: string | number;
  memorySeconds?: string | number;
  simulate?: string | boolean;
}

export interface CryptoSpikeCredentials {
  apiToken?: string;
  username?: string;
  password?: string;
}

export interface CryptoSpikeSettings {
  client: CryptoSpikeClientOptions;
  userIdType: string;
  unblockValue: string;
  simulate: boolean;
  protectedUsers: string[];
  stormCap: number;
  /** Which new blocks wait for a person, and for how long. */
  approval: ApprovalPolicy;
  memoryMs: number;
}

export const DEFAULTS = {
  timeoutSeconds: 15,
  concurrency: 4,
  pageSize: 500,
  unblockValue: 'UNBLOCKED',
  userIdType: 'WINDOWS',
  stormCap: 20,
  memorySeconds: 60,
} as const;

export function authFrom(credentials: CryptoSpikeCredentials, authType = ''): CryptoSpikeAuth {
  const apiToken = readText(credentials.apiToken);
  if (apiToken && authType !== 'user') return { apiToken };
  const username = readText(credentials.username);
  const password = unlessUnsetEnv(credentials.password ?? '');
  if (username && password && authType !== 'token') return { username, password };
  if (authType === 'token') throw new Error('CryptoSpike API token missing');
  if (authType === 'user') throw new Error('CryptoSpike user name or password missing');
  throw new Error('CryptoSpike credentials missing: give an API token, or a user name and password');
}

export function clientOptionsFrom(fields: CryptoSpikeConfigFields, credentials: CryptoSpikeCredentials): CryptoSpikeClientOptions {
  const url = readText(fields.url);
  if (!url) throw new Error(FIELD_ERRORS.urlMissing);
  if (!/^https:\/\/[^/\s]+/i.test(url)) throw new Error(FIELD_ERRORS.url);
  return {
    url,
    tls: resolveTlsSettings(fields),
    auth: authFrom(credentials, readText(fields.authType)),
    timeoutMs: readNumber(fields.timeout, DEFAULTS.timeoutSeconds, { name: 'timeout (s)', min: 1, max: 300 }) * 1000,
    concurrency: readNumber(fields.concurrency, DEFAULTS.concurrency, { name: 'concurrency', min: 1, max: 64 }),
    pageSize: readNumber(fields.pageSize, DEFAULTS.pageSize, { name: 'page size', min: 10, max: 10_000 }),
  };
}

export function readCryptoSpikeSettings(
  fields: CryptoSpikeConfigFields,
  credentials: CryptoSpikeCredentials,
): CryptoSpikeSettings {
  return {
    client: clientOptionsFrom(fields, credentials),
    userIdType: readText(fields.userIdType, DEFAULTS.userIdType),
    unblockValue: readText(fields.unblockValue, DEFAULTS.unblockValue),
    simulate: readBool(fields.simulate, false),
    protectedUsers: readList(fields.protectedUsers),
    stormCap: readNumber(fields.stormCap, DEFAULTS.stormCap, { name: 'storm cap', min: 1, max: 100_000 }),
    approval: readApprovalPolicy(fields),
    memoryMs: readNumber(fields.memorySeconds, DEFAULTS.memorySeconds, { name: 'burst memory (s)', min: 0, max: 86_400 }) * 1000,
  };
}
