// `npm run demo:send`: POSTs sample ADS events (TSV, JSON and CEF) to the Node-RED started by `npm start`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../demo/paths';
import { cefEvents, jsonEvents, tsvEvents } from '../demo/sample-events';

interface DemoInfo {
  adsUrl: string;
  secret: string;
  editor: string;
}

async function main(): Promise<void> {
  let info: DemoInfo;
  try {
    info = JSON.parse(readFileSync(join(repoRoot, '.tmp', 'demo', 'demo.json'), 'utf8')) as DemoInfo;
  } catch {
    console.error('No demo is running: start it with `npm start` first.');
    process.exit(1);
  }
  const batches: Array<[string, string]> = [
    ['TSV (2 events)', tsvEvents()],
    ['JSON (2 events)', jsonEvents()],
    ['CEF (1 event)', cefEvents()],
  ];
  let failed = false;
  for (const [label, body] of batches) {
    try {
      const res = await fetch(info.adsUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'X-ADS-Secret': info.secret },
        body,
      });
      console.log(`${label.padEnd(16)} → HTTP ${res.status} ${await res.text()}`);
      failed ||= res.status !== 202;
    } catch (err) {
      console.error(`${label}: ${(err as Error).message} (is \`npm start\` still running?)`);
      process.exit(1);
    }
  }
  console.log(`\nBlocks: ${info.editor} → sidebar tab "Flowmon blocks" (or GET ${info.editor}flowmon-response/blocks)`);
  if (failed) process.exit(1);
}

void main();
