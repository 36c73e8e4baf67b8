import { createHash } from 'node:crypto';
import { ApplianceHttp } from '../http/appliance-http';
import { DEFAULT_RETRY } from '../http/retry';
import type { MitigationKey } from '../mitigation/types';
import { PacedQueue } from '../pacing/paced-queue';
import { HoldGate } from '../safety/hold-gate';
import { StormCap } from '../safety/storm-cap';
import type { AddClaims, SharedBudgets } from '../store/types';
import { LoadMasterClient } from './client';
import { buildProtection } from './protection';
import { LoadMasterService } from './service';
import type { LoadMasterSettings } from './settings';

/** Calls in flight at once to one LoadMaster (and keep-alive connections in its pool). */
const CONCURRENCY = 4;
/** The storm gate counts new blocks per minute. */
const STORM_WINDOW_MS = 60_000;

/**
 * The name of a LoadMaster's shared call budget: by its base URL, because the appliance counts the calls of every
 * client together (every instance and every config node pointing at it). Hashed: the name is stored and logged.
 */
export function loadMasterCallBudgetName(url: string): string {
  const base = new URL(url).origin;
  return `loadmaster-calls:${createHash('sha256').update(base).digest('hex').slice(0, 16)}`;
}

export interface LoadMasterConnection {
  client: LoadMasterClient;
  /** Refuses queued calls and closes the connection pool. */
  close(): Promise<void>;
}

/**
 * One paced queue and one keep-alive pool for one LoadMaster; with `budgets` (a shared store) its calls also count
 * against the budget every instance shares for that LoadMaster.
 */
export function connectLoadMaster(settings: LoadMasterSettings, configId?: string, budgets?: SharedBudgets): LoadMasterConnection {
  const http = new ApplianceHttp({
    baseUrl: settings.url,
    tls: settings.tls,
    connectTimeoutMs: settings.timeoutMs,
    requestTimeoutMs: settings.timeoutMs,
    connections: CONCURRENCY,
  });
  const queue = new PacedQueue({
    maxCalls: settings.rateCalls,
    windowMs: settings.rateWindowMs,
    concurrency: CONCURRENCY,
    maxQueued: settings.maxQueued,
    budget: budgets?.budget(loadMasterCallBudgetName(settings.url), settings.rateCalls, settings.rateWindowMs),
    // A call may wait at the arrival gate (one window), then connect and answer (a timeout each).
    callMs: 2 * settings.timeoutMs + settings.rateWindowMs,
  });
  const client = new LoadMasterClient({
    http,
    queue,
    auth: settings.auth,
    retry: { ...DEFAULT_RETRY, attempts: settings.attempts },
    outageRetryMs: settings.outageRetryMs,
    arrivalLimit: { maxCalls: settings.rateCalls, windowMs: settings.rateWindowMs },
    configId,
  });
  return {
    client,
    async close() {
      queue.close();
      await http.close();
    },
  };
}

export interface LoadMasterRuntime {
  service: LoadMasterService;
  /** Warnings found while resolving the protected networks (resolves once they are known). */
  warnings: Promise<string[]>;
  close(): Promise<void>;
}

export function createLoadMasterRuntime(
  settings: LoadMasterSettings,
  context: {
    configId: string;
    isActive?: (key: MitigationKey) => boolean;
    /** From a shared store: the LoadMaster's call budget and this configuration's storm gate count for every instance. */
    budgets?: SharedBudgets;
    claims?: AddClaims;
  },
): LoadMasterRuntime {
  const connection = connectLoadMaster(settings, context.configId, context.budgets);
  const stormBudget = context.budgets?.budget(`storm:${context.configId}`, settings.stormCap, STORM_WINDOW_MS);
  const protection = buildProtection({
    neverBlock: settings.neverBlock,
    applianceHost: settings.host,
    protectHost: settings.protectHost,
  });
  // Requests see a rejected protection (an invalid never-block entry) as a failure; avoid an unhandled rejection.
  protection.catch(() => undefined);
  const service = new LoadMasterService({
    configId: context.configId,
    client: connection.client,
    protection,
    holdGate: new HoldGate(new StormCap(settings.stormCap, STORM_WINDOW_MS, { budget: stormBudget }), settings.approval),
    simulate: settings.simulate,
    ipv6Prefix: settings.ipv6Prefix,
    isActive: context.isActive,
    claims: context.claims,
  });
  return {
    service,
    warnings: protection.then((p) => p.warnings),
    close: connection.close,
  };
}
