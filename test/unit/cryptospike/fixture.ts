// Shared by the CryptoSpike specs: an ADS event, a flow with the config and user nodes wired to helper nodes, and a
// harness that loads it and collects the outputs.
import helper, { type TestFlows } from 'node-red-node-test-helper';
import configNode = require('../../../nodes/flowmon-cryptospike-config/flowmon-cryptospike-config');
import userNode = require('../../../nodes/flowmon-cryptospike-user/flowmon-cryptospike-user');
import type { AdsEvent } from '../../../lib/ads/event';
import type { CryptoSpikeMitigation } from '../../../lib/mitigation/types';
import type { CryptoSpikeSimulator } from '../../../simulators/cryptospike';

export function adsEvent(source: string, overrides: Partial<AdsEvent> = {}): AdsEvent {
  return {
    kind: 'ads',
    format: 'tsv-extended',
    id: '4711',
    detectedAt: '2026-11-22T10:00:00.000Z',
    firstFlowAt: '2026-11-22T09:58:00.000Z',
    method: 'SMBSCAN',
    subtype: null,
    mitre: null,
    description: 'SMB scan',
    perspective: 'Security issues',
    priority: 'high',
    detail: 'targets: 3',
    ports: '445',
    protocol: 'TCP',
    source,
    sourceName: null,
    targets: ['10.1.0.1', '10.1.0.2', '10.1.0.3'],
    dataFeed: 'probe-1',
    userIdentity: null,
    raw: '',
    ...overrides,
  };
}

export function cryptoSpikeFlow(
  sim: CryptoSpikeSimulator,
  config: Record<string, unknown> = {},
  user: Record<string, unknown> = {},
): TestFlows {
  const flow: Array<Record<string, unknown>> = [
    { id: 'f1', type: 'tab' },
    {
      id: 'cs',
      type: 'flowmon-cryptospike-config',
      url: sim.url,
      tlsMode: 'fingerprint',
      tlsFingerprint: sim.fingerprint,
      ...config,
    },
    { id: 'u', z: 'f1', type: 'flowmon-cryptospike-user', config: 'cs', wires: [['acted'], ['notActed']], ...user },
    { id: 'acted', z: 'f1', type: 'helper' },
    { id: 'notActed', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
  return flow as TestFlows;
}

export interface UserOutput {
  port: 1 | 2;
  msg: { payload: Record<string, unknown> & { mitigation: CryptoSpikeMitigation }; action?: string };
}

/** Loads the CryptoSpike flow and collects the user node's outputs (`acted` is output 1, `notActed` output 2) and Catch messages. */
export class UserNodeHarness {
  outputs: UserOutput[] = [];
  caught: Array<{ error: { message: string } }> = [];

  constructor(private readonly sim: () => CryptoSpikeSimulator) {}

  async load(config: Record<string, unknown> = {}, user: Record<string, unknown> = {}, creds?: object): Promise<void> {
    const sim = this.sim();
    await helper.load([configNode, userNode], cryptoSpikeFlow(sim, config, user), {
      cs: creds ?? { username: sim.username, password: sim.password },
    });
    this.outputs = [];
    this.caught = [];
    (helper.getNode('acted') as any).on('input', (msg: UserOutput['msg']) => this.outputs.push({ port: 1, msg }));
    (helper.getNode('notActed') as any).on('input', (msg: UserOutput['msg']) => this.outputs.push({ port: 2, msg }));
    (helper.getNode('caught') as any).on('input', (msg: { error: { message: string } }) => this.caught.push(msg));
  }

  /** Sends the messages and waits for one output per message. */
  async run(...msgs: object[]): Promise<UserOutput[]> {
    const before = this.outputs.length;
    for (const msg of msgs) helper.getNode('u').receive(msg as never);
    const deadline = Date.now() + 8_000;
    while (this.outputs.length < before + msgs.length) {
      if (Date.now() > deadline) throw new Error(`only ${this.outputs.length - before} of ${msgs.length} outputs arrived`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.outputs.slice(before);
  }

  async one(msg: object): Promise<UserOutput> {
    return (await this.run(msg))[0];
  }
}
