// A strict reader of the Prometheus text exposition format (0.0.4): every line must be a HELP, a TYPE or a sample
// of a metric whose TYPE came first; samples are keyed `name{a="x",b="y"}` with the labels sorted.
export interface Exposition {
  types: Map<string, string>;
  samples: Map<string, number>;
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('the exposition does not end with a newline');
  for (const line of lines) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      if (!METRIC.test(meta[2])) throw new Error(`bad metric name in: ${line}`);
      if (meta[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3])) throw new Error(`bad type: ${line}`);
        types.set(meta[2], meta[3]);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    const labels: string[] = [];
    if (m[3]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[3].length) {
        const at = LABEL.lastIndex;
        const l = LABEL.exec(m[3]);
        if (!l || l.index !== at) throw new Error(`bad labels: ${line}`);
        labels.push(`${l[1]}="${l[2]}"`);
      }
    }
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    if (Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    const key = `${m[1]}{${labels.sort().join(',')}}`;
    if (samples.has(key)) throw new Error(`duplicate sample: ${line}`);
    samples.set(key, value);
  }
  return { types, samples };
}
