// A history recorder on a runtime registry wired as in Node-RED, with named fake appliances.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AdsEvent } from '../../../lib/ads/event';
import { HistoryRecorder } from '../../../lib/history/recorder';
import { HistoryStore, HistoryOptions } from '../../../lib/history/store';
import type { MitigationAppliance } from '../../../lib/mitigation/types';
import { FakeHeldAppliance, runtime, Runtime } from '../decisions/support';

/** A fake LoadMaster config node with a name, as the recorder sees one. */
export class NamedAppliance extends FakeHeldAppliance {
  releaseError?: Error;

  constructor(readonly name: string) {
    super();
  }

  override async releaseMitigation(key: Parameters<FakeHeldAppliance['releaseMitigation']>[0]) {
    if (this.releaseError) throw this.releaseError;
    return super.releaseMitigation(key);
  }
}

export interface Recorded extends Runtime {
  store: HistoryStore;
  recorder: HistoryRecorder;
  close(): Promise<void>;
}

/** A runtime registry (on `registryFile`, or in memory) and a started recorder into a store with `opts`. */
export function recorded(appliances: Map<string, MitigationAppliance>, opts: HistoryOptions = {}, registryFile?: string): Recorded {
  const rt = runtime(registryFile, appliances);
  const store = new HistoryStore(opts);
  const name = (id: string) => (appliances.get(id) as { name?: string } | undefined)?.name ?? id;
  const recorder = new HistoryRecorder(store, rt.registry, { applianceName: name, log: { warn: () => undefined } });
  recorder.start();
  return {
    ...rt,
    store,
    recorder,
    async close() {
      await rt.registry.decisions.idle();
      await rt.registry.shutdown();
      await recorder.idle();
      recorder.stop();
      await store.close();
    },
  };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'flowmon-history-'));
}

/** An ADS event as the parser node gives it. */
export function adsEvent(over: Partial<AdsEvent> = {}): AdsEvent {
  return {
    kind: 'ads',
    format: 'tsv-standard',
    id: '777',
    detectedAt: null,
    firstFlowAt: null,
    method: 'SSHDICT',
    subtype: null,
    mitre: null,
    description: 'SSH dictionary attack',
    perspective: 'Security issues',
    priority: 'critical',
    detail: '',
    ports: null,
    protocol: null,
    source: '10.9.9.9',
    sourceName: null,
    targets: [],
    dataFeed: null,
    userIdentity: null,
    raw: '',
    ...over,
  };
}
