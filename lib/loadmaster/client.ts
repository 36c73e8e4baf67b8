import type { ApplianceHttp } from '../http/appliance-http';
import { ApplianceConnectionError } from '../http/errors';
import { DEFAULT_RETRY, RetryOptions, sleep, withRetry } from '../http/retry';
import { classifyCallError, timeApplianceCall } from '../metrics/signals';
import type { LoadMasterList, LoadMasterScope } from '../mitigation/types';
import type { PacedQueue } from '../pacing/paced-queue';
import { ArrivalGate } from './arrival-gate';
import { LoadMasterAuthKind, LoadMasterError, redact } from './errors';
import { AclEntry, VirtualService, normaliseCidr, parseAclEntries, parseVirtualServices } from './reply';

export type LoadMasterAuth = { apiKey: string } | { user: string; pass: string };

export interface LoadMasterClientOptions {
  http: ApplianceHttp;
  auth: LoadMasterAuth;
  /** Every API call to this appliance (each retry attempt included) goes through this queue. */
  queue: PacedQueue;
  retry?: RetryOptions;
  /**
   * While the LoadMaster is unreachable (refused, reset, timed out), a call whose retries are spent is tried again
   * every `retry.maxDelayMs` until this long after its first attempt (default 0: no waiting beyond the retries).
   */
  outageRetryMs?: number;
  /** The appliance's own limit as the client keeps it at arrival (see ArrivalGate); none when omitted. */
  arrivalLimit?: { maxCalls: number; windowMs: number };
  /** The config node's id: each call is then signalled for the metrics (see lib/metrics/signals). */
  configId?: string;
}

export const MAX_COMMENT_LENGTH = 127;

type Fields = Record<string, string>;

/**
 * The LoadMaster APIv2 access-list client: `POST /accessv2` with `cmd: "aclcontrol"`. Adds and removes are
 * idempotent by listing: when the appliance refuses one, a list call decides whether the address is already in
 * the desired state. Never returns or logs credentials.
 */
export class LoadMasterClient {
  private readonly http: ApplianceHttp;
  private readonly queue: PacedQueue;
  private readonly retry: RetryOptions;
  private readonly authFields: Fields;
  private readonly authKind: LoadMasterAuthKind;
  private readonly secrets: string[];
  private readonly gate: ArrivalGate | null;
  private readonly outageRetryMs: number;
  private readonly configId: string;

