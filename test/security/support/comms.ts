// The editor's websocket (/comms) as a logged-in user sees it: debug sidebar messages, node status, notifications.
import type { SecureNodeRed, UserName } from './secure-node-red';

const WebSocket = require('ws') as new (url: string) => {
  on(event: 'open' | 'close', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  send(text: string): void;
  close(): void;
};

export interface CommsMessage {
  topic: string;
  data: unknown;
}

export class CommsListener {
  readonly messages: CommsMessage[] = [];
  private constructor(private readonly socket: InstanceType<typeof WebSocket>) {}

  static async connect(nr: SecureNodeRed, user: UserName): Promise<CommsListener> {
    const token = await nr.token(user);
    const socket = new WebSocket(`ws://127.0.0.1:${nr.port}/comms`);
    const listener = new CommsListener(socket);
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('comms: no auth answer within 10 s')), 10000);
      socket.on('error', fail);
      socket.on('open', () => socket.send(JSON.stringify({ auth: token })));
      socket.on('message', (data) => {
        const parsed = JSON.parse(data.toString()) as { auth?: string } | CommsMessage[] | CommsMessage;
        if (!Array.isArray(parsed) && 'auth' in parsed && parsed.auth !== undefined) {
          clearTimeout(timer);
          if (parsed.auth !== 'ok') return fail(new Error(`comms auth: ${parsed.auth}`));
          for (const topic of ['debug', 'status/#', 'notification/#']) socket.send(JSON.stringify({ subscribe: topic }));
          return ok();
        }
        for (const m of Array.isArray(parsed) ? parsed : [parsed as CommsMessage]) listener.messages.push(m);
      });
    });
    return listener;
  }

  ofTopic(prefix: string): CommsMessage[] {
    return this.messages.filter((m) => m.topic.startsWith(prefix));
  }

  close(): void {
    this.socket.close();
  }
}
