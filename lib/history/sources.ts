/**
 * What becomes a history record: registry changes (every block, release, hold and decision is one, once durable)
 * and the appliance nodes' results that never reach the registry (refused, failed; see lib/metrics/signals).
 * DecisionService events are not read: each of them announces a registry change recorded here already.
 */
import type { AdsEvent } from '../ads/event';
import type { DecidedBy, HeldEvent } from '../decisions/types';
import type { MitigationSignal } from '../metrics/signals';
import { cryptoSpikeScopeKey, loadMasterScopeKey } from '../mitigation/types';
import type { RegistryEntry } from '../registry/entry';
import type { RegistryChange } from '../registry/registry';
import { HistoryAction, HistoryRecord, PACKAGE_ACTOR } from './record';

/** A record before the store gives it its id, time and the appliance's name. */
export type RecordDraft = Omit<HistoryRecord, 'id' | 'at' | 'appliance'>;

type Actor = Pick<HistoryRecord, 'actorKind' | 'actor'> & { cause?: string };

const PACKAGE: Actor = { actorKind: 'package', actor: PACKAGE_ACTOR };

/** Who decided, as an actor; the decide-by default is the package's. */
export function deciderActor(by: DecidedBy | undefined): Actor {
  if (!by || by.kind === 'timeout') return { ...PACKAGE, cause: 'timeout' };
  if (by.kind === 'user') return { actorKind: 'user', actor: by.name, cause: 'person' };
  return { actorKind: 'flow', actor: by.node, cause: 'flow' };
}

/** The record of a registry change, or null for a change that is no decision (releasing, deferred, pruned, …). */
export function draftFromChange(change: RegistryChange): RecordDraft | null {
  const e = change.entry;
  switch (change.type) {
    case 'armed':
    case 'applied':
      return blockDraft(e);
    case 'extended':
      return draft(e, 'extended', PACKAGE, { ttlSeconds: e.ttlSeconds, expiresAt: e.expiresAt });
    case 'released':
      return draft(e, 'released', releaser(e));
    case 'release-failed':
      return draft(e, 'release-failed', PACKAGE, { detail: e.lastError });
    case 'orphaned':
      return draft(e, 'orphaned', PACKAGE, { detail: e.lastError });
    case 'forgotten':
      // Only the blocks admin route forgets an entry (an operator confirmed it is gone); it names no user.
      return draft(e, 'forgotten', { actorKind: 'user', actor: '', cause: 'person' });
    case 'held':
      return draft(e, 'held', { ...PACKAGE, cause: e.hold?.reason }, { ttlSeconds: e.ttlSeconds, detail: e.hold?.reasonText });
    case 'approving':
      return draft(e, 'approved', deciderActor(e.decision?.by), { ttlSeconds: e.ttlSeconds });
    case 'discarded': {
      // A refusal by the appliance when the approved block was applied keeps the approver and names the reason.
      const actor = e.lastError ? { ...deciderActor(e.decision?.by), cause: 'appliance' } : deciderActor(e.decision?.by);
      return draft(e, 'discarded', actor, { detail: e.lastError ?? e.hold?.reasonText });
    }
    case 'apply-failed':
      return draft(e, 'failed', { ...deciderActor(e.decision?.by), cause: 'decision' }, { detail: e.lastError });
    default:
      return null;
  }
}

/** A block on the appliance (or simulated): by an event, or by a decision on a held block. */
function blockDraft(e: RegistryEntry): RecordDraft {
  const actor = e.decision?.action === 'approve' ? { ...deciderActor(e.decision.by), cause: 'decision' } : PACKAGE;
  return draft(e, e.simulated ? 'simulated' : 'blocked', actor, { ttlSeconds: e.ttlSeconds, expiresAt: e.expiresAt });
}

function releaser(e: RegistryEntry): Actor {
  if (e.releasedBy === 'manual') return { actorKind: 'user', actor: e.releaseRequestedBy ?? '', cause: 'person' };
  if (e.releasedBy === 'flow') return { actorKind: 'flow', actor: e.owner ?? '', cause: 'flow' };
  return { ...PACKAGE, cause: 'expiry' };
}

function draft(e: RegistryEntry, action: HistoryAction, actor: Actor, extra: Partial<RecordDraft> = {}): RecordDraft {
  const out: RecordDraft = {
    action,
    kind: e.kind,
    configId: e.configId,
    scope: e.scope,
    target: e.target,
    ...eventFields(e.hold?.event ?? null, e.eventIds[e.eventIds.length - 1]),
    actorKind: actor.actorKind,
    actor: actor.actor,
    ...extra,
  };
  if (e.label) out.label = e.label;
  if (actor.cause) out.cause = actor.cause;
  return out;
}

function eventFields(event: HeldEvent | AdsEvent | null, fallbackId?: string): Partial<RecordDraft> {
  const out: Partial<RecordDraft> = {};
  const id = event?.id ?? fallbackId;
  if (id) out.eventId = id;
  if (!event) return out;
  out.method = event.method;
  if (event.priority) out.priority = event.priority;
  if (event.perspective) out.perspective = event.perspective;
  out.description = event.description;
  return out;
}

/** A refused or failed result of an appliance node (it never reaches the registry); null for any other result. */
export function draftFromSignal({ mitigation: m, event }: MitigationSignal): RecordDraft | null {
  if (m.result !== 'refused' && m.result !== 'failed') return null;
  const actor: Actor = event ? PACKAGE : { actorKind: 'flow', actor: '' };
  const base = { action: m.result, actorKind: actor.actorKind, actor: actor.actor, ...eventFields(event) };
  const detail = m.reason ? { detail: m.reason } : {};
  if (m.appliance === 'loadmaster') {
    return { ...base, kind: 'loadmaster', configId: m.config, scope: loadMasterScopeKey(m.list, m.scope), target: m.address, ...detail };
  }
  const label = m.user?.username ? { label: m.user.username } : {};
  const target = m.user?.userId ?? event?.source ?? '';
  return { ...base, kind: 'cryptospike', configId: m.config, scope: cryptoSpikeScopeKey(m.userIdType), target, ...label, ...detail };
}
