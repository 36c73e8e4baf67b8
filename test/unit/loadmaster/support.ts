import helper from 'node-red-node-test-helper';
import { LoadMasterConnection, connectLoadMaster } from '../../../lib/loadmaster/create';
import { LoadMasterConfigFields, LoadMasterCredentials, readLoadMasterSettings } from '../../../lib/loadmaster/settings';
import { LoadMasterSimulator, startLoadMasterSimulator } from '../../../simulators/loadmaster';

/** A paced client for the simulator, pinned to its certificate, with the API key unless credentials are given. */
export function connectTo(
  sim: LoadMasterSimulator,
  fields: LoadMasterConfigFields = {},
  credentials: LoadMasterCredentials = { apiKey: sim.apiKey },
): LoadMasterConnection {
  return connectLoadMaster(
    readLoadMasterSettings({ url: sim.url, tlsFingerprint: sim.fingerprint, timeout: 5, outageRetry: 0, ...fields }, credentials),
  );
}

/** One simulator for the suite, reset before each test (`prepare` then adjusts it); the returned function gives it. */
export function simulatorPerSuite(prepare: (sim: LoadMasterSimulator) => void = () => undefined): () => LoadMasterSimulator {
  let sim: LoadMasterSimulator;
  before(async () => {
    sim = await startLoadMasterSimulator();
  });
  after(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.reset();
    prepare(sim);
  });
  return () => sim;
}

export interface Output<M> {
  port: 1 | 2;
  msg: M;
}

/**
 * The outputs of an ACL node `n1` wired to the helper nodes `ok` (output 1) and `nok` (output 2), listened to once
 * the flow is loaded; `run` sends messages at once and resolves with one output per message, in input order.
 */
export class AclOutputs<M> {
  readonly all: Array<Output<M>> = [];

  listen(): void {
    this.all.length = 0;
    (helper.getNode('ok') as any).on('input', (msg: M) => this.all.push({ port: 1, msg }));
    (helper.getNode('nok') as any).on('input', (msg: M) => this.all.push({ port: 2, msg }));
  }

  async run(...msgs: object[]): Promise<Array<Output<M>>> {
    const before = this.all.length;
    const ids = msgs.map((_, i) => `m${before}-${i}`);
    msgs.forEach((msg, i) => helper.getNode('n1').receive({ ...msg, _msgid: ids[i] } as never));
    const deadline = Date.now() + 10_000;
    while (this.all.length < before + msgs.length) {
      if (Date.now() > deadline) throw new Error(`only ${this.all.length - before} of ${msgs.length} outputs arrived`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const got = this.all.slice(before);
    return ids.map((id) => got.find((o) => (o.msg as { _msgid?: string })._msgid === id)!);
  }
}
