import { ApplianceHttp } from '../http/appliance-http';
import { DEFAULT_RETRY } from '../http/retry';
import type { MitigationKey } from '../mitigation/types';
import { PacedQueue } from '../pacing/paced-queue';
import { HoldGate } from '../safety/hold-gate';
import { StormCap } from '../safety/storm-cap';
import { LoadMasterClient } from './client';
import { buildProtection } from './protection';
import { LoadMasterService } from './service';
import type { LoadMasterSettings } from './settings';

/** Calls in flight at once to one LoadMaster (and keep-alive connections in its pool). */
const CONCURRENCY = 4;

export interface LoadMasterConnection {
  client: LoadMasterClient;
  /** Refuses queued calls and closes the connection pool. */
  close(): Promise<void>;
}

/** One paced queue and one keep-alive pool for one LoadMaster. */
export function connectLoadMaster(settings: LoadMasterSettings, configId?: string): LoadMasterConnection {
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
  context: { configId: string; isActive?: (key: MitigationKey) => boolean },
): LoadMasterRuntime {
  const connection = connectLoadMaster(settings, context.configId);
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
    holdGate: new HoldGate(new StormCap(settings.stormCap, 60_000), settings.approval),
    simulate: settings.simulate,
    ipv6Prefix: settings.ipv6Prefix,
    isActive: context.isActive,
  });
  return {
    service,
    warnings: protection.then((p) => p.warnings),
    close: connection.close,
  };
}
