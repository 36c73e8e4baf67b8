// Command line: starts the Node-RED whose red.js is given, loading this package, and exits non-zero unless
// every declared node set and plugin loaded without error. Used by scripts/compat-node-red-3.sh.
//   tsx test/e2e/support/load-check.ts <path/to/node-red/red.js>
import { NodeRed } from './node-red';
import { declaredSets, loadedSets, setProblem } from './package-info';

async function main(redJs: string): Promise<number> {
  const nr = await NodeRed.start({ redJs });
  try {
    const version = (await nr.getJson<{ version?: string }>('/settings')).version ?? 'unknown';
    const sets = await loadedSets(nr);
    const problems = declaredSets.map((set) => setProblem(set, sets)).filter((p): p is string => p !== null);
    for (const set of declaredSets) console.log(`${setProblem(set, sets) ? 'FAIL' : 'ok  '} ${set.kind} ${set.name}`);
    if (problems.length > 0) {
      console.error(`\nNode-RED ${version}: ${problems.length} problem(s):\n${problems.join('\n')}\n--- Node-RED log ---\n${nr.log}`);
      return 1;
    }
    console.log(`Node-RED ${version} loaded all ${declaredSets.length} sets of the package`);
    return 0;
  } finally {
    await nr.dispose();
  }
}

const redJs = process.argv[2];
if (!redJs) {
  console.error('usage: load-check.ts <red.js>');
  process.exit(2);
}
main(redJs).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
