import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { isAdsEvent } from '../../lib/ads/event';
import { unlessUnsetEnv } from '../../lib/config/fields';
import { Mitigation, MitigationKey, mitigationKey } from '../../lib/mitigation/types';
import { getRegistry, RegistryChange, RuntimeRegistry } from '../../lib/registry';
import type { DecisionEvent } from '../../lib/decisions/types';
import { heldLabel } from '../../lib/decisions/held-label';
import { reconcile } from '../../lib/lifecycle/reconcile';
import { EscalationPolicy, escalate, formatDuration, parseTtl, toSeconds, TtlUnit } from '../../lib/lifecycle/ttl';
import { coalesce } from '../../lib/timing/coalesce';

interface TtlNodeDef extends NodeDef {
  ttl: number | string;
  ttlUnit: TtlUnit;
  escalate: boolean;
  factor: number | string;
  lookback: number | string;
  lookbackUnit: TtlUnit;
  maxTtl: number | string;
  maxTtlUnit: TtlUnit;
  /** Minutes between reconciles; 0 disables. */
  reconcile: number | string;
}

type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;
type Payload = { mitigation?: Mitigation; event?: { id?: unknown } } | undefined;

const ARMING = new Set(['added', 'already-present', 'blocked', 'already-blocked']);
const RELEASED = new Set(['removed', 'already-absent', 'unblocked']);
const NOTIFIED = new Set(['released', 'release-failed', 'orphaned']);

/** Ids of TTL nodes currently deployed: lifecycle messages of entries whose owner is gone go to the first of them. */
const liveNodes = new Set<string>();

