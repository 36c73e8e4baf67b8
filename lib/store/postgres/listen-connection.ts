import type { Client, Notification } from 'pg';

const RECONNECT_FIRST_MS = 200;
const RECONNECT_MAX_MS = 2_000;
/** A silent network never ends a connection that only listens: a ping finds out. */
const PING_MS = 10_000;

type PayloadListener = (payload: string) => void;

/**
 * One client for every LISTEN of a PgConnection. After any error or end it connects again (backoff 200 ms doubling to
 * 2 s), listens on every channel again and calls `onResync`: notifications sent meanwhile are lost.
 */
export class ListenConnection {
  private readonly channels = new Map<string, Set<PayloadListener>>();
  private client: Client | undefined;
  private listening = new Set<string>();
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private backoff = RECONNECT_FIRST_MS;
  /** A connection failed or ended since the last one was made: notifications may have been missed. */
  private missed = false;
  private closed = false;

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly options: { log: { warn(msg: string): void }; onConnected(): void; onResync(): void },
  ) {}

  async listen(channel: string, onPayload: PayloadListener): Promise<boolean> {
    const listeners = this.channels.get(channel) ?? new Set<PayloadListener>();
    listeners.add(onPayload);
    this.channels.set(channel, listeners);
    if (!this.client) await this.open();
    const client = this.client;
    if (!client) return false;
    if (this.listening.has(channel)) return true;
    try {
      await client.query(`LISTEN ${channel}`);
      this.listening.add(channel);
      return true;
    } catch {
      this.drop(client);
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private open(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.connecting ??= this.attempt().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    let client: Client;
    try {
      client = await this.connect();
    } catch {
      this.scheduleReconnect();
      return;
    }
    client.on('notification', (msg) => this.deliver(msg));
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    const listening = new Set<string>();
    try {
      for (const channel of this.channels.keys()) {
        await client.query(`LISTEN ${channel}`);
        listening.add(channel);
      }
    } catch {
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.listening = listening;
    this.backoff = RECONNECT_FIRST_MS;
    this.ping = setInterval(() => client.query('SELECT 1').catch(() => this.drop(client)), PING_MS).unref();
    this.options.onConnected();
    if (this.missed) {
      this.missed = false;
      this.options.onResync();
    }
  }

  private drop(client: Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    clearInterval(this.ping);
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.missed = true;
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.open();
    }, this.backoff).unref();
    this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
  }

  private deliver(msg: Notification): void {
    for (const listener of this.channels.get(msg.channel) ?? []) {
      try {
        listener(msg.payload ?? '');
      } catch (err) {
        this.options.log.warn(`a listener of ${msg.channel} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
