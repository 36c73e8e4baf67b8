// HTTP-in to first appliance call: a real Node-RED runs the main example flow against the LoadMaster simulator; each
// single-event POST is timed from the moment it is sent until the simulator receives the add call for its source.
import { eventLine, sourceAddress } from '../test/faults/support/events';
import { Stack, fastSettings, percentile, waitFor } from '../test/faults/support/stack';
import type { BenchRow } from './table';

const EVENTS = 200;

export async function run(): Promise<BenchRow[]> {
  const s = await Stack.start({ patch: fastSettings, blockTtl: '1h', tapAll: false });
  try {
    const latencies: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const address = `${sourceAddress(i)}/32`;
      const sent = Date.now();
      const r = await s.post(`${eventLine(`bench-${i}`, sourceAddress(i))}\n`);
      if (r.status !== 202) throw new Error(`POST ${i}: HTTP ${r.status}`);
      await waitFor(() => s.lm.calls.entries.some((c) => c.verb === 'add' && c.addr === address), 10000, `the add of ${address}`);
      latencies.push(s.lm.calls.entries.find((c) => c.verb === 'add' && c.addr === address)!.at - sent);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    return [
      { area: 'http-latency', metric: `POST to LoadMaster add, ${EVENTS} events: p50`, value: `${p50} ms`, target: '<= 100 ms', ok: p50 <= 100 },
      { area: 'http-latency', metric: `POST to LoadMaster add, ${EVENTS} events: p99`, value: `${p99} ms`, target: '<= 250 ms', ok: p99 <= 250 },
    ];
  } finally {
    await s.close();
  }
}
