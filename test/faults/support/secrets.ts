// Secrets must not appear in anything an operator or another flow can read.
import assert = require('node:assert/strict');
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from '../../../lib/durable/private-files';
import { Stack, figures } from './stack';

/** Everything readable: the log (with every tapped message and node status), the sidebar API, the package's files. */
async function readable(s: Stack): Promise<Record<string, string>> {
  const files = readdirSync(join(s.nr.userDir, DATA_DIR)).map((f) => join(DATA_DIR, f));
  return {
    'Node-RED log (messages, status)': s.nr.log,
    'sidebar (GET /flowmon-response/blocks)': JSON.stringify(await s.blocks()),
    'GET /flows': JSON.stringify(await s.nr.getFlows()),
    ...Object.fromEntries(files.map((f) => [f, readFileSync(join(s.nr.userDir, f), 'utf8')])),
  };
}

export async function assertNoSecrets(s: Stack, secrets: Record<string, string>, scenario: number): Promise<void> {
  const places = await readable(s);
  const leaks: string[] = [];
  for (const [secretName, secret] of Object.entries(secrets)) {
    assert.ok(secret.length >= 8, `${secretName} is too short to search for`);
    for (const [place, text] of Object.entries(places)) if (text.includes(secret)) leaks.push(`${secretName} in ${place}`);
  }
  const sizes = Object.entries(places).map(([p, t]) => `${p} ${t.length} chars`);
  figures(scenario, `searched ${Object.keys(secrets).length} secrets in ${sizes.join(', ')}: ${leaks.length} leaks`);
  assert.deepEqual(leaks, []);
}