export = function (RED: NodeAPI) {
  /** The dialog's number in its unit, or text with its own unit ("30s", "24h": e.g. from `${BLOCK_TTL}`). */
  function dialogTtl(def: TtlNodeDef, warn: (text: string) => void): number {
    const text = String(unlessUnsetEnv(def.ttl ?? '')).trim();
    if (text === '') {
      warn('no TTL set (an unset ${BLOCK_TTL}?): blocks last the default 24 h');
      return parseTtl('24h');
    }
    if (/[smhd]$/i.test(text)) return parseTtl(text);
    return parseTtl(toSeconds(Number(text), def.ttlUnit ?? 'h'));
  }

  function FlowmonMitigationTtl(this: Node, def: TtlNodeDef) {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: TtlNodeDef): void {
    const registry: RuntimeRegistry = getRegistry(RED);
    let baseTtl = 0;
    let configError: Error | undefined;
    try {
      baseTtl = dialogTtl(def, (text) => node.warn(text));
    } catch (err) {
      configError = new Error(`invalid TTL in the node settings: ${(err as Error).message}`);
    }
    const policy: EscalationPolicy | undefined = def.escalate
      ? {
          factor: Number(def.factor ?? 2),
          lookbackSeconds: toSeconds(Number(def.lookback ?? 7), def.lookbackUnit ?? 'd'),
          maxSeconds: toSeconds(Number(def.maxTtl ?? 30), def.maxTtlUnit ?? 'd'),
        }
      : undefined;
    if (policy) registry.ensureRetention(2 * policy.lookbackSeconds * 1000);
    const reconcileMs = Math.max(0, Number(def.reconcile ?? 15)) * 60_000;
    let reconcileTimer: NodeJS.Timeout | undefined;
    const statusUpdate = coalesce(() => showStatus(), 500);
    const scheduleStatus = (): void => statusUpdate.schedule();
    liveNodes.add(node.id);

    const responsible = (owner: string | undefined): boolean =>
      owner === node.id || ((!owner || !liveNodes.has(owner)) && [...liveNodes].sort()[0] === node.id);

    const onChange = (c: RegistryChange) => {
      scheduleStatus();
      // A change made on another instance is announced there: one cluster sends each message once.
      if (!c.remote && NOTIFIED.has(c.type) && responsible(c.entry.owner)) {
        node.send({ topic: c.type, payload: { event: c.type, entry: c.entry } });
      }
    };
    registry.on('change', onChange);

    // approved, applied, apply-failed, discarded: every decision on a held block, whoever took it.
    const onDecision = (d: DecisionEvent) => {
      if (!responsible(d.entry.owner)) return;
      const msg: NodeMessage & { ttl?: number } = { topic: d.type, payload: { event: d.type, ...d } };
      if (d.type === 'applied') msg.ttl = d.entry.ttlSeconds;
      node.send(msg);
    };
    registry.decisions.on('decision', onDecision);

    function showStatus(): void {
      const s = registry.summary((e) => responsible(e.owner));
      const held = s.held ? `, ${s.held} held` : '';
      const next = s.nextExpiry === undefined ? '' : `, next in ${formatDuration(s.nextExpiry - Date.now())}`;
      const extra = [
        s.approving ? `${s.approving} applying` : '',
        s.pending ? `${s.pending} releasing` : '',
        s.orphaned ? `${s.orphaned} orphaned` : '',
      ]
        .filter(Boolean)
        .join(', ');
      node.status({
        fill: s.held || s.approving || s.pending || s.orphaned ? 'yellow' : s.active ? 'green' : 'grey',
        shape: s.held ? 'ring' : 'dot',
        text: `${s.active} active${held}${next}${extra ? ` (${extra})` : ''}`,
      });
    }

    function scheduleReconcile(): void {
      if (reconcileMs === 0) return;
      reconcileTimer = setTimeout(() => {
        // Reconcile belongs to the releasing instance (on a PostgreSQL store, the others leave it to it).
        registry.scheduler
          .confirmLeading()
          .then((leading) => (leading ? reconcile(registry.values(), (id) => registry.resolveAppliance(id), (e) => responsible(e.owner)) : []))
          .then((reports) => {
            for (const r of reports) node.send({ topic: 'reconciled', payload: { event: 'reconciled', ...r } });
          })
          .catch((err: unknown) => node.warn(`reconcile failed: ${err instanceof Error ? err.message : err}`))
          .finally(scheduleReconcile);
      }, reconcileMs);
    }

    /** The TTL a block of this key gets: msg.ttl or the dialog's, escalated for a repeat offender. */
    function ttlFor(msg: NodeMessageInFlow, key: MitigationKey): { ttlSeconds: number; base: number; earlier: number } {
      const ttlIn = (msg as { ttl?: unknown }).ttl;
      if (ttlIn === undefined && configError) throw configError;
      const base = ttlIn === undefined ? baseTtl : parseTtl(ttlIn);
      const earlier = policy ? registry.earlierBlocks(key, policy.lookbackSeconds * 1000) : 0;
      return { ttlSeconds: escalate(base, earlier, policy), base, earlier };
    }

    /** The id of the ADS event behind the message (the appliance nodes pass the event on as the payload). */
    function eventIdOf(msg: NodeMessageInFlow, payload: Payload): string | undefined {
      const id = isAdsEvent(payload) ? payload.id : (payload?.event?.id ?? (msg as { event?: { id?: unknown } }).event?.id);
      return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
    }

    /** A held block: recorded to wait for a person, and announced with all a person needs to decide. */
    async function hold(msg: NodeMessageInFlow, send: Send, m: Mitigation, payload: Payload): Promise<void> {
      if (!m.hold) throw new Error(`the held ${m.appliance} mitigation says nothing about the hold (mitigation.hold)`);
      const key = mitigationKey(m);
      if (!key) throw new Error(`the held ${m.appliance} mitigation names no target, so it cannot wait for a decision`);
      const { ttlSeconds } = ttlFor(msg, key);
      const result = await registry.hold({
        key,
        kind: m.appliance,
        hold: m.hold,
        ttlSeconds,
        eventId: eventIdOf(msg, payload),
        owner: node.id,
        label: heldLabel(m),
      });
      if (result.type !== 'held') return; // counted on the entry already waiting, or the key is blocked already
      const out = RED.util.cloneMessage(msg) as NodeMessage & { ttl?: number };
      out.topic = 'held';
      out.ttl = ttlSeconds;
      out.payload = { event: 'held', entry: result.entry, mitigation: m };
      send(out);
    }

    async function handle(msg: NodeMessageInFlow, send: Send): Promise<void> {
      const payload = msg.payload as Payload;
      const m = payload?.mitigation;
      if (!m || typeof m !== 'object' || (m.appliance !== 'loadmaster' && m.appliance !== 'cryptospike')) {
        throw new Error('msg.payload.mitigation is missing: wire this node to a LoadMaster or CryptoSpike node');
      }
      if (m.result === 'held') return hold(msg, send, m, payload);
      const arming =
        ARMING.has(m.result) || (m.result === 'simulated' && (m.action === 'add' || m.action === 'block'));
      if (!arming && !RELEASED.has(m.result)) return; // refused, failed, … : nothing was applied
      const key = mitigationKey(m);
      if (!key) throw new Error(`the ${m.appliance} mitigation names no target, so no TTL can be kept for it`);
      if (!arming) {
        const entry = registry.getByKey(key);
        if (entry && entry.state !== 'released') await registry.markReleased(entry.id, 'flow');
        return;
      }
      const { ttlSeconds, base, earlier } = ttlFor(msg, key);
      const result = await registry.arm({
        key,
        kind: m.appliance,
        ttlSeconds,
        simulated: m.result === 'simulated',
        eventId: eventIdOf(msg, payload),
        owner: node.id,
        label: m.appliance === 'cryptospike' ? (m.user?.username ?? undefined) : undefined,
      });
      const out = RED.util.cloneMessage(msg) as NodeMessage & { ttl?: number };
      out.topic = result.type;
      out.ttl = ttlSeconds;
      out.payload = {
        event: result.type,
        entry: result.entry,
        mitigation: m,
        ...(result.previousExpiresAt !== undefined ? { previousExpiresAt: result.previousExpiresAt } : {}),
        ...(earlier > 0 ? { escalation: { earlierBlocks: earlier, baseTtl: base } } : {}),
      };
      send(out);
    }

    node.on('input', (msg, send, done) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      // Entries are never flushed or forgotten here: the runtime-level scheduler keeps releasing them.
      registry.off('change', onChange);
      registry.decisions.off('decision', onDecision);
      liveNodes.delete(node.id);
      statusUpdate.cancel();
      if (reconcileTimer) clearTimeout(reconcileTimer);
      done();
    });

    showStatus();
    scheduleReconcile();
  }

  RED.nodes.registerType('flowmon-mitigation-ttl', FlowmonMitigationTtl);
};
