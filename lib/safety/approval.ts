/**
 * Approval mode of an appliance configuration: which new blocks wait for a person before they are applied, how long
 * they wait, and what happens when nobody decides in time.
 */
import { PRIORITIES, Priority, priorityRank } from '../ads/event';
import { readNumber, readText } from '../config/fields';
import type { TimeoutAction } from '../decisions/types';

export type ApprovalMode = 'never' | 'below' | 'always';

export interface ApprovalPolicy {
  mode: ApprovalMode;
  /** Mode `below`: events of this priority or higher go through, the rest wait. */
  priority: Priority;
  decideWithinMs: number;
  onTimeout: TimeoutAction;
}

/** The config-node fields of the approval mode (each may be `${ENV_VAR}` text). */
export interface ApprovalFields {
  approval?: unknown;
  approvalPriority?: unknown;
  /** Minutes. */
  decideWithin?: unknown;
  onTimeout?: unknown;
}

export const APPROVAL_DEFAULTS = {
  mode: 'never',
  priority: 'critical',
  decideWithinMinutes: 60,
  onTimeout: 'discard',
} as const;

const MODES: readonly ApprovalMode[] = ['never', 'below', 'always'];
const TIMEOUT_ACTIONS: readonly TimeoutAction[] = ['discard', 'apply'];

function readChoice<T extends string>(value: unknown, fallback: T, choices: readonly T[], name: string): T {
  const text = readText(value, fallback).toLowerCase();
  if (!(choices as readonly string[]).includes(text)) throw new Error(`${name} must be one of ${choices.join(', ')}`);
  return text as T;
}

export function readApprovalPolicy(fields: ApprovalFields): ApprovalPolicy {
  const minutes = readNumber(fields.decideWithin, APPROVAL_DEFAULTS.decideWithinMinutes, {
    name: 'decide within (minutes)',
    min: 1,
    max: 7 * 24 * 60,
  });
  return {
    mode: readChoice(fields.approval, APPROVAL_DEFAULTS.mode, MODES, 'approval'),
    priority: readChoice(fields.approvalPriority, APPROVAL_DEFAULTS.priority, PRIORITIES, 'approval priority'),
    decideWithinMs: minutes * 60_000,
    onTimeout: readChoice(fields.onTimeout, APPROVAL_DEFAULTS.onTimeout, TIMEOUT_ACTIONS, 'when no one decides'),
  };
}

/** The priority a request is judged by: the event's, or medium for a request without one (a manual block). */
export function effectivePriority(priority: Priority | null | undefined): Priority {
  return priority ?? 'medium';
}

/** Queue priority of a request (higher is served first): critical 5 … informational 1; a request without one counts as medium. */
export function queuePriority(priority: Priority | null | undefined): number {
  return priorityRank(effectivePriority(priority)) + 1;
}

/** Why a new block of this priority must wait for a person, or null when it may go without one. */
export function approvalReason(policy: ApprovalPolicy, priority: Priority | null | undefined): string | null {
  if (policy.mode === 'always') return 'approval required for every new block';
  if (policy.mode === 'below' && priorityRank(effectivePriority(priority)) < priorityRank(policy.priority)) {
    return `approval required for events below ${policy.priority}`;
  }
  return null;
}
