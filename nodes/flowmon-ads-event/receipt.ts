// The one answer to each input: counts plus an HTTP status code, sent to the HTTP client and on output 3.
import type { NodeMessage, NodeMessageInFlow } from 'node-red';

export interface Receipt {
  accepted: number;
  rejected: number;
  filtered: number;
  /** Why nothing (400) or not all (401, 413, 500, 503) was taken; absent on 202. */
  error?: string;
}

export interface Answer {
  statusCode: 202 | 400 | 401 | 413 | 500 | 503;
  payload: Receipt;
}

/** An answer for an input of which nothing was used. */
export function refusal(statusCode: Answer['statusCode'], error: string): Answer {
  return { statusCode, payload: { accepted: 0, rejected: 0, filtered: 0, error } };
}

/** Said to the client (and on output 3) when something failed unexpectedly; the details go to the log only. */
export const INTERNAL_ERROR = 'internal error in the ADS event node: the batch was not taken; see the Node-RED log';

/**
 * The receipt of an input message: the message itself (it keeps msg.req/msg.res for an HTTP response node behind a
 * core HTTP in node) with the counts as payload and the status code.
 */
export function receiptOf(msg: NodeMessageInFlow, answer: Answer): NodeMessage {
  const out = msg as NodeMessage & { statusCode?: number };
  out.payload = answer.payload;
  out.statusCode = answer.statusCode;
  return out;
}

/** The receipt of a request to the node's own HTTP endpoint: a new message without request, response or headers. */
export function receiptMessage(answer: Answer): NodeMessage {
  return { payload: answer.payload, statusCode: answer.statusCode } as NodeMessage;
}
