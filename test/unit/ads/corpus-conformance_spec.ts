// Parses every line of the real ADS CEF samples (kept outside the repository) when they are present.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from './fixture';

const CORPUS = resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus', 'ads-cef');

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
}

/** What the line itself says, read with plain regular expressions, independent of the parser. */
function stated(line: string): { source: string; targets: Set<string> } {
  const source = /[ |](?:src|c6a2)=(\S+)/.exec(line);
  assert.ok(source, `the line names no source: ${line}`);
  const lists = [
    ...line.matchAll(/ (?:target|dst|c6a3)=(\S+)/g),
    ...line.matchAll(/ cs[46]=(.*?) cs[46]Label=/g),
    ...line.matchAll(/ targetList: (.*?)(?= cn\d=| cs2=| deviceCustomString1=|$)/g),
  ].map((m) => m[1]);
  const targets = new Set(
    lists
      .join(',')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== '' && t !== '...'),
  );
  return { source: source[1].toLowerCase(), targets };
}

describe('ADS CEF sample corpus (6.07, 10.0, 11.0, 13.0)', function () {
  if (!existsSync(CORPUS)) {
    it('is not present on this machine', function () {
      this.skip();
    });
    return;
  }
  for (const file of files(CORPUS)) {
    it(relative(CORPUS, file), () => {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
      const { events, rejects, tooLarge } = parse(text, { maxEvents: 100_000 });
      assert.equal(tooLarge, undefined);
      assert.deepEqual(rejects, []);
      assert.equal(events.length, lines.length);
      events.forEach((event, i) => {
        const expected = stated(lines[i]);
        assert.equal(event.raw, lines[i]);
        assert.equal(event.source, expected.source, `source of line ${i + 1}`);
        assert.equal(event.targets.length, expected.targets.size, `targets of line ${i + 1}`);
        assert.deepEqual(new Set(event.targets), expected.targets, `targets of line ${i + 1}`);
        assert.match(event.method, /^[A-Z0-9]+$/);
        assert.notEqual(event.priority, null);
      });
    });
  }
});
