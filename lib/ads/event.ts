/** One Flowmon ADS or IDS event, whatever format it arrived in (the payload of `flowmon-ads-event` output 1). */
export interface AdsEvent {
  kind: 'ads' | 'ids';
  format: AdsEventFormat;
  id: string | null;
  detectedAt: string | null;
  firstFlowAt: string | null;
  /** ADS method code, e.g. SSHDICT; "IDS" for IDS events. */
  method: string;
  subtype: string | null;
  mitre: string | null;
  description: string;
  perspective: string | null;
  priority: Priority | null;
  detail: string;
  ports: string | null;
  protocol: string | null;
  /** Canonical address text (node:net; IPv4-mapped IPv6 becomes IPv4). */
  source: string;
  sourceName: string | null;
  targets: string[];
  dataFeed: string | null;
  userIdentity: string | null;
  raw: string;
}

export type AdsEventFormat = 'tsv-standard' | 'tsv-extended' | 'tsv-ids' | 'json-ads' | 'json-ids' | 'cef';

export const PRIORITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function priorityRank(priority: Priority | null): number {
  return priority === null ? -1 : PRIORITIES.indexOf(priority);
}

/** Duck-typed check used by the appliance nodes on `msg.payload`. */
export function isAdsEvent(value: unknown): value is AdsEvent {
  const v = value as Partial<AdsEvent> | null;
  return !!v && typeof v === 'object' && (v.kind === 'ads' || v.kind === 'ids') && typeof v.source === 'string';
}
