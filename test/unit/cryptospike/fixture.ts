// Shared by the CryptoSpike specs: an ADS event and a flow with the config and user nodes wired to helper nodes.
import type { TestFlows } from 'node-red-node-test-helper';
import type { AdsEvent } from '../../../lib/ads/event';
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
