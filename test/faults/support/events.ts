// ADS detections as the scripts send them (standard TSV, 15 fields), and the users behind their sources.
import type { CryptoSpikeSimulator } from '../../../simulators/cryptospike';

/** Documentation range 198.51.100.0/22 (TEST-NET-2 and neighbours): never one of the protected addresses. */
export function sourceAddress(i: number): string {
  return `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function userOf(i: number): { userId: string; username: string } {
  return { userId: `S-1-5-21-4000-${1000 + i}`, username: `user${i}` };
}

export interface TsvFields {
  id: string;
  detected: string;
  firstFlow: string;
  method: string;
  description: string;
  perspective: string;
  priority: string;
  detail: string;
  ports: string;
  protocol: string;
  source: string;
  sourceName: string;
  targets: string;
  dataFeed: string;
  userIdentity: string;
}

export const TSV_ORDER: (keyof TsvFields)[] = [
  'id', 'detected', 'firstFlow', 'method', 'description', 'perspective', 'priority', 'detail', 'ports', 'protocol',
  'source', 'sourceName', 'targets', 'dataFeed', 'userIdentity',
];

export function tsvFields(id: number | string, source: string, overrides: Partial<TsvFields> = {}): TsvFields {
  return {
    id: String(id),
    detected: '2025-03-10 08:15:00',
    firstFlow: '2025-03-10 08:10:00',
    method: 'SCANS',
    description: 'Port scanning',
    perspective: 'Security Issues',
    priority: 'High',
    detail: 'Port scanning of 3 hosts.',
    ports: '445',
    protocol: 'TCP',
    source,
    sourceName: ' ',
    targets: '203.0.113.7',
    dataFeed: 'LAN',
    userIdentity: ' ',
    ...overrides,
  };
}

export function tsvLine(f: TsvFields): string {
  return TSV_ORDER.map((k) => f[k]).join('\t');
}

export function eventLine(id: number | string, source: string, overrides: Partial<TsvFields> = {}): string {
  return tsvLine(tsvFields(id, source, overrides));
}

/** One user with file activity at each of the first `count` sources (source i ↔ user i). */
export function seedUsers(cs: CryptoSpikeSimulator, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) {
    const { userId, username } = userOf(i);
    cs.seedActivity(sourceAddress(i), userId, username, 3);
  }
}

export function body(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
