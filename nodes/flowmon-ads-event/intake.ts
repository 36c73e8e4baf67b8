// The one code path of every input, from the node's own HTTP endpoint or from a message: the shared-secret gate,
// then parse, filter, journal, and the outputs with their receipt.
import type { Node, NodeMessage } from 'node-red';
import { AdsEvent } from '../../lib/ads/event';
import { filterReason } from '../../lib/ads/filters';
import { LineReject, parseInput } from '../../lib/ads/parse-lines';
import { readSecret, SecretSetting, secretMatches } from '../../lib/ads/secret';
import { Intake, INTAKE_PROPERTY } from '../../lib/intake';
import { signalIntake } from '../../lib/metrics/signals';
import { isStoreUnavailable } from '../../lib/store';
import { Answer, refusal } from './receipt';
import { AdsEventSettings } from './settings';

/** Events (output 1) and rejects (output 2) of one input, sent together with its receipt. */
export type Emit = (events: NodeMessage[], rejects: NodeMessage[], answer: Answer) => void;

export interface Taken {
  answer: Answer;
  /** The journal failed (503): for a Catch node. */
  failure?: Error;
}

type Fill = 'green' | 'yellow' | 'red';

export const STORE_UNREACHABLE = 'events not accepted: the shared store (PostgreSQL) cannot be reached; send again later';

export class AdsIntake {
  private readonly totals = { accepted: 0, rejected: 0, filtered: 0 };
  private readonly secret: SecretSetting;
  private missingSecretLogged = false;

  constructor(
    private readonly node: Node,
    private readonly settings: AdsEventSettings,
    configuredSecret: unknown,
    private readonly journal: Intake | undefined,
  ) {
    this.secret = readSecret(configuredSecret);
    // Said once, at deploy: a secret given as ${VAR} whose variable is not set, or an endpoint without a secret.
    if (this.secret.kind === 'unset-variable') {
      node.error(`the shared secret is ${this.secret.name}, but that variable is not set: every request is refused (401)`);
    } else if (this.secret.kind === 'none' && settings.path) this.logMissingSecret();
    this.showTotals('green');
  }

  /**
   * The secret gate, before anything else is looked at. An HTTP request (the endpoint's, or a message carrying
   * msg.req) needs a configured secret and that secret in X-ADS-Secret; without a secret configured every HTTP request
   * is refused. Other messages (UDP syslog, inject) pass when no secret is configured.
   */
  authorise(http: boolean, given: unknown): Answer | undefined {
    const secret = this.secret;
    if (secret.kind === 'unset-variable') {
      this.showTotals('red', '401 secret variable not set');
      signalIntake('unauthorized');
      return refusal(401, 'the shared secret of this endpoint is not configured (its environment variable is not set)');
    }
    if (secret.kind === 'none') {
      if (!http) return undefined;
      this.logMissingSecret();
      this.showTotals('red', '401 no secret configured');
      signalIntake('unauthorized');
      return refusal(401, 'this endpoint has no shared secret configured: every HTTP request is refused');
    }
    if (secretMatches(secret.value, given)) return undefined;
    this.showTotals('red', '401 wrong or missing secret');
    signalIntake('unauthorized');
    return refusal(401, 'wrong or missing shared secret');
  }

  /** The 413 of an HTTP body over Max. body. */
  bodyTooLarge(reason: string): Answer {
    this.showTotals('red', '413 over the limits');
    signalIntake('too_large');
    return refusal(413, reason);
  }

  /** Parses, filters and journals one input; `emit` is called exactly once, with its outputs and receipt. */
  async take(payload: unknown, emit: Emit): Promise<Taken> {
    const outcome = parseInput(payload, this.settings.options);
    if (outcome.tooLarge) {
      const answer = this.bodyTooLarge(outcome.tooLarge);
      emit([], [], answer);
      return { answer };
    }
    const events: NodeMessage[] = [];
    let filtered = 0;
    for (const event of outcome.events) {
      if (filterReason(event, this.settings.filter) === null) events.push(eventMessage(event));
      else filtered++;
    }
    const rejects: NodeMessage[] = outcome.rejects.map((reject) => ({ payload: reject }));
    const counts = { accepted: events.length, rejected: rejects.length, filtered };
    this.totals.accepted += counts.accepted;
    this.totals.rejected += counts.rejected;
    this.totals.filtered += counts.filtered;
    const usable = counts.accepted + counts.filtered > 0;
    let intakeIds: string[] = [];
    try {
      intakeIds = (await this.journal?.ledger.record(this.node.id, events.map((m) => m.payload as AdsEvent))) ?? [];
    } catch (err) {
      const answer = this.notStored(err);
      emit([], [], answer);
      return { answer, failure: new Error(answer.payload.error) };
    }
    intakeIds.forEach((id, i) => ((events[i] as Record<string, unknown>)[INTAKE_PROPERTY] = id));
    this.showTotals(counts.rejected > 0 ? (usable ? 'yellow' : 'red') : 'green');
    for (const outcome of ['accepted', 'rejected', 'filtered'] as const) signalIntake(outcome, counts[outcome]);
    const answer: Answer = usable ? { statusCode: 202, payload: counts } : { statusCode: 400, payload: { ...counts, error: noEventReason(outcome.rejects) } };
    emit(events, rejects, answer);
    for (const id of intakeIds) this.journal?.tracker.sent(id);
    return { answer };
  }

  /** The 503 of events that could not be stored: the shared store unreachable, or the journal not writable. */
  private notStored(err: unknown): Answer {
    if (isStoreUnavailable(err)) {
      this.showTotals('red', '503 store unreachable');
      return refusal(503, STORE_UNREACHABLE);
    }
    this.showTotals('red', '503 journal not writable');
    return refusal(503, `events not accepted: the intake journal could not be written (${(err as Error).message})`);
  }

  failed(): void {
    this.showTotals('red', '500 internal error');
  }

  private logMissingSecret(): void {
    if (this.missingSecretLogged) return;
    this.missingSecretLogged = true;
    this.node.error('no shared secret is configured: every HTTP request is refused (401) until one is set');
  }

  private showTotals(fill: Fill, note = ''): void {
    const { accepted, rejected, filtered } = this.totals;
    const text = `${accepted} accepted / ${rejected} rejected / ${filtered} filtered`;
    this.node.status({ fill, shape: fill === 'green' ? 'dot' : 'ring', text: note ? `${note} · ${text}` : text });
  }
}

/** Why an input gave no event: its first reject's reason (with its line), and how many lines were rejected. */
function noEventReason(rejects: LineReject[]): string {
  const [first] = rejects;
  if (!first) return 'no event lines';
  const where = first.lineNumber > 0 ? `line ${first.lineNumber}: ` : '';
  const more = rejects.length > 1 ? ` (and ${rejects.length - 1} more rejected line(s))` : '';
  return `no usable event: ${where}${first.reason}${more}`;
}

export function eventMessage(event: AdsEvent): NodeMessage {
  return { topic: event.source, payload: event };
}
