// The package's journals in the userDir (the registry and the intake journal) are private: mode 0600 files in a
// 0700 folder.
import assert = require('node:assert/strict');
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { body, eventLine } from '../faults/support/events';
import { figure, sharedStack, waitFor, type SecureStack } from './support/stack';

describe('journal files', function () {
  let s: SecureStack;

  before(async () => {
    s = await sharedStack();
  });

  it('are mode 0600 in a 0700 folder', async () => {
    assert.equal((await s.post(body([eventLine(`s13-${Date.now()}`, '198.51.100.248')]))).status, 202);
    await waitFor(() => s.lmBlocked().includes('198.51.100.248'), 20000, 'a block');
    const modes = s.journals().map((j) => ({
      file: j.path.slice(s.nr.userDir.length + 1),
      mode: (statSync(j.path).mode & 0o777).toString(8),
      folder: (statSync(dirname(j.path)).mode & 0o777).toString(8),
    }));
    figure('journals', modes.map((m) => `${m.file} ${m.mode} in ${m.folder}`).join(', '));
    assert.ok(modes.some((m) => /registry/.test(m.file)), 'no registry journal found');
    assert.ok(modes.some((m) => /intake/.test(m.file)), 'no intake journal found');
    assert.deepEqual(modes.filter((m) => m.mode !== '600' || m.folder !== '700'), []);
  });
});
