// Streams a large request body from a generator (the test never holds it), stopping as soon as an answer or a
// closed connection arrives, and says how far it got.
import { request } from 'node:http';

export interface StreamResult {
  status: number;
  text: string;
  /** Body bytes written when the answer (or the close) came. */
  sentBytes: number;
  totalBytes: number;
  ms: number;
  /** The connection closed before any answer. */
  closed: boolean;
  error?: string;
}

export interface StreamOptions {
  url: string;
  headers: Record<string, string>;
  chunks: () => Iterable<Buffer>;
  totalBytes: number;
  /** Send Content-Length (else chunked). */
  contentLength: boolean;
  timeoutMs?: number;
}

export function streamPost(options: StreamOptions): Promise<StreamResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    let sentAtAnswer = -1;
    const headers = { ...options.headers, ...(options.contentLength ? { 'Content-Length': String(options.totalBytes) } : { 'Transfer-Encoding': 'chunked' }) };
    const req = request(options.url, { method: 'POST', headers });
    const finish = (result: Omit<StreamResult, 'ms' | 'totalBytes' | 'sentBytes'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...result, sentBytes: sentAtAnswer >= 0 ? sentAtAnswer : sent, totalBytes: options.totalBytes, ms: performance.now() - started });
      req.destroy();
    };
    const timer = setTimeout(() => finish({ status: 0, text: '', closed: false, error: `no answer within ${options.timeoutMs ?? 60000} ms` }), options.timeoutMs ?? 60000);
    req.on('response', (res) => {
      sentAtAnswer = sent;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString(), closed: false }));
      res.on('error', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString(), closed: false }));
    });
    req.on('error', (err) => finish({ status: 0, text: '', closed: true, error: err.message }));
    req.on('close', () => setTimeout(() => finish({ status: 0, text: '', closed: true, error: 'closed' }), 200));
    const write = async () => {
      for (const chunk of options.chunks()) {
        if (done || sentAtAnswer >= 0 || req.destroyed) return;
        sent += chunk.length;
        if (!req.write(chunk)) {
          await new Promise<void>((ok) => {
            const go = () => {
              req.off('drain', go);
              req.off('close', go);
              ok();
            };
            req.on('drain', go);
            req.on('close', go);
          });
        }
      }
      if (!done && sentAtAnswer < 0 && !req.destroyed) req.end();
    };
    // Headers first: an endpoint that refuses by the headers (no secret, Content-Length over the limit) can answer
    // before a byte of the body is on the wire, which also avoids a reset racing the answer.
    req.flushHeaders();
    setTimeout(() => void write(), 300);
  });
}

/** `total` bytes of `unit` repeated, in chunks of about 1 MiB. */
export function* repeatBytes(unit: string, total: number): Generator<Buffer> {
  const perChunk = Math.max(1, Math.floor((1 << 20) / unit.length));
  const chunk = Buffer.from(unit.repeat(perChunk));
  let left = total;
  while (left > 0) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= part.length;
    yield part;
  }
}
