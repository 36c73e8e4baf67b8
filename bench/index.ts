// `npm run bench`: runs every benchmark module (or those named on the command line) and prints one table.
import { BenchRow, printTable } from './table';

const MODULES = ['parser', 'http-latency', 'loadmaster', 'cryptospike', 'registry', 'decisions', 'store'] as const;

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const rows: BenchRow[] = [];
  for (const name of MODULES) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const mod = (await import(`./${name}`)) as { run: () => Promise<BenchRow[]> };
    console.error(`bench: ${name}…`);
    rows.push(...(await mod.run()));
  }
  printTable(rows);
  if (rows.some((r) => r.ok === false)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
