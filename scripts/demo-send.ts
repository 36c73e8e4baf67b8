// `npm run demo:send`: POSTs sample ADS events (TSV, JSON and CEF) to the Node-RED started by `npm start`.
// `npm run demo:send -- ask`: POSTs events to the example "Ask a person before blocking" that are held for a person
// (two users at one source, and a burst of new sources over the LoadMaster storm cap); the demo prints the questions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../demo/paths';
import { askEvents, cefEvents, jsonEvents, tsvEvents } from '../demo/sample-events';

interface DemoInfo {
  adsUrl: string;
  askUrl: string;
  secret: string;
  editor: string;
}

const ASK_BURST = 65;

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'main';
  if (mode !== 'main' && mode !== 'ask') {
    console.error('Usage: npm run demo:send [-- ask]');
    process.exit(2);
  }
  let info: DemoInfo;
  try {
    info = JSON.parse(readFileSync(join(repoRoot, '.tmp', 'demo', 'demo.json'), 'utf8')) as DemoInfo;
  } catch {
    console.error('No demo is running: start it with `npm start` first.');
    process.exit(1);
  }
  const batches: Array<[string, string, string]> =
    mode === 'ask'
      ? [[`TSV (1 + ${ASK_BURST} events)`, info.askUrl, askEvents(ASK_BURST)]]
      : [
          ['TSV (2 events)', info.adsUrl, tsvEvents()],
          ['JSON (2 events)', info.adsUrl, jsonEvents()],
          ['CEF (1 event)', info.adsUrl, cefEvents()],
        ];
  let failed = false;
  for (const [label, url, body] of batches) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'X-ADS-Secret': info.secret },
        body,
      });
      console.log(`${label.padEnd(22)} → ${url}: HTTP ${res.status} ${await res.text()}`);
      failed ||= res.status !== 202;
    } catch (err) {
      console.error(`${label}: ${(err as Error).message} (is \`npm start\` still running?)`);
      process.exit(1);
    }
  }
  console.log(`\nBlocks: ${info.editor} → sidebar tab "Flowmon blocks" (or GET ${info.editor}flowmon-response/blocks)`);
  if (mode === 'ask') {
    console.log('Questions about the held blocks, with the commands that answer them, appear in the terminal of `npm start`.');
  }
  if (failed) process.exit(1);
}

void main();
