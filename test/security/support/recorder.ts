// An HTTPS server on 127.0.0.1 that records every request (method, URL, headers, body) and answers 404: the
// "URL of their own" an attacker gives the appliance lookups.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../../demo/paths';

export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
}

export class Recorder {
  readonly requests: Recorded[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly fingerprint: string,
  ) {}

  static async start(): Promise<Recorder> {
    const tls = join(repoRoot, 'simulators', 'tls');
    const cert = readFileSync(join(tls, 'localhost.crt'));
    const fingerprint = createHash('sha256').update(new X509Certificate(cert).raw).digest('hex');
    const requests: Recorded[] = [];
    const server = createServer({ cert, key: readFileSync(join(tls, 'localhost.key')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"recorded"}');
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const recorder = new Recorder(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`, fingerprint);
    (recorder as { requests: Recorded[] }).requests = requests;
    return recorder;
  }

  /** Every request as text, with Basic credentials decoded, to search for a secret in. */
  text(): string {
    return this.requests
      .map((r) => {
        const auth = String(r.headers.authorization ?? '');
        const basic = /^Basic\s+(.+)$/i.exec(auth);
        const decoded = basic ? Buffer.from(basic[1], 'base64').toString() : '';
        return `${r.method} ${r.url} ${safeDecode(r.url)}\n${JSON.stringify(r.headers)}\n${decoded}\n${r.body}`;
      })
      .join('\n----\n');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
