// The example flows as files (what Import → Examples offers), read by the demo and the tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

export const EXAMPLES_DIR = join(repoRoot, 'examples');
export const MAIN_EXAMPLE = 'ADS to LoadMaster and CryptoSpike';
export const ASK_EXAMPLE = 'Ask a person before blocking';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function readExample(name: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, `${name}.json`), 'utf8')) as FlowNode[];
}

/** Several examples as one deployment: the configuration nodes they share (same id) appear once. */
export function mergeExamples(names: string[]): FlowNode[] {
  const byId = new Map<string, FlowNode>();
  for (const name of names) for (const node of readExample(name)) if (!byId.has(node.id)) byId.set(node.id, node);
  return [...byId.values()];
}
