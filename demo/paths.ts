// Where the package's files are, for the demo, the tests and the benchmarks.
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..');
export const tmpRoot = join(repoRoot, '.tmp');
