/** One printed line of `npm run bench`. */
export interface BenchRow {
  area: string;
  metric: string;
  value: string;
  /** The target the figure is held against, e.g. ">= 100,000/s". */
  target?: string;
  ok?: boolean;
}

export function printTable(rows: BenchRow[]): void {
  const header: BenchRow = { area: 'area', metric: 'metric', value: 'value', target: 'target' };
  const all = [header, ...rows];
  const width = (pick: (r: BenchRow) => string) => Math.max(...all.map((r) => pick(r).length));
  const w = [width((r) => r.area), width((r) => r.metric), width((r) => r.value), width((r) => r.target ?? '')];
  for (const r of all) {
    const verdict = r === header ? 'ok' : r.ok === undefined ? '' : r.ok ? 'yes' : 'NO';
    console.log(
      [r.area.padEnd(w[0]), r.metric.padEnd(w[1]), r.value.padStart(w[2]), (r.target ?? '').padEnd(w[3]), verdict].join(
        ' | ',
      ),
    );
  }
}

export function perSecond(count: number, ms: number): string {
  return `${Math.round((count * 1000) / ms).toLocaleString('en-US')}/s`;
}
