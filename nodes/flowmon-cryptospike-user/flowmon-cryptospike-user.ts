// flowmon-cryptospike-user: finds the Windows user behind an event's source address and blocks (or unblocks, or only
// reports) them on CryptoSpike. Output 1: acted, or held for a person's decision (wired to the TTL node, which
// records the hold); output 2: not acted (no user, ambiguous, refused, failed).
import { isIP } from 'node:net';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { isAdsEvent } from '../../lib/ads/event';
import { readNumber } from '../../lib/config/fields';
import { signalMitigation } from '../../lib/metrics/signals';
import type { ActRequest, CryptoSpikeAction } from '../../lib/cryptospike/responder';
import type { CryptoSpikeConfigNode } from '../flowmon-cryptospike-config/config-node';

interface UserNodeDef extends NodeDef {
  config: string;
  action?: string;
  windowMinutes?: string | number;
}

const ACTIONS: readonly CryptoSpikeAction[] = ['block', 'unblock', 'resolve'];

export = function (RED: NodeAPI): void {
  function CryptoSpikeUser(this: Node, def: UserNodeDef): void {
    RED.nodes.createNode(this, def);
    setUp(this, def);
  }

  function setUp(node: Node, def: UserNodeDef): void {
    const config = RED.nodes.getNode(def.config) as CryptoSpikeConfigNode | null;
    const defaultAction = (ACTIONS as readonly string[]).includes(def.action ?? '') ? (def.action as CryptoSpikeAction) : 'block';
    let windowMinutes = 30;
    let setupError: string | null = null;
    try {
      windowMinutes = readNumber(def.windowMinutes, 30, { name: 'window (minutes)', min: 1, max: 7 * 24 * 60 });
    } catch (err) {
      setupError = (err as Error).message;
    }
    if (!config) setupError = 'no CryptoSpike appliance configured';
    else if (config.configError) setupError = `CryptoSpike configuration: ${config.configError}`;
    if (setupError) node.status({ fill: 'red', shape: 'ring', text: setupError.slice(0, 60) });
    const counts = { acted: 0, held: 0, notActed: 0 };

    node.on('input', async (msg: NodeMessageInFlow, send, done) => {
      try {
        if (setupError || !config?.responder) throw new Error(setupError ?? 'CryptoSpike configuration missing');
        const request = { ...requestFrom(msg, defaultAction), windowMinutes };
        const outcome = await config.responder.act(request);
        const payload = { ...(msg.payload as object), mitigation: outcome.mitigation };
        const out: NodeMessage = { ...msg, payload };
        const { result, user } = outcome.mitigation;
        const held = result === 'held';
        if (outcome.acted) counts.acted++;
        else if (held) counts.held++;
        else counts.notActed++;
        const heldText = counts.held > 0 ? `held ${counts.held} · ` : '';
        node.status({
          fill: outcome.error ? 'red' : outcome.acted ? 'green' : 'yellow',
          shape: 'dot',
          text: `${result}${user ? ` ${user.username ?? user.userId}` : ''} · ${heldText}${counts.acted} acted, ${counts.notActed} not`,
        });
        signalMitigation(outcome.mitigation, isAdsEvent(msg.payload) ? msg.payload : null);
        send(outcome.acted || held ? [out, null] : [null, out]);
        done(outcome.error);
      } catch (err) {
        done(err as Error);
      }
    });
  }

  RED.nodes.registerType('flowmon-cryptospike-user', CryptoSpikeUser as unknown as (this: Node, def: NodeDef) => void);
};

function requestFrom(msg: NodeMessageInFlow, defaultAction: CryptoSpikeAction): Omit<ActRequest, 'windowMinutes'> {
  const asked = (msg as { action?: unknown }).action;
  if (asked !== undefined && !(ACTIONS as readonly unknown[]).includes(asked)) {
    throw new Error(`msg.action must be "block", "unblock" or "resolve", got ${JSON.stringify(asked)}`);
  }
  const action = (asked as CryptoSpikeAction | undefined) ?? defaultAction;
  const payload = msg.payload as Record<string, unknown> | null;
  const event = isAdsEvent(payload) ? payload : null;
  if (payload && typeof payload === 'object' && 'userId' in payload) {
    const userId = typeof payload.userId === 'string' ? payload.userId.trim() : '';
    if (!userId) throw new Error('msg.payload.userId must be a non-empty string (a user id such as a Windows SID)');
    const username = typeof payload.username === 'string' ? payload.username : null;
    return { action, event, explicit: { userId, username } };
  }
  if (!event) {
    throw new Error('msg.payload must be an event from flowmon-ads-event or carry msg.payload.userId');
  }
  if (!isIP(event.source)) throw new Error(`the event's source "${event.source}" is not an IP address`);
  return { action, event };
}
