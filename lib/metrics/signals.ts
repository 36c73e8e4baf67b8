/**
 * What the runtime parts of the package tell the observability plugin about, without depending on it: receipts of
 * the ADS node, each HTTP call to an appliance, and results of the appliance nodes that never reach the registry
 * (refused, failed). One process-wide emitter; a part that signals needs no listener and pays nothing without one.
 * It imports nothing but types and the appliance error classes, so any part of the package can use it.
 */
import { EventEmitter } from 'node:events';
import type { AdsEvent } from '../ads/event';
import { ApplianceConnectionError, ApplianceTlsError } from '../http/errors';
import type { ApplianceKind, Mitigation } from '../mitigation/types';

/** ADS intake outcomes: events (accepted, rejected, filtered) and whole inputs refused (unauthorized, too_large). */
export type IntakeOutcome = 'accepted' | 'rejected' | 'filtered' | 'unauthorized' | 'too_large';
export const INTAKE_OUTCOMES: readonly IntakeOutcome[] = ['accepted', 'rejected', 'filtered', 'unauthorized', 'too_large'];

/** `ok`: the appliance answered success; `error`: it answered an error; `unreachable`: no answer (connection, TLS, timeout). */
export type CallResult = 'ok' | 'error' | 'unreachable';

export interface ApplianceCall {
  configId: string;
  kind: ApplianceKind;
  /** A short fixed name: add, remove, list, list-vs, file-activity, search-users, set-access, login. */
  operation: string;
  result: CallResult;
  seconds: number;
}

export interface MitigationSignal {
  mitigation: Mitigation;
  /** The ADS event behind it, when the input was one. */
  event: AdsEvent | null;
}

export interface SignalEvents {
  intake: [outcome: IntakeOutcome, count: number];
  'appliance-call': [call: ApplianceCall];
  mitigation: [signal: MitigationSignal];
}

class Signals extends EventEmitter<SignalEvents> {}

export const signals = new Signals();
signals.setMaxListeners(0);

/** The ADS node counted `count` of `outcome` (nothing is emitted for 0). */
export function signalIntake(outcome: IntakeOutcome, count = 1): void {
  if (count > 0) signals.emit('intake', outcome, count);
}

/** The LoadMaster or CryptoSpike client made one HTTP call (each retry is a call). */
export function signalApplianceCall(call: ApplianceCall): void {
  if (call.configId) signals.emit('appliance-call', call);
}

/** Times one call: `classify` names the result from the error (undefined: success). */
export async function timeApplianceCall<T>(
  call: Omit<ApplianceCall, 'result' | 'seconds'>,
  run: () => Promise<T>,
  classify: (err: unknown) => CallResult,
  resultOf: (value: T) => CallResult = () => 'ok',
): Promise<T> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const value = await run();
    signalApplianceCall({ ...call, result: resultOf(value), seconds: seconds() });
    return value;
  } catch (err) {
    signalApplianceCall({ ...call, result: classify(err), seconds: seconds() });
    throw err;
  }
}

/** An appliance node's result (output 1 or 2), with the event it answered. */
export function signalMitigation(mitigation: Mitigation, event: AdsEvent | null): void {
  if (signals.listenerCount('mitigation') > 0) signals.emit('mitigation', { mitigation, event });
}

/** A failed call: `unreachable` when no answer came (connection, TLS), otherwise `error`. */
export function classifyCallError(err: unknown): CallResult {
  return err instanceof ApplianceConnectionError || err instanceof ApplianceTlsError ? 'unreachable' : 'error';
}

/** An HTTP reply that came back: an error status is an `error`. */
export function replyResult(reply: { status: number }): CallResult {
  return reply.status >= 400 ? 'error' : 'ok';
}
