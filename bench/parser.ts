// Events per second of the ADS parser (TSV, JSON, CEF; one core) and through the flowmon-ads-event node.
import { BenchRow, perSecond } from './table';
import { parseInput, ParseOptions } from '../lib/ads/parse-lines';

const LINES = 100_000;
const CHUNK = 10_000;
const PARSER_TARGET = 100_000;
const NODE_TARGET = 20_000;
const NODE_MESSAGES = 10;
const NODE_LINES_PER_MESSAGE = 10_000;

const OPTIONS: ParseOptions = { format: 'auto', timeZone: 'Europe/Prague', maxLineLength: 65_536, maxEvents: CHUNK };

function ipv4(i: number, net = 10): string {
  return `${net}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function wallTime(i: number): string {
  const t = new Date(Date.UTC(2025, 2, 10, 8, 0, 0) + i * 1000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}

function tsvLine(i: number): string {
  const base = [String(i), wallTime(i), wallTime(i - 30), 'SSHDICT'];
  const tail = ['SSH attack', 'Security Issues', 'High', 'Attack from a single attacker has been detected.', '22', 'TCP',
    ipv4(i), ' ', `${ipv4(i, 192)}, ${ipv4(i + 1, 192)}`, 'LAN', i % 2 ? 'CORP\\user' : ' '];
  return (i % 3 === 0 ? [...base, 'General', 'T1110', ...tail] : [...base, ...tail]).join('\t');
}

function jsonLine(i: number): string {
  return JSON.stringify({
    id: String(i), timestamp: wallTime(i), type: 'SCANS', typeDesc: 'Port scanning', perspective: 'Security Issues',
    severity: 'Medium', detail: 'Port scanning.', source: ipv4(i), targets: `${ipv4(i, 192)}, ${ipv4(i + 1, 192)}`,
    netFlowSource: 'LAN', userIdentity: '',
  });
}

/** Syslog (`Nov  3 15:00:00`) and CEF start (`Nov 03 2025 15:00:00`) forms of one second per line. */
function cefTimes(i: number): { syslog: string; start: string } {
  const t = new Date(Date.UTC(2025, 10, 3, 15, 0, 0) + i * 1000).toUTCString(); // "Mon, 03 Nov 2025 15:00:00 GMT"
  const [month, day, year, time] = [t.slice(8, 11), t.slice(5, 7), t.slice(12, 16), t.slice(17, 25)];
  return { syslog: `${month} ${day.replace(/^0/, ' ')} ${time}`, start: `${month} ${day} ${year} ${time}` };
}

function cefLine(i: number): string {
  const time = cefTimes(i);
  const targets = i % 2
    ? `cs4=${Array.from({ length: 10 }, (_, k) => ipv4(i + k, 192)).join(', ')} cs4Label=dstIPv4list`
    : `dst=${ipv4(i, 192)}`;
  return `${time.syslog} localhost ADS[${i}]: CEF:0|Flowmon Networks|Flowmon ADS Ultimate|13.00.00|ALIENDEV|New or alien device|6|src=${ipv4(i)} smac=0c:70:00:00:00:00 start=${time.start} msg={Submethod:'IPBased';MAC:'0C:70:00:00:00:00'} ${targets} cs2=Default cs2Label=MethodInstanceName cn2=1 cn2Label=DataFeedID cn3=2 cn3Label=PerspectiveID`;
}

function lines(make: (i: number) => string, count: number, offset = 0): string {
  return `${Array.from({ length: count }, (_, i) => make(i + offset)).join('\n')}\n`;
}

/** Parses LINES lines as inputs of CHUNK lines each (the node's default limit per message); best of 3 rounds. */
function measureParser(name: string, make: (i: number) => string): BenchRow {
  const inputs = Array.from({ length: LINES / CHUNK }, (_, c) => lines(make, CHUNK, c * CHUNK));
  let best = Infinity;
  for (let round = 0; round < 4; round++) {
    let events = 0;
    const started = process.hrtime.bigint();
    for (const text of inputs) {
      const outcome = parseInput(text, OPTIONS);
      if (outcome.rejects.length !== 0) throw new Error(`${name}: rejected: ${outcome.rejects[0].reason}`);
      events += outcome.events.length;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (events !== LINES) throw new Error(`${name}: ${events} events of ${LINES}`);
    if (round > 0) best = Math.min(best, ms); // round 0 warms up
  }
  const rate = (LINES * 1000) / best;
  return {
    area: 'parser',
    metric: `${name} events/s (1 core, ${LINES / CHUNK} inputs × ${CHUNK.toLocaleString('en-US')} lines)`,
    value: perSecond(LINES, best),
    target: '>= 100,000/s',
    ok: rate >= PARSER_TARGET,
  };
}

async function measureNode(): Promise<BenchRow> {
  const helper = require('node-red-node-test-helper') as typeof import('node-red-node-test-helper');
  const adsEventNode = require('../nodes/flowmon-ads-event/flowmon-ads-event') as Parameters<typeof helper.load>[0];
  helper.init(require.resolve('node-red'));
  await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  try {
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'n1', z: 'f1', type: 'flowmon-ads-event', timeZone: 'Europe/Prague', maxLineLength: 65536, maxEvents: NODE_LINES_PER_MESSAGE, wires: [['count'], [], []] },
      { id: 'count', z: 'f1', type: 'helper' },
    ];
    await helper.load(adsEventNode, flow as unknown as Parameters<typeof helper.load>[1]);
    const total = NODE_MESSAGES * NODE_LINES_PER_MESSAGE;
    const bodies = Array.from({ length: NODE_MESSAGES }, (_, m) => lines(tsvLine, NODE_LINES_PER_MESSAGE, m * NODE_LINES_PER_MESSAGE));
    let counted = 0;
    const finished = new Promise<void>((resolve) => {
      helper.getNode('count').on('input', () => {
        if (++counted === total) resolve();
      });
    });
    const n1 = helper.getNode('n1');
    const started = process.hrtime.bigint();
    for (const payload of bodies) n1.receive({ payload });
    await finished;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const rate = (total * 1000) / ms;
    return {
      area: 'parser',
      metric: `node (test helper), ${NODE_MESSAGES} msgs × ${NODE_LINES_PER_MESSAGE.toLocaleString('en-US')} TSV lines, output-1 msgs/s`,
      value: perSecond(total, ms),
      target: '>= 20,000/s',
      ok: rate >= NODE_TARGET,
    };
  } finally {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  }
}

export async function run(): Promise<BenchRow[]> {
  return [
    measureParser('TSV', tsvLine),
    measureParser('JSON', jsonLine),
    measureParser('CEF', cefLine),
    await measureNode(),
  ];
}
