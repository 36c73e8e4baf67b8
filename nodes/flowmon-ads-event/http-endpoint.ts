// The node's own bounded HTTP endpoint (POST). Node-RED's core HTTP in node reads and parses the whole body before
// any node runs; this one checks the secret and the declared length from the headers alone, then reads the body
// with a running byte cap, and answers every request exactly once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECRET_HEADER } from '../../lib/ads/secret';
import { Answer, INTERNAL_ERROR, refusal } from './receipt';

export interface EndpointHandlers {
  /** A refusal when the X-ADS-Secret header (or the configuration) does not let the request in. */
  authorise(given: unknown): Answer | undefined;
  /** The 413 answer for a body over the limit. */
  tooLarge(reason: string): Answer;
  /** Takes a whole body; calls `reply` once its outputs are sent. */
  take(body: unknown, reply: (answer: Answer) => void): Promise<void>;
  /** The 500 answer after an unexpected error (logged by the handler, never sent to the client). */
  failed(err: unknown, answered: boolean): Answer;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** The parts of an express application (Node-RED's RED.httpNode) the endpoint uses. */
export interface RouteApp {
  post(path: string, handler: Handler): unknown;
  use?(middleware: Middleware): unknown;
  /** Where the app is mounted ('' at the root). */
  path?(): string;
  /** The application it is mounted on. */
  parent?: RouteApp;
}

interface Layer {
  handle?: unknown;
  route?: { stack?: Array<{ handle?: unknown }> };
}

/** Marks a request to this endpoint whose body the parsers in front were told to leave alone. */
const SHIELDED = Symbol('flowmon-ads-intake');

/**
 * Registers `POST path` on the app and returns what removes it again. Only this handler's route is removed: Node-RED's
 * core HTTP in node removes every route with its path, from `app._router.stack` (express 4, Node-RED 4.1); express 5
 * keeps the router as `app.router` (on express 4 that property is a getter that throws).
 */
export function openEndpoint(app: RouteApp, path: string, maxBody: number, handlers: EndpointHandlers): () => void {
  const handler: Handler = (req, res) => handle(req, res, maxBody, handlers);
  app.post(path, handler);
  const unshield = shieldFromBodyParsers(app, path);
  return () => {
    unshield();
    removeLayers(app, (layer) => layer.route?.stack?.some((l) => l.handle === handler) === true);
  };
}

function removeLayers(app: RouteApp, match: (layer: Layer) => boolean): void {
  const stack = routerStack(app);
  if (!stack) return;
  for (let i = stack.length - 1; i >= 0; i--) if (match(stack[i])) stack.splice(i, 1);
}

/**
 * Node-RED mounts its editor's admin application before RED.httpNode, by default on the same root ('/'), and the
 * admin application parses JSON and form bodies (up to 5 MB, and then drains the rest) for every request that passes
 * through it: before the secret could be checked. A middleware at the top of the root application tells those body
 * parsers, for POSTs to this endpoint only, that the body is taken care of (`req._body`, which body-parser honours);
 * Node-RED's own node middleware (httpNodeAuth, httpNodeMiddleware) still runs in front of the endpoint. Core HTTP in
 * nodes put their raw-body middleware at the top of the root application in the same way.
 */
function shieldFromBodyParsers(app: RouteApp, path: string): () => void {
  let root = app;
  while (root.parent) root = root.parent;
  if (root === app || typeof root.use !== 'function') return () => undefined;
  const target = normalisePath(`${app.path?.() ?? ''}${path}`);
  const shield: Middleware = (req, _res, next) => {
    if (req.method === 'POST' && normalisePath((req.url ?? '').split('?')[0]) === target) {
      const flagged = req as IncomingMessage & { _body?: boolean; [SHIELDED]?: boolean };
      if (!flagged._body) {
        flagged._body = true;
        flagged[SHIELDED] = true;
      }
    }
    next();
  };
  root.use(shield);
  const stack = routerStack(root);
  const at = stack?.findIndex((layer) => layer.handle === shield) ?? -1;
  if (stack && at > 0) stack.unshift(...stack.splice(at, 1));
  return () => removeLayers(root, (layer) => layer.handle === shield);
}

/** Express matches paths case-insensitively and with or without a trailing slash. */
function normalisePath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURI(path);
  } catch {
    /* matched as sent */
  }
  return decoded.replace(/\/{2,}/g, '/').replace(/\/$/, '').toLowerCase();
}

function routerStack(app: RouteApp): Layer[] | undefined {
  const express4 = (app as { _router?: { stack?: Layer[] } })._router;
  if (Array.isArray(express4?.stack)) return express4.stack;
  try {
    const express5 = (app as { router?: { stack?: Layer[] } }).router;
    return Array.isArray(express5?.stack) ? express5.stack : undefined;
  } catch {
    return undefined;
  }
}

function handle(req: IncomingMessage, res: ServerResponse, maxBody: number, handlers: EndpointHandlers): void {
  let answered = false;
  /** The one answer. `close`: the body was not read; the connection is closed so the client cannot push it. */
  const reply = (answer: Answer, close = false): void => {
    if (answered) return;
    answered = true;
    if (res.headersSent || res.destroyed) return;
    if (close) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
    }
    res.statusCode = answer.statusCode;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(answer.payload));
  };
  const fail = (err: unknown): void => {
    let answer: Answer;
    try {
      answer = handlers.failed(err, answered);
    } catch {
      answer = refusal(500, INTERNAL_ERROR);
    }
    reply(answer, !req.readableEnded);
  };
  try {
    const refused = handlers.authorise(req.headers[SECRET_HEADER]);
    if (refused) {
      reply(refused, true);
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      reply(handlers.tooLarge(`a body of ${declared} bytes is over the limit of ${maxBody} bytes`), true);
      return;
    }
    readBody(req, maxBody, (result) => {
      // Called from the request's events: nothing may throw out of here.
      try {
        if (result.tooLarge) {
          reply(handlers.tooLarge(`the body passed the limit of ${maxBody} bytes`), true);
          return;
        }
        if (result.aborted) return; // the client went away: nobody to answer, nothing taken
        handlers.take(result.body, (answer) => reply(answer)).catch(fail);
      } catch (err) {
        fail(err);
      }
    });
  } catch (err) {
    fail(err);
  }
}

interface BodyResult {
  body?: unknown;
  tooLarge?: boolean;
  aborted?: boolean;
}

/**
 * Reads the body with a running count of its bytes (chunked bodies too) and stops reading the moment it passes `max`.
 * A body some middleware already read is taken as it is.
 */
function readBody(req: IncomingMessage, max: number, done: (result: BodyResult) => void): void {
  const parsed = req as IncomingMessage & { _body?: boolean; body?: unknown; [SHIELDED]?: boolean };
  if ((parsed._body && !parsed[SHIELDED]) || req.readableEnded) {
    const body = parsed.body;
    const size = typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : 0;
    done(size > max ? { tooLarge: true } : { body: body ?? '' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: BodyResult): void => {
    if (finished) return;
    finished = true;
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('error', onAbort);
    req.removeListener('close', onClose);
    if (result.tooLarge) req.pause();
    done(result);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > max) finish({ tooLarge: true });
    else chunks.push(chunk);
  };
  const onEnd = (): void => finish({ body: Buffer.concat(chunks, size) });
  const onAbort = (): void => finish({ aborted: true });
  const onClose = (): void => {
    if (!req.complete) onAbort();
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onAbort);
  req.on('close', onClose);
}
