/**
 * The metrics of a Node-RED runtime: one FlowmonMetrics per user directory, reading the runtime's registry, its
 * history and the package's deployed appliance config nodes.
 */
import * as path from 'node:path';
import { applianceName, getHistory, HistoryRuntime } from '../history';
import { getRegistry } from '../registry';
import { getStore } from '../store';
import { FlowmonMetrics } from './metrics';

/** What the metrics need of RED besides the registry's parts: the deployed nodes' definitions. */
export interface MetricsRuntime extends HistoryRuntime {
  nodes?: HistoryRuntime['nodes'] & { eachNode?(fn: (def: { id: string; type: string }) => void): void };
}

/** The config node types of the package whose calls go through a queue. */
const QUEUED_TYPES: ReadonlySet<string> = new Set(['flowmon-loadmaster-config', 'flowmon-cryptospike-config']);

interface QueuedConfigNode {
  loadMaster?: { queueDepth?: unknown } | null;
  responder?: { queueDepth?: unknown } | null;
}

/** The package's deployed appliance config nodes and their queue depths. */
export function applianceQueues(red: MetricsRuntime): Array<{ configId: string; depth: number }> {
  const ids: string[] = [];
  red.nodes?.eachNode?.((def) => {
    if (QUEUED_TYPES.has(def.type)) ids.push(def.id);
  });
  const out: Array<{ configId: string; depth: number }> = [];
  for (const configId of ids) {
    const node = red.nodes?.getNode(configId) as QueuedConfigNode | null | undefined;
    const depth = node?.loadMaster?.queueDepth ?? node?.responder?.queueDepth;
    if (typeof depth === 'number') out.push({ configId, depth });
  }
  return out;
}

const runtimes = new Map<string, FlowmonMetrics>();

/** The runtime's metrics (started), created on first use; they count from then on. */
export function getMetrics(red: MetricsRuntime): FlowmonMetrics {
  const dir = red.settings?.userDir;
  const id = dir ? path.resolve(dir) : '';
  const known = runtimes.get(id);
  if (known) return known;
  const metrics = new FlowmonMetrics({
    // Looked up at each scrape: the runtime's registry is made again after it was closed.
    entries: () => getRegistry(red).values(),
    queues: () => applianceQueues(red),
    applianceName: (configId) => applianceName(red, configId),
    history: getHistory(red).store,
    store: () => {
      const store = getStore(red);
      return { up: store.unavailable === undefined, releaser: store.leadership.isLeader };
    },
  });
  metrics.start();
  runtimes.set(id, metrics);
  return metrics;
}

/** Stops every runtime's metrics. */
export function closeMetrics(): void {
  for (const m of runtimes.values()) m.stop();
  runtimes.clear();
}
