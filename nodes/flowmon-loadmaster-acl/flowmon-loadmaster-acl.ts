import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { isAdsEvent } from '../../lib/ads/event';
import { AclOutcome } from '../../lib/loadmaster/service';
import { signalMitigation } from '../../lib/metrics/signals';
import { queuePriority } from '../../lib/safety/approval';
import type { LoadMasterList, LoadMasterMitigation, LoadMasterScope } from '../../lib/mitigation/types';
import type { LoadMasterConfigNode } from '../flowmon-loadmaster-config/types';
import { readAclRequest, renderComment } from './request';

interface AclDef extends NodeDef {
  config: string;
  action: 'add' | 'remove';
  list: LoadMasterList;
  scope: 'global' | 'vs';
  vs: string;
  comment: string;
}

type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;

const DONE = new Set(['added', 'already-present', 'removed', 'already-absent', 'simulated']);
/** Output 1 also carries held blocks: it is wired to the TTL node, which records them for a person's decision. */
const OUTPUT_1 = new Set([...DONE, 'held']);
const FILL: Record<string, 'green' | 'blue' | 'yellow' | 'red'> = { simulated: 'blue', held: 'yellow', refused: 'yellow', failed: 'red' };

function scopeText(scope: LoadMasterScope): string {
  return scope === 'global' ? 'global' : `VS ${scope.vs}`;
}

export = function (RED: NodeAPI) {
  function FlowmonLoadMasterAcl(this: Node, def: AclDef) {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: AclDef): void {
    const config = RED.nodes.getNode(def.config) as LoadMasterConfigNode | null;
    if (!config) node.status({ fill: 'red', shape: 'ring', text: 'no LoadMaster configuration' });

    let held = 0;
    const report = (outcome: AclOutcome, depth: number) => {
      if (outcome.result === 'held') held++;
      const last = outcome.result === 'held' ? '' : `${outcome.result} ${outcome.address} (${scopeText(outcome.scope)}) · `;
      node.status({
        fill: FILL[outcome.result] ?? 'green',
        shape: OUTPUT_1.has(outcome.result) ? 'dot' : 'ring',
        text: `${last}${held > 0 ? `held ${held} · ` : ''}queue ${depth}`,
      });
    };

    const handle = async (msg: NodeMessageInFlow, send: Send): Promise<Error | undefined> => {
      const event = isAdsEvent(msg.payload) ? msg.payload : null;
      const parsed = readAclRequest(msg, { action: def.action, list: def.list, scope: def.scope, vs: def.vs });
      let outcome: AclOutcome;
      if ('reason' in parsed) {
        outcome = { ...parsed, result: 'refused' };
      } else if (!config?.loadMaster) {
        const reason = config ? `LoadMaster configuration: ${config.configError}` : 'no LoadMaster configuration selected';
        outcome = { ...parsed, result: 'failed', reason, error: new Error(reason) };
      } else {
        node.status({ fill: 'grey', shape: 'ring', text: `${parsed.action} ${parsed.address} · queue ${config.loadMaster.queueDepth + 1}` });
        outcome = await config.loadMaster.apply({
          ...parsed,
          comment: renderComment(def.comment, msg, event, parsed.address),
          priority: queuePriority(event?.priority),
          event,
        });
      }
      report(outcome, config?.loadMaster?.queueDepth ?? 0);
      const mitigation: LoadMasterMitigation = {
        appliance: 'loadmaster',
        config: def.config,
        action: outcome.action,
        list: outcome.list,
        scope: outcome.scope,
        address: outcome.address,
        result: outcome.result,
        ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
        ...(outcome.hold ? { hold: outcome.hold } : {}),
        at: new Date().toISOString(),
      };
      const payload =
        msg.payload && typeof msg.payload === 'object' && !Array.isArray(msg.payload)
          ? { ...(msg.payload as object), mitigation }
          : { source: parsed.address, mitigation };
      const out: NodeMessage = { ...msg, payload };
      signalMitigation(mitigation, event);
      send(OUTPUT_1.has(outcome.result) ? [out, null] : [null, out]);
      return outcome.error;
    };

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      handle(msg, send).then(
        (err) => done(err),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  RED.nodes.registerType('flowmon-loadmaster-acl', FlowmonLoadMasterAcl);
};
