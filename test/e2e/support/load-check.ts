// Command line: starts the Node-RED whose red.js is given (with the given Node binary, if any), loading this
// package, and exits non-zero unless every declared node set and plugin loaded without error and the "Flowmon
// blocks" sidebar tab shows a block in the editor. Used by scripts/compat-node-red-3.sh and compat-node-red-5.sh.
//   tsx test/e2e/support/load-check.ts <path/to/node-red/red.js> [path/to/node]
import { hasChromium, openBrowser } from './browser';
import { NodeRed } from './node-red';
import { declaredSets, loadedSets, setProblem } from './package-info';

/** A TTL node armed once by an inject node with a simulated LoadMaster block, so the registry has one entry. */
const SIDEBAR_FLOW = [
  { id: 'compat-tab', type: 'tab', label: 'compat' },
  {
    id: 'compat-inject', z: 'compat-tab', type: 'inject', once: true, onceDelay: 0.1, repeat: '', topic: '',
    payload: JSON.stringify({ mitigation: { appliance: 'loadmaster', config: 'compat-lm', action: 'add', list: 'block', scope: 'global',
      address: '192.0.2.77/32', result: 'simulated', at: new Date().toISOString() } }),
    payloadType: 'json', props: [{ p: 'payload' }], wires: [['compat-ttl']],
  },
  { id: 'compat-ttl', z: 'compat-tab', type: 'flowmon-mitigation-ttl', ttl: 1, ttlUnit: 'h', reconcile: 0, wires: [[]] },
];

async function sidebarShowsBlock(nr: NodeRed): Promise<string | null> {
  await nr.deployFlows(SIDEBAR_FLOW);
  const browser = await openBrowser();
  try {
    const { page } = browser;
    await page.goto(nr.baseUrl);
    // The editor is ready once our node types are registered and the plugin has added its tab.
    await page.waitForFunction(() => {
      try {
        const RED = (window as unknown as { RED: { nodes: { getType(t: string): unknown }; sidebar: { containsTab(id: string): boolean } } }).RED;
        return !!RED.nodes.getType('flowmon-mitigation-ttl') && RED.sidebar.containsTab('flowmon-blocks');
      } catch {
        return false;
      }
    }, null, { timeout: 60000 });
    // The editor may still switch the sidebar to its own tab while it finishes loading: ask again until ours shows.
    await page.waitForFunction(
      () => {
        (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('flowmon-blocks');
        const rows = Array.from(document.querySelectorAll<HTMLElement>('#flowmon-blocks-table tr[data-id]'));
        return rows.some((row) => row.offsetParent !== null && (row.textContent ?? '').includes('192.0.2.77/32'));
      },
      null,
      { timeout: 30000, polling: 500 },
    );
    const ours = browser.errors.filter((e) => /flowmon/i.test(e));
    return ours.length > 0 ? `editor errors: ${ours.join(' | ')}` : null;
  } catch (err) {
    return `sidebar did not show the block: ${(err as Error).message}`;
  } finally {
    await browser.close();
  }
}

async function main(redJs: string, nodeBinary?: string): Promise<number> {
  const nr = await NodeRed.start({ redJs, nodeBinary });
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
    if (!hasChromium()) {
      console.log('sidebar check skipped: /usr/bin/chromium is not installed (.ci/run installs it)');
      return 0;
    }
    const sidebarProblem = await sidebarShowsBlock(nr);
    if (sidebarProblem) {
      console.error(`Node-RED ${version}: ${sidebarProblem}\n--- Node-RED log ---\n${nr.log}`);
      return 1;
    }
    console.log(`Node-RED ${version}: the Flowmon blocks sidebar shows the registry's block`);
    return 0;
  } finally {
    await nr.dispose();
  }
}

const [redJs, nodeBinary] = process.argv.slice(2);
if (!redJs) {
  console.error('usage: load-check.ts <red.js> [node binary]');
  process.exit(2);
}
main(redJs, nodeBinary).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
