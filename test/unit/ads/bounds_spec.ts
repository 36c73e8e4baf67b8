// Every field of an event has a length limit: a value at the limit is read, one character more rejects the line.
import assert from 'node:assert/strict';
import { bounded, FIELD_LIMITS } from '../../../lib/ads/bounds';
import { AdsEvent } from '../../../lib/ads/event';
import { LineError } from '../../../lib/ads/values';
import { eventLine, TSV_ORDER, tsvFields } from '../../faults/support/events';
import { parse } from './fixture';

type Fields = Record<string, string>;

/** An extended line (17 fields): the standard fields of the fault suite's events with subtype and MITRE after the method. */
function tsvLine(overrides: Fields = {}): string {
  const { subtype = 'General', mitre = 'T1046 Network Service Discovery', ...rest } = overrides;
  const f = tsvFields('101', '192.0.2.1', { sourceName: 'edge-probe', userIdentity: 'CORP\\jdoe', ...rest });
  return TSV_ORDER.flatMap((k) => (k === 'method' ? [f.method, subtype, mitre] : [f[k]])).join('\t');
}

function tsvStandardLine(overrides: Fields = {}): string {
  return eventLine('101', '192.0.2.1', overrides);
}

const JSON_ADS: Fields = {
  id: '532028',
  timestamp: '2025-03-10 12:00:00',
  type: 'SSHDICT',
  typeDesc: 'SSH attack',
  perspective: 'Security Issues',
  severity: 'Critical',
  detail: 'Attack from a single attacker has been detected.',
  source: '10.10.9.31',
  targets: '10.100.28.40',
  netFlowSource: 'LAN',
  userIdentity: 'CORP\\bob',
};

const JSON_IDS: Fields = {
  id: '77',
  firstSeen: '2025-03-10 12:02:00',
  srcIp: '10.0.0.5',
  dstIp: '10.0.0.6',
  dstPort: '80',
  protocol: 'TCP',
  signatureId: '2010935',
  signatureName: 'ET SCAN test',
  logSourceIp: '192.0.2.1',
  category: 'Attempted Recon',
  severity: 'low',
};

const jsonLine = (base: Fields) => (overrides: Fields) => JSON.stringify({ ...base, ...overrides });

interface Cef {
  method?: string;
  name?: string;
  ext?: Fields;
}

function cefLine({ method = 'SSHDICT', name = 'SSH attack', ext = {} }: Cef = {}): string {
  // suser is read only before msg= (lib/ads/cef.ts): the other extension keys keep ADS's order after it.
  const { suser, ...rest } = ext;
  const before: Fields = suser === undefined ? {} : { suser };
  const keys: Fields = { src: '10.0.112.1', ...before, start: 'Nov 03 2025 15:13:04', msg: 'Attack.', dst: '192.168.112.2', ...rest };
  const extension = Object.entries(keys)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `CEF:0|Flowmon Networks|Flowmon ADS Ultimate|13.00.00|${method}|${name}|8|${extension}`;
}

/** How one event field is set in each format (absent: the format has no place for it). */
interface FieldCase {
  field: keyof AdsEvent;
  limit: number;
  /** Text of `n` characters that the reader keeps as it is. */
  value?: (n: number) => string;
  tsv?: (v: string) => string;
  json?: (v: string) => string;
  cef?: (v: string) => string;
}

