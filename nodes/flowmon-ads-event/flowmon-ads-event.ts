// flowmon-ads-event: ADS/IDS lines in, one message per event (1), rejects (2) and one receipt per input (3).
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { AdsEvent } from '../../lib/ads/event';
import { EventFilter, filterReason, makeFilter } from '../../lib/ads/filters';
import {
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_LINE_LENGTH,
  FormatOption,
  ParseOptions,
  parseInput,
} from '../../lib/ads/parse-lines';
import { secretMatches } from '../../lib/ads/secret';
import { hostTimeZone, isValidTimeZone } from '../../lib/ads/time';
import { isUnsetEnv } from '../../lib/config/fields';
import { getIntake, INTAKE_PROPERTY, IntakeRecord } from '../../lib/intake';

interface AdsEventDef extends NodeDef {
  format?: string;
  minPriority?: string;
  includeMethods?: string;
  excludeMethods?: string;
  perspectives?: string;
  timeZone?: string;
  maxLineLength?: number | string;
  maxEvents?: number | string;
}

interface AdsEventCredentials {
  secret?: string;
}

interface Receipt {
  accepted: number;
  rejected: number;
  filtered: number;
  /** Only on 401, 413 and 503. */
  error?: string;
}

const FORMATS: readonly FormatOption[] = ['auto', 'tsv-standard', 'tsv-extended', 'tsv-ids', 'json-ads', 'json-ids', 'cef'];
const SECRET_HEADER = 'x-ads-secret';

