// Deterministic hostile input lines for the HTTP endpoint. Each line says whether the parser must reject it.
import { TSV_ORDER, TsvFields, tsvFields, tsvLine } from './events';

export interface FuzzLine {
  kind: string;
  /** Text, or bytes for lines holding invalid UTF-8. */
  line: string | Buffer;
  bad: boolean;
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INJECTIONS = [
  "'; DROP TABLE blocks; --",
  '$(rm -rf /)',
  '`reboot`',
  '{{constructor.constructor("return process")()}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  '${LOADMASTER_APIKEY}',
  '%s%s%s%n',
  '\u202eevil',
];
const BAD_ADDRESSES = ['999.1.1.1', '10.0.0', '1.2.3.4.5', 'fe80::zz', 'localhost', '1.2.3.4/24', '0x7f.1', '::ffff:999.0.0.1', '1.2.3.-4'];
/** Fields whose content is checked: a hostile value there must be rejected; elsewhere it is text to keep. */
const CHECKED: (keyof TsvFields)[] = ['method', 'source', 'targets'];

export function fuzzLines(count: number, seed: number, goodSource: (n: number) => string): FuzzLine[] {
  const rnd = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rnd() * items.length)];
  const valid = (n: number, overrides: Partial<TsvFields> = {}) => tsvLine(tsvFields(`fz-${n}`, goodSource(n), overrides));
  const makers: Array<(n: number) => FuzzLine> = [
    () => {
      const bytes = Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => {
        const b = Math.floor(rnd() * 256);
        return b === 0x0a || b === 0x0d || b === 0x09 ? 0x41 : b;
      });
      bytes[0] = 0x5a; // never a blank line, never JSON
      return { kind: 'random bytes', line: Buffer.from(bytes), bad: true };
    },
    (n) => {
      const full = valid(n);
      const lastTab = full.lastIndexOf('\t');
      return { kind: 'truncated', line: full.slice(0, 1 + Math.floor(rnd() * (lastTab - 1))), bad: true };
    },
    (n) => {
      const fields = valid(n).split('\t');
      const count = pick([1, 2, 5, 10, 13, 16, 18, 19, 25]);
      const out = count < fields.length ? fields.slice(0, count) : [...fields, ...Array.from({ length: count - fields.length }, () => 'x')];
      return { kind: 'wrong field count', line: out.join('\t'), bad: true };
    },
    (n) => ({ kind: 'huge field', line: valid(n, { detail: 'A'.repeat(70_000) }), bad: true }),
    (n) => ({ kind: 'invalid source', line: valid(n, { source: pick(BAD_ADDRESSES) }), bad: true }),
    (n) => ({ kind: 'invalid target', line: valid(n, { targets: `203.0.113.9, ${pick(BAD_ADDRESSES)}` }), bad: true }),
    (n) => {
      const control = String.fromCharCode(pick([0, 1, 7, 8, 0x1b, 0x7f]));
      return { kind: 'control characters', line: valid(n, { source: `198.51.100.1${control}` }), bad: true };
    },
    (n) => {
      const field = pick(TSV_ORDER);
      const value = pick(INJECTIONS);
      // A line that starts with { is read as JSON (documented), so a hostile id opening with { spoils the line.
      const bad = CHECKED.includes(field) || (field === 'id' && value.startsWith('{'));
      return { kind: `injection in ${bad ? 'a checked' : 'a text'} field`, line: valid(n, { [field]: value }), bad };
    },
    (n) => ({
      kind: 'invalid UTF-8',
      line: Buffer.concat([Buffer.from(valid(n).replace('Port scanning\t', 'Port ')), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]),
      bad: true,
    }),
    (n) => ({ kind: 'broken JSON', line: `{"id":"fz-${n}","timestamp":"2025-03-10 08:15:00","type":"SCANS","source":`, bad: true }),
  ];
  return Array.from({ length: count }, (_, n) => pick(makers)(n));
}