const CASES: FieldCase[] = [
  {
    field: 'id',
    limit: 128,
    value: (n) => '7'.repeat(n),
    tsv: (v) => tsvLine({ id: v }),
    json: (v) => jsonLine(JSON_ADS)({ id: v }),
    cef: (v) => cefLine({ ext: { cn1: v, cn1Label: 'EventID' } }),
  },
  {
    field: 'method',
    limit: 64,
    value: (n) => 'M'.repeat(n),
    tsv: (v) => tsvLine({ method: v }),
    json: (v) => jsonLine(JSON_ADS)({ type: v }),
    cef: (v) => cefLine({ method: v }),
  },
  {
    field: 'subtype',
    limit: 128,
    tsv: (v) => tsvLine({ subtype: v }),
    json: (v) => jsonLine(JSON_IDS)({ signatureId: v }),
    cef: (v) => cefLine({ ext: { msg: `{Submethod:'${v}';Success:'0'}` } }),
  },
  { field: 'mitre', limit: 512, tsv: (v) => tsvLine({ mitre: v }) },
  {
    field: 'description',
    limit: 512,
    tsv: (v) => tsvLine({ description: v }),
    json: (v) => jsonLine(JSON_ADS)({ typeDesc: v }),
    cef: (v) => cefLine({ name: v }),
  },
  {
    field: 'perspective',
    limit: 256,
    tsv: (v) => tsvLine({ perspective: v }),
    json: (v) => jsonLine(JSON_ADS)({ perspective: v }),
  },
  {
    field: 'detail',
    limit: 8192,
    tsv: (v) => tsvLine({ detail: v }),
    json: (v) => jsonLine(JSON_ADS)({ detail: v }),
    cef: (v) => cefLine({ ext: { msg: v } }),
  },
  {
    field: 'ports',
    limit: 1024,
    value: (n) => '1'.repeat(n),
    tsv: (v) => tsvLine({ ports: v }),
    json: (v) => jsonLine(JSON_IDS)({ dstPort: v }),
    cef: (v) => cefLine({ ext: { dpt: v } }),
  },
  {
    field: 'protocol',
    limit: 64,
    tsv: (v) => tsvLine({ protocol: v }),
    json: (v) => jsonLine(JSON_IDS)({ protocol: v }),
    cef: (v) => cefLine({ ext: { proto: v } }),
  },
  { field: 'sourceName', limit: 256, tsv: (v) => tsvLine({ sourceName: v }) },
  {
    field: 'dataFeed',
    limit: 256,
    tsv: (v) => tsvLine({ dataFeed: v }),
    json: (v) => jsonLine(JSON_ADS)({ netFlowSource: v }),
    cef: (v) => cefLine({ ext: { cn2: v, cn2Label: 'DataFeedID' } }),
  },
  {
    field: 'userIdentity',
    limit: 320,
    tsv: (v) => tsvLine({ userIdentity: v }),
    json: (v) => jsonLine(JSON_ADS)({ userIdentity: v }),
    cef: (v) => cefLine({ ext: { suser: v } }),
  },
];

const FORMATS = ['tsv', 'json', 'cef'] as const;

function only(line: string): { event?: AdsEvent; reason?: string } {
  const { events, rejects } = parse(line);
  assert.equal(events.length + rejects.length, 1);
  return { event: events[0], reason: rejects[0]?.reason };
}

/** `count` distinct IPv4 addresses. */
function addresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
}

