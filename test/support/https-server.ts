import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const TLS_DIR = join(__dirname, '..', '..', 'simulators', 'tls');
export const simulatorCert = () => readFileSync(join(TLS_DIR, 'localhost.crt'), 'utf8');
export const simulatorKey = () => readFileSync(join(TLS_DIR, 'localhost.key'), 'utf8');
export const simulatorCa = () => readFileSync(join(TLS_DIR, 'ca.crt'), 'utf8');

/** An HTTPS server on 127.0.0.1 with the simulator certificate; resolves with its base URL. */
export async function startHttpsServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer({ cert: simulatorCert(), key: simulatorKey() }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
