import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { DecideResult, DecideStatus } from '../../lib/decisions/types';
import { getRegistry, RuntimeRegistry } from '../../lib/registry';
import { plainText } from '../../lib/text/plain-text';
import { countResults, decideRequest, readInput } from './request';
import { coalesce } from '../../lib/timing/coalesce';

type Send = (msg: NodeMessageInFlow) => void;

const FILL: Record<DecideStatus, 'green' | 'yellow' | 'red'> = {
  approved: 'green',
  discarded: 'green',
  'not-held': 'yellow',
  unknown: 'yellow',
  invalid: 'red',
};

export = function (RED: NodeAPI) {
  function FlowmonDecision(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: NodeDef): void {
    const registry: RuntimeRegistry = getRegistry(RED);
    // Who decided, as recorded on the entry and announced: this node's name, or its id.
    const by = plainText(def.name, 128) || node.id;
    let last: { text: string; fill: 'green' | 'yellow' | 'red' } | undefined;

    function showStatus(): void {
      const held = registry.summary().held;
      const waiting = `${held} waiting`;
      node.status(
        last
          ? { fill: last.fill, shape: held ? 'ring' : 'dot', text: `${last.text} · ${waiting}` }
          : { fill: held ? 'yellow' : 'grey', shape: 'ring', text: waiting },
      );
    }

    const statusUpdate = coalesce(() => showStatus(), 500);
    const scheduleStatus = (): void => statusUpdate.schedule();

    function remember(results: readonly DecideResult[]): void {
      if (results.length === 1) {
        const r = results[0];
        const target = registry.get(r.id)?.target;
        last = { text: target ? `${r.status} ${target}` : r.status, fill: FILL[r.status] };
        return;
      }
      const counts = countResults(results);
      const parts = (Object.keys(counts) as DecideStatus[]).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
      const worst = counts.invalid ? 'red' : counts['not-held'] || counts.unknown ? 'yellow' : 'green';
      last = { text: parts.join(', '), fill: worst };
    }

    async function handle(msg: NodeMessageInFlow, send: Send): Promise<void> {
      const input = readInput(msg.payload, msg.topic);
      let results: DecideResult[];
      if (!input.ok) results = [input.result];
      else {
        const request = decideRequest(input, by);
        results = input.many
          ? await registry.decisions.decideMany(input.ids, request)
          : [await registry.decisions.decide(input.ids[0], request)];
      }
      remember(results);
      showStatus();
      const out = msg as NodeMessageInFlow & { counts?: Record<DecideStatus, number> };
      if (input.ok && input.many) {
        out.payload = results;
        out.counts = countResults(results);
      } else {
        out.payload = results[0];
      }
      send(out);
    }

    node.on('input', (msg, send, done) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    registry.on('change', scheduleStatus);
    node.on('close', (_removed: boolean, done: () => void) => {
      registry.off('change', scheduleStatus);
      statusUpdate.cancel();
      done();
    });

    showStatus();
  }

  RED.nodes.registerType('flowmon-decision', FlowmonDecision);
};
