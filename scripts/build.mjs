// Compiles the TypeScript to dist/ and places beside each node's and plugin's .js what Node-RED looks up there:
// the editor .html, locales/ and icons/ (Node-RED only finds icons in an icons/ folder next to the .js).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

for (const kind of ['nodes', 'plugins']) {
  const srcKind = join(root, kind);
  if (!existsSync(srcKind)) continue;
  for (const name of readdirSync(srcKind)) {
    const src = join(srcKind, name);
    const out = join(dist, kind, name);
    cpSync(src, out, { recursive: true, filter: (file) => !file.endsWith('.ts') || file === src });
    cpSync(join(root, 'icons'), join(out, 'icons'), { recursive: true });
  }
}
console.log('build: dist/ ready');
