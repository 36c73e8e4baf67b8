/**
 * Follows every message that carries an intake id through the flow with Node-RED's message hooks: each delivery
 * (onSend) adds one, each completion (onComplete, i.e. a node's done()) takes one away. When nothing is left in
 * flight the event is settled in the ledger.
 */
import type { IntakeLedger } from './ledger';

export const INTAKE_PROPERTY = '_flowmonIntake';

interface HookMessage {
  [INTAKE_PROPERTY]?: unknown;
}

export interface HooksLike {
  add(id: string, fn: (event: never) => void): void;
  remove(id: string): void;
}

const HOOK_LABEL = 'flowmonResponseIntake';

export class IntakeTracker {
  private readonly inFlight = new Map<string, number>();
  private attachedTo: HooksLike | undefined;

  constructor(private readonly ledger: IntakeLedger) {}

  /** Registers the hooks once per runtime; replaces an earlier tracker's (tests reload the runtime). */
  attach(hooks: HooksLike): void {
    if (this.attachedTo === hooks) return;
    this.attachedTo = hooks;
    for (const hook of ['onSend', 'onComplete']) {
      try {
        hooks.remove(`${hook}.${HOOK_LABEL}`);
      } catch {
        /* not registered yet */
      }
    }
    hooks.add(`onSend.${HOOK_LABEL}`, (events: Array<{ msg: HookMessage }>) => {
      for (const { msg } of events) {
        const id = intakeId(msg);
        if (id !== undefined) this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
      }
    });
    hooks.add(`onComplete.${HOOK_LABEL}`, (event: { msg: HookMessage }) => {
      const id = intakeId(event.msg);
      if (id === undefined || !this.inFlight.has(id)) return;
      const left = (this.inFlight.get(id) as number) - 1;
      if (left > 0) this.inFlight.set(id, left);
      else this.finish(id);
    });
  }

  /** Called right after the parser sent an event: an event no wire took is settled at once. */
  sent(id: string): void {
    if (!this.inFlight.has(id)) this.ledger.settle(id);
  }

  private finish(id: string): void {
    this.inFlight.delete(id);
    this.ledger.settle(id);
  }
}

function intakeId(msg: HookMessage | undefined): string | undefined {
  const id = msg?.[INTAKE_PROPERTY];
  return typeof id === 'string' ? id : undefined;
}