  constructor(options: LoadMasterClientOptions) {
    this.http = options.http;
    this.queue = options.queue;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.outageRetryMs = options.outageRetryMs ?? 0;
    this.configId = options.configId ?? '';
    this.gate = options.arrivalLimit ? new ArrivalGate(options.arrivalLimit.maxCalls, options.arrivalLimit.windowMs) : null;
    if ('apiKey' in options.auth) {
      this.authFields = { apikey: options.auth.apiKey };
      this.authKind = 'apikey';
      this.secrets = [options.auth.apiKey];
    } else {
      this.authFields = { apiuser: options.auth.user, apipass: options.auth.pass };
      this.authKind = 'user';
      this.secrets = [options.auth.pass];
    }
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  async list(list: LoadMasterList, scope: LoadMasterScope, priority = 0): Promise<AclEntry[]> {
    const fields: Fields = scope === 'global' ? { list } : { listvs: list, vs: scope.vs };
    return parseAclEntries(await this.call({ cmd: 'aclcontrol', ...fields }, priority));
  }

  async add(
    list: LoadMasterList,
    scope: LoadMasterScope,
    cidr: string,
    comment: string,
    priority = 0,
  ): Promise<'added' | 'already-present'> {
    const fields = this.editFields('add', list, scope, cidr);
    if (comment) fields.comment = comment.slice(0, MAX_COMMENT_LENGTH);
    const confirmed = await this.editConfirmedByListing(fields, list, scope, cidr, true, priority);
    return confirmed ? 'already-present' : 'added';
  }

  async remove(
    list: LoadMasterList,
    scope: LoadMasterScope,
    cidr: string,
    priority = 0,
  ): Promise<'removed' | 'already-absent'> {
    const fields = this.editFields('del', list, scope, cidr);
    const confirmed = await this.editConfirmedByListing(fields, list, scope, cidr, false, priority);
    return confirmed ? 'already-absent' : 'removed';
  }

  async listVirtualServices(priority = 0): Promise<VirtualService[]> {
    return parseVirtualServices(await this.call({ cmd: 'listvs' }, priority));
  }

  /** Proves URL, TLS, credentials, API switch and permissions with one harmless read. */
  async testConnection(): Promise<{ message: string }> {
    const entries = await this.list('block', 'global', 10);
    return { message: `connected: the global block list holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}` };
  }

  private editFields(verb: 'add' | 'del', list: LoadMasterList, scope: LoadMasterScope, cidr: string): Fields {
    const addr = normaliseCidr(cidr);
    if (!addr || !cidr.includes('/')) throw new Error(`"${cidr}" is not an explicit CIDR`);
    return scope === 'global'
      ? { cmd: 'aclcontrol', [verb]: list, addr }
      : { cmd: 'aclcontrol', [`${verb}vs`]: list, vs: scope.vs, addr };
  }

  /**
   * Runs an add or del. When the LoadMaster refuses it, lists the scope: if the address already is where the
   * call wanted it (present after an add, absent after a del) that is success (returns true); otherwise the
   * original error is thrown.
   */
  private async editConfirmedByListing(
    fields: Fields,
    list: LoadMasterList,
    scope: LoadMasterScope,
    cidr: string,
    wantPresent: boolean,
    priority: number,
  ): Promise<boolean> {
    try {
      await this.call(fields, priority);
      return false;
    } catch (err) {
      if (!(err instanceof LoadMasterError) || !err.confirmableByListing) throw err;
      const target = fields.addr;
      const present = (await this.list(list, scope, priority)).some((entry) => entry.cidr === target);
      if (present === wantPresent) return true;
      throw err;
    }
  }

  /** A block asked for during a short outage is applied when the LoadMaster is back, instead of being lost. */
  private async call(fields: Fields, priority: number): Promise<Record<string, unknown>> {
    const started = Date.now();
    for (;;) {
      try {
        const call = { configId: this.configId, kind: 'loadmaster' as const, operation: operationOf(fields) };
        const once = () => timeApplianceCall(call, () => this.callOnce(fields), classifyCallError);
        return await withRetry(() => this.queue.run(once, priority), this.retry);
      } catch (err) {
        if (!(err instanceof ApplianceConnectionError) || Date.now() - started >= this.outageRetryMs) throw err;
        await sleep(this.retry.maxDelayMs);
      }
    }
  }

  private async callOnce(fields: Fields): Promise<Record<string, unknown>> {
    const finished = this.gate ? await this.gate.enter() : () => undefined;
    let reply;
    try {
      reply = await this.http.request('POST', '/accessv2', { body: { ...fields, ...this.authFields } });
    } finally {
      finished();
    }
    const body = reply.json && typeof reply.json === 'object' ? (reply.json as Record<string, unknown>) : undefined;
    const bodyCode = Number(body?.code);
    const status = reply.status === 200 && body?.status !== 'ok' && bodyCode >= 400 ? bodyCode : reply.status;
    if (reply.status < 300 && body?.status === 'ok') return body;
    const message = typeof body?.message === 'string' ? body.message : reply.status >= 300 ? '' : 'reply without status "ok"';
    throw new LoadMasterError(status, redact(message, this.secrets), this.authKind, body);
  }
}

/** The operation of an API call, for the metrics: add, remove, list or list-vs. */
function operationOf(fields: Fields): string {
  if (fields.cmd === 'listvs') return 'list-vs';
  if ('add' in fields || 'addvs' in fields) return 'add';
  if ('del' in fields || 'delvs' in fields) return 'remove';
  return 'list';
}
