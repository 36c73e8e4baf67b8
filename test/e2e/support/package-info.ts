// What this package declares to Node-RED, and a check that a running Node-RED loaded all of it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../demo/paths';
import type { NodeRed } from './node-red';

interface PackageJson {
  name: string;
  'node-red': { nodes: Record<string, string>; plugins?: Record<string, string> };
}

export const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
export const moduleName = pkg.name;
export const PALETTE_CATEGORY = 'Flowmon response';

export interface DeclaredSet {
  kind: 'node' | 'plugin';
  name: string;
  file: string;
  /** Whether the built .js and .html exist (the package is loaded from dist/, so `npm run build` must have run). */
  built: boolean;
}

export const declaredSets: DeclaredSet[] = [
  ...Object.entries(pkg['node-red'].nodes).map(([name, file]) => ({ kind: 'node' as const, name, file })),
  ...Object.entries(pkg['node-red'].plugins ?? {}).map(([name, file]) => ({ kind: 'plugin' as const, name, file })),
].map((set) => ({
  ...set,
  built: existsSync(join(repoRoot, set.file)) && existsSync(join(repoRoot, set.file.replace(/\.js$/, '.html'))),
}));

export interface SetInfo {
  id: string;
  module: string;
  types?: string[];
  plugins?: { id: string; type?: string }[];
  enabled: boolean;
  err?: unknown;
}

export async function loadedSets(nr: NodeRed): Promise<Map<string, SetInfo>> {
  const [nodes, plugins] = await Promise.all([nr.getJson<SetInfo[]>('/nodes'), nr.getJson<SetInfo[]>('/plugins')]);
  return new Map([...nodes, ...plugins].filter((s) => s.module === moduleName).map((s) => [s.id, s]));
}

/** Why one declared set did not load cleanly, or null when it did. */
export function setProblem(set: DeclaredSet, sets: Map<string, SetInfo>): string | null {
  if (!set.built) return `${set.kind} set ${set.name}: ${set.file} or its .html is not built`;
  const info = sets.get(`${moduleName}/${set.name}`);
  if (!info) return `${set.kind} set ${set.name} is not listed by Node-RED`;
  if (info.err) {
    return `${set.kind} set ${set.name} failed to load: ${typeof info.err === 'string' ? info.err : JSON.stringify(info.err)}`;
  }
  if (!info.enabled) return `${set.kind} set ${set.name} is disabled`;
  if (set.kind === 'node' && !info.types?.includes(set.name)) {
    return `node set ${set.name} registers ${JSON.stringify(info.types)}, not its own type`;
  }
  if (set.kind === 'plugin' && !info.plugins?.length) return `plugin set ${set.name} registers no plugin`;
  return null;
}
