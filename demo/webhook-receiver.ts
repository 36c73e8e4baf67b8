// A stand-in for a chat's incoming webhook (Slack, Teams, Telegram, …) on 127.0.0.1: it takes the questions the
// example "Ask a person before blocking" POSTs for held blocks, keeps them, and hands each to a callback.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A question as the example's "question" node builds it. */
export interface Question {
  text: string;
  id: string;
  target: string;
  label?: string;
  reason: string;
  event?: { id: string | null; method: string; priority: string | null; description: string; source: string } | null;
  candidates?: Array<{ userId: string; username: string | null; activityCount: number }>;
  decideBy: string;
  onTimeout: string;
  approve: { method: string; url: string; body: { id: string; action: 'approve' } };
  discard: { method: string; url: string; body: { id: string; action: 'discard' } };
}

export interface WebhookReceiver {
  /** POST here (DECISION_WEBHOOK_URL). */
  url: string;
  questions: Question[];
  /** Requests refused (not POST, too large, not a JSON object). */
  refused: number;
  close(): Promise<void>;
}

/** A question is a small JSON object; anything larger is refused before it is read in full. */
export const MAX_QUESTION_BYTES = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_QUESTION_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

function isQuestion(v: unknown): v is Question {
  const q = v as Partial<Question> | null;
  return !!q && typeof q === 'object' && typeof q.id === 'string' && typeof q.text === 'string' && !!q.approve && !!q.discard;
}

export async function startWebhookReceiver(onQuestion: (q: Question) => void = () => undefined): Promise<WebhookReceiver> {
  const receiver = { questions: [] as Question[], refused: 0 };
  const answer = (res: ServerResponse, code: number, body: string): void => {
    res.writeHead(code, { 'Content-Type': 'application/json' }).end(body);
  };
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      receiver.refused++;
      return answer(res, 405, '{"ok":false}');
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_QUESTION_BYTES) {
      receiver.refused++;
      return answer(res, 413, '{"ok":false}');
    }
    void readBody(req).then((text) => {
      let parsed: unknown = null;
      try {
        parsed = text === null ? null : JSON.parse(text);
      } catch {
        parsed = null;
      }
      if (!isQuestion(parsed)) {
        receiver.refused++;
        return answer(res, text === null ? 413 : 400, '{"ok":false}');
      }
      receiver.questions.push(parsed);
      onQuestion(parsed);
      answer(res, 200, '{"ok":true}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/webhook`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  });
}
