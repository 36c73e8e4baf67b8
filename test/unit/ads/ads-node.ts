// The flow and the output capture the ADS event node's specs share.
import helper = require('node-red-node-test-helper');

export interface Captured {
  events: any[];
  rejects: any[];
  receipts: any[];
}

/** The node `n1` with its three outputs wired to helper nodes. */
export function adsNodeFlow(config: Record<string, unknown> = {}): Array<{ id: string; type: string } & Record<string, unknown>> {
  return [
    { id: 'f1', type: 'tab' },
    {
      id: 'n1',
      z: 'f1',
      type: 'flowmon-ads-event',
      name: 'ads',
      timeZone: 'Europe/Prague',
      maxLineLength: 65536,
      maxEvents: 10000,
      wires: [['events'], ['rejects'], ['receipts']],
      ...config,
    },
    { id: 'events', z: 'f1', type: 'helper' },
    { id: 'rejects', z: 'f1', type: 'helper' },
    { id: 'receipts', z: 'f1', type: 'helper' },
  ];
}

/** Collects what reaches the three outputs of the loaded flow. */
export function captureOutputs(): Captured {
  const captured: Captured = { events: [], rejects: [], receipts: [] };
  helper.getNode('events').on('input', (msg: any) => captured.events.push(msg));
  helper.getNode('rejects').on('input', (msg: any) => captured.rejects.push(msg));
  helper.getNode('receipts').on('input', (msg: any) => captured.receipts.push(msg));
  return captured;
}

/** Makes the node's next send() throw `message` (something unexpected failing inside the node). */
export function failNextSend(message: string): void {
  const node = helper.getNode('n1') as any;
  const send = node.send;
  let failures = 1;
  node.send = function (...args: unknown[]) {
    if (failures-- > 0) throw new Error(message);
    return send.apply(this, args);
  };
}
