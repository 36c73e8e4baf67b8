// flowmon-ads-event: ADS/IDS lines in, one message per event (1), rejects (2) and one receipt per input (3). Inputs
// come from the node's own HTTP endpoint (when a path is set) or as messages; both take the same path (intake.ts).
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { takeSecretHeader } from '../../lib/ads/secret';
import { getIntake, INTAKE_PROPERTY, IntakeRecord } from '../../lib/intake';
import { openEndpoint, RouteApp } from './http-endpoint';
import { AdsIntake, eventMessage } from './intake';
import { INTERNAL_ERROR, receiptMessage, receiptOf, refusal } from './receipt';
import { AdsEventCredentials, AdsEventDef, readSettings } from './settings';

export = function (RED: NodeAPI): void {
  function FlowmonAdsEventNode(this: Node<AdsEventCredentials>, config: AdsEventDef): void {
    RED.nodes.createNode(this, config);
    const settings = readSettings(config, (text) => this.warn(text));

    // Accepted events are stored before the receipt leaves. Events a crash left unfinished are sent again once the
    // flows have started, and so are those this instance takes over from a dead one on a shared store (see lib/intake).
    const journal = getIntake(RED as unknown as Parameters<typeof getIntake>[0]);
    const intake = new AdsIntake(this, settings, this.credentials?.secret, journal);
    const sendAgain = (records: IntakeRecord[]) => {
      for (const record of records) {
        this.send([replayMessage(record), null, null]);
        journal?.tracker.sent(record.id);
      }
    };
    const fromLastRun = journal?.ledger.takeUnsettled(this.id) ?? [];
    const takenOver: IntakeRecord[] = [];
    let flowsStarted = false;
    const onFlowsStarted = () => {
      RED.events.removeListener('flows:started', onFlowsStarted);
      flowsStarted = true;
      if (fromLastRun.length > 0) this.warn(`sending again ${fromLastRun.length} event(s) accepted before Node-RED stopped but not finished`);
      sendAgain(fromLastRun.splice(0));
      sendAgain(takenOver.splice(0));
    };
    RED.events.on('flows:started', onFlowsStarted);
    const unwatch = journal?.ledger.watch(this.id, (records) => {
      this.warn(`sending again ${records.length} event(s) accepted by another instance that stopped before finishing them`);
      if (flowsStarted) sendAgain(records);
      else takenOver.push(...records);
    });

    // Batches still being taken when the node closes finish first (their events are journaled and sent).
    const inFlight = new Set<Promise<unknown>>();
    const track = <T>(work: Promise<T>): Promise<T> => {
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work)).catch(() => undefined);
      return work;
    };

    let closeEndpoint: (() => void) | undefined;
    if (settings.path) {
      const app = RED.httpNode as unknown as RouteApp | undefined;
      if (typeof app?.post !== 'function') {
        this.error(`cannot serve ${settings.path}: Node-RED's HTTP endpoints are turned off (httpNodeRoot is false)`);
      } else {
        const output3 = (answer: Parameters<typeof receiptMessage>[0]) => this.send([null, null, receiptMessage(answer)]);
        closeEndpoint = openEndpoint(app, settings.path, settings.maxBody, {
          authorise: (given) => {
            const refused = intake.authorise(true, given);
            if (refused) output3(refused);
            return refused;
          },
          tooLarge: (reason) => {
            const answer = intake.bodyTooLarge(reason);
            output3(answer);
            return answer;
          },
          take: async (body, reply) => {
            const taken = await track(
              intake.take(body, (events, rejects, answer) => {
                this.send([events, rejects, receiptMessage(answer)]);
                reply(answer);
              }),
            );
            if (taken.failure) this.error(taken.failure.message, receiptMessage(taken.answer));
          },
          failed: (err, answered) => {
            intake.failed();
            const answer = refusal(500, INTERNAL_ERROR);
            const text = `${settings.path}: ${(err as Error)?.message ?? String(err)}`;
            if (answered) {
              this.error(text);
            } else {
              output3(answer);
              this.error(text, receiptMessage(answer));
            }
            return answer;
          },
        });
      }
    }

    this.on('input', async (msg: NodeMessageInFlow, send, done) => {
      let receiptSent = false;
      const sendOnce = (out: (NodeMessage | NodeMessage[] | null)[]) => {
        send(out);
        receiptSent = true;
      };
      try {
        // First of all: the secret header leaves the request, so nothing passed on (receipt, Catch node) carries it.
        const req = (msg as { req?: unknown }).req;
        const given = takeSecretHeader(req);
        const refused = intake.authorise(req !== undefined && req !== null, given);
        if (refused) {
          sendOnce([null, null, receiptOf(msg, refused)]);
          done();
          return;
        }
        const taken = await track(intake.take(msg.payload, (events, rejects, answer) => sendOnce([events, rejects, receiptOf(msg, answer)])));
        done(taken.failure);
      } catch (err) {
        intake.failed();
        if (!receiptSent) send([null, null, receiptOf(msg, refusal(500, INTERNAL_ERROR))]);
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, closed: () => void) => {
      RED.events.removeListener('flows:started', onFlowsStarted);
      unwatch?.();
      closeEndpoint?.();
      void Promise.allSettled([...inFlight]).then(() => closed());
    });
  }

  RED.nodes.registerType<Node<AdsEventCredentials>, AdsEventDef, unknown, AdsEventCredentials>('flowmon-ads-event', FlowmonAdsEventNode, {
    credentials: { secret: { type: 'password' } },
  });
};

function replayMessage(record: IntakeRecord): NodeMessage {
  return { ...eventMessage(record.event), replayed: true, [INTAKE_PROPERTY]: record.id } as NodeMessage;
}