export = function (RED: NodeAPI): void {
  function FlowmonAdsEventNode(this: Node<AdsEventCredentials>, config: AdsEventDef): void {
    RED.nodes.createNode(this, config);
    const totals = { accepted: 0, rejected: 0, filtered: 0 };

    const format = (FORMATS as readonly string[]).includes(config.format ?? '') ? (config.format as FormatOption) : 'auto';
    let timeZone = (config.timeZone ?? '').trim() || hostTimeZone();
    if (!isValidTimeZone(timeZone)) {
      this.warn(`unknown time zone "${timeZone}"; reading ADS times in the host's zone ${hostTimeZone()}`);
      timeZone = hostTimeZone();
    }
    const options: ParseOptions = {
      format,
      timeZone,
      maxLineLength: positiveInteger(config.maxLineLength, DEFAULT_MAX_LINE_LENGTH),
      maxEvents: positiveInteger(config.maxEvents, DEFAULT_MAX_EVENTS),
    };
    let filter: EventFilter;
    try {
      filter = makeFilter(config);
    } catch (err) {
      this.warn(`${(err as Error).message}; no minimum priority applied`);
      filter = makeFilter({ ...config, minPriority: '' });
    }

    const showTotals = (fill: 'green' | 'yellow' | 'red', note = '') => {
      const text = `${totals.accepted} accepted / ${totals.rejected} rejected / ${totals.filtered} filtered`;
      this.status({ fill, shape: fill === 'green' ? 'dot' : 'ring', text: note ? `${note} · ${text}` : text });
    };
    showTotals('green');

    // Accepted events are journaled before the receipt leaves, and events a crash left unfinished are sent again
    // once the flows have started (see lib/intake).
    const intake = getIntake(RED as unknown as Parameters<typeof getIntake>[0]);
    const replay = intake?.ledger.takeUnsettled(this.id) ?? [];
    const onFlowsStarted = () => {
      RED.events.removeListener('flows:started', onFlowsStarted);
      if (replay.length === 0) return;
      this.warn(`sending again ${replay.length} event(s) accepted before Node-RED stopped but not finished`);
      for (const record of replay.splice(0)) {
        this.send([replayMessage(record), null, null]);
        intake?.tracker.sent(record.id);
      }
    };
    if (replay.length > 0) RED.events.on('flows:started', onFlowsStarted);
    this.on('close', (_removed: boolean, closed: () => void) => {
      RED.events.removeListener('flows:started', onFlowsStarted);
      closed();
    });

    // A secret given as ${VAR} whose variable is not set fails closed: every request is refused.
    const secretVarUnset = isUnsetEnv(this.credentials?.secret);
    if (secretVarUnset) this.error(`the shared secret is ${this.credentials?.secret}, but that variable is not set: every request is refused (401)`);

    this.on('input', async (msg: NodeMessageInFlow, send, done) => {
      try {
        const secret = this.credentials?.secret;
        if (secretVarUnset) {
          showTotals('red', '401 secret variable not set');
          const error = 'the shared secret of this endpoint is not configured (its environment variable is not set)';
          send([null, null, receipt(msg, 401, { accepted: 0, rejected: 0, filtered: 0, error })]);
          done();
          return;
        }
        if (secret && !secretMatches(secret, requestHeader(msg, SECRET_HEADER))) {
          showTotals('red', '401 wrong or missing secret');
          send([null, null, receipt(msg, 401, { accepted: 0, rejected: 0, filtered: 0, error: 'wrong or missing shared secret' })]);
          done();
          return;
        }
        const outcome = parseInput(msg.payload, options);
        if (outcome.tooLarge) {
          showTotals('red', '413 over the limits');
          send([null, null, receipt(msg, 413, { accepted: 0, rejected: 0, filtered: 0, error: outcome.tooLarge })]);
          done();
          return;
        }
        const events: NodeMessage[] = [];
        let filtered = 0;
        for (const event of outcome.events) {
          if (filterReason(event, filter) === null) events.push(eventMessage(event));
          else filtered++;
        }
        const rejects: NodeMessage[] = outcome.rejects.map((reject) => ({ payload: reject }));
        const counts = { accepted: events.length, rejected: rejects.length, filtered };
        totals.accepted += counts.accepted;
        totals.rejected += counts.rejected;
        totals.filtered += counts.filtered;
        const usable = counts.accepted + counts.filtered > 0;
        let intakeIds: string[] = [];
        try {
          intakeIds = (await intake?.ledger.record(this.id, events.map((m) => m.payload as AdsEvent))) ?? [];
        } catch (err) {
          showTotals('red', '503 journal not writable');
          const error = `events not accepted: the intake journal could not be written (${(err as Error).message})`;
          send([null, null, receipt(msg, 503, { accepted: 0, rejected: 0, filtered: 0, error })]);
          done(new Error(error));
          return;
        }
        intakeIds.forEach((id, i) => ((events[i] as Record<string, unknown>)[INTAKE_PROPERTY] = id));
        showTotals(counts.rejected > 0 ? (usable ? 'yellow' : 'red') : 'green');
        send([events, rejects, receipt(msg, usable ? 202 : 400, counts)]);
        for (const id of intakeIds) intake?.tracker.sent(id);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  }

  RED.nodes.registerType<Node<AdsEventCredentials>, AdsEventDef, unknown, AdsEventCredentials>('flowmon-ads-event', FlowmonAdsEventNode, {
    credentials: { secret: { type: 'password' } },
  });
};

function eventMessage(event: AdsEvent): NodeMessage {
  return { topic: event.source, payload: event };
}

function replayMessage(record: IntakeRecord): NodeMessage {
  return { ...eventMessage(record.event), replayed: true, [INTAKE_PROPERTY]: record.id } as NodeMessage;
}

/** The input message itself (keeping msg.req/msg.res for an HTTP response node) with the counts. */
function receipt(msg: NodeMessageInFlow, statusCode: number, payload: Receipt): NodeMessage {
  const out = msg as NodeMessage & { statusCode?: number };
  out.payload = payload;
  out.statusCode = statusCode;
  return out;
}

function requestHeader(msg: NodeMessageInFlow, name: string): unknown {
  const req = (msg as { req?: { headers?: Record<string, unknown> } }).req;
  return req?.headers?.[name];
}

function positiveInteger(value: number | string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