describe('field length limits', () => {
  for (const c of CASES) {
    const name = FIELD_LIMITS[c.field].name;
    for (const format of FORMATS) {
      const build = c[format];
      if (!build) continue;
      it(`${format}: ${name} of ${c.limit} characters is read, ${c.limit + 1} rejects the line`, () => {
        const value = c.value ?? ((n: number) => 'a'.repeat(n));
        const at = only(build(value(c.limit)));
        assert.equal(at.reason, undefined);
        assert.equal(at.event?.[c.field], value(c.limit));
        const over = only(build(value(c.limit + 1)));
        assert.equal(over.event, undefined);
        assert.equal(over.reason, `${name} of ${c.limit + 1} characters is over the limit of ${c.limit}`);
      });
    }
  }

  const targetLists: Record<(typeof FORMATS)[number], (list: string[]) => string> = {
    tsv: (list) => tsvLine({ targets: list.join(', ') }),
    json: (list) => jsonLine(JSON_ADS)({ targets: list.join(', ') }),
    cef: (list) => cefLine({ ext: { dst: list[0], cs4: list.slice(1).join(', '), cs4Label: 'dstIPv4list' } }),
  };
  for (const format of FORMATS) {
    it(`${format}: 1024 targets are read, 1025 reject the line`, () => {
      const at = only(targetLists[format](addresses(1024)));
      assert.equal(at.reason, undefined);
      assert.equal(at.event?.targets.length, 1024);
      const over = only(targetLists[format](addresses(1025)));
      assert.equal(over.event, undefined);
      assert.equal(over.reason, '1025 targets are over the limit of 1024');
      // Distinct targets count: a list that repeats one address is one target.
      const repeated = only(targetLists[format](Array(2000).fill('198.51.100.7')));
      assert.deepEqual(repeated.event?.targets, ['198.51.100.7']);
    });
  }

  it('rejects a 60 KB event id in every format, naming the field, its length and the limit', () => {
    const id = '9'.repeat(61_440);
    const lines = [
      tsvStandardLine({ id }),
      tsvLine({ id }),
      jsonLine(JSON_ADS)({ id }),
      jsonLine(JSON_IDS)({ id }),
      cefLine({ ext: { cn1: id, cn1Label: 'EventID' } }),
      `<179>Nov  3 15:13:04 localhost ADS[206966]: ${cefLine({ ext: { cn1: id, cn1Label: 'EventID' } })}`,
    ];
    const { events, rejects } = parse(lines.join('\n'));
    assert.deepEqual(events, []);
    assert.deepEqual(
      rejects.map((r) => [r.lineNumber, r.reason]),
      lines.map((_, i) => [i + 1, 'event id of 61440 characters is over the limit of 128']),
    );
  });

  it('100 lines with 60 KB ids for one source give no event, and the good line between them is read', () => {
    const id = '4'.repeat(61_440);
    const lines = Array.from({ length: 100 }, (_, i) => tsvLine({ id: `${i}${id}` }));
    lines.splice(50, 0, tsvLine({ id: 'good-1' }));
    const { events, rejects } = parse(lines.join('\n'));
    assert.deepEqual(events.map((e) => e.id), ['good-1']);
    assert.equal(rejects.length, 100);
    assert.ok(rejects.every((r) => /^event id of 6144[0-2] characters is over the limit of 128$/.test(r.reason)));
  });

  it('IDS tab-separated lines are bounded too', () => {
    const ids = (signatureName: string) =>
      ['9001', '2025-03-10 11:00:00', '2025-03-10 11:05:00', '203.0.113.30', '4444', '198.51.100.30', '80', 'TCP',
        '2010935', signatureName, '192.0.2.1', 'eth2', 'Attempted Information Leak', 'High'].join('\t');
    assert.equal(only(ids('s'.repeat(512))).event?.description.length, 512);
    assert.equal(only(ids('s'.repeat(513))).reason, 'description of 513 characters is over the limit of 512');
  });

  it('JSON objects handed over already parsed (an HTTP-in node with a JSON body) are bounded too', () => {
    const { events, rejects } = parse([{ ...JSON_ADS, userIdentity: 'u'.repeat(321) }, JSON_ADS]);
    assert.equal(events.length, 1);
    assert.deepEqual(rejects.map((r) => r.reason), ['user identity of 321 characters is over the limit of 320']);
  });

  describe('bounded() on fields no input can make long (the reader writes them)', () => {
    const event = (): AdsEvent => only(tsvLine()).event!;

    it('passes a real event through unchanged', () => {
      const e = event();
      assert.equal(bounded(e), e);
    });

    const overs: Array<[keyof AdsEvent, unknown, string]> = [
      ['source', 's'.repeat(65), 'source of 65 characters is over the limit of 64'],
      ['targets', ['198.51.100.7', 't'.repeat(65)], 'target of 65 characters is over the limit of 64'],
      ['detectedAt', 'd'.repeat(33), 'detection time of 33 characters is over the limit of 32'],
      ['firstFlowAt', 'f'.repeat(33), 'first flow time of 33 characters is over the limit of 32'],
      ['kind', 'k'.repeat(17), 'kind of 17 characters is over the limit of 16'],
      ['format', 'f'.repeat(17), 'format of 17 characters is over the limit of 16'],
      ['priority', 'p'.repeat(17), 'priority of 17 characters is over the limit of 16'],
    ];
    for (const [field, value, reason] of overs) {
      it(`${field}: ${reason}`, () => {
        assert.throws(() => bounded({ ...event(), [field]: value } as AdsEvent), (err: unknown) => {
          assert.ok(err instanceof LineError);
          assert.equal(err.message, reason);
          return true;
        });
      });
    }

    it('leaves the raw line to the line limit (Max. line) that applies before any reader', () => {
      const e = { ...event(), raw: 'r'.repeat(200_000) };
      assert.equal(bounded(e), e);
    });
  });
});
