/**
 * The gate every new block passes before it is applied with nobody asked: approval mode first, then the storm cap.
 * A block that does not pass is held — described by a HoldRequest and left to a person — never dropped.
 */
import type { AdsEvent, Priority } from '../ads/event';
import type { HeldCandidate, HeldEvent, HoldReason, HoldRequest } from '../decisions/types';
import { plainText } from '../text/plain-text';
import { ApprovalPolicy, approvalReason } from './approval';
import type { StormCap } from './storm-cap';

export interface HoldWhy {
  reason: HoldReason;
  reasonText: string;
}

export type HeldEventSource = Pick<AdsEvent, 'id' | 'method' | 'priority' | 'perspective' | 'description' | 'source'>;

/** What the block would be, apart from why it waits. */
export interface HoldParts {
  /** The ADS event that asked for it; null for a manual request. */
  event: HeldEventSource | null;
  /** Queue priority when it is applied. */
  priority: number;
  /** LoadMaster: the comment it would write. */
  comment?: string;
  /** Ambiguous CryptoSpike users: who was seen. */
  candidates?: HeldCandidate[];
}

/** The event reduced to what a person needs to decide, as bounded printable text. */
export function heldEvent(event: HeldEventSource | null): HeldEvent | null {
  if (!event) return null;
  return {
    id: event.id === null ? null : plainText(event.id, 128),
    method: plainText(event.method, 64),
    priority: event.priority,
    perspective: event.perspective === null ? null : plainText(event.perspective, 128),
    description: plainText(event.description, 512),
    source: plainText(event.source, 64),
  };
}

export class HoldGate {
  constructor(
    private readonly stormCap: StormCap,
    readonly policy: ApprovalPolicy,
  ) {}

  /**
   * Why a new block of this priority waits for a person, or null when it goes now (it then counts against the storm
   * cap). Approval mode is asked first, so a block waiting for approval never uses up the cap. A shared cap that
   * cannot be asked holds the block.
   */
  async check(priority: Priority | null | undefined): Promise<HoldWhy | null> {
    const approval = approvalReason(this.policy, priority);
    if (approval) return { reason: 'approval', reasonText: approval };
    if (!(await this.stormCap.tryTake())) return { reason: 'storm', reasonText: this.stormCap.describe() };
    return null;
  }

  /** The whole HoldRequest: why, the event, and the decide-by settings of this configuration. */
  request(why: HoldWhy, parts: HoldParts): HoldRequest {
    return {
      reason: why.reason,
      reasonText: why.reasonText,
      event: heldEvent(parts.event),
      ...(parts.candidates ? { candidates: parts.candidates } : {}),
      decideWithinMs: this.policy.decideWithinMs,
      onTimeout: this.policy.onTimeout,
      ...(parts.comment !== undefined ? { comment: parts.comment } : {}),
      priority: parts.priority,
    };
  }
}
