import type { NodeAPI } from 'node-red';
import { getRegistry } from '../../lib/registry';
import { BLOCKS_ROUTE, listBlocks, publishSnapshots, READ_PERMISSION, releaseBlock, WRITE_PERMISSION } from './blocks-api';
import { decideMany, decideOne, DECISION_ROUTES } from './decisions-api';

/** Registers the admin routes and the live comms updates; also starts the registry (and its release scheduler). */
function registerBlocksApi(RED: NodeAPI): void {
  const registry = getRegistry(RED);
  const read = RED.auth.needsPermission(READ_PERMISSION);
  const write = () => RED.auth.needsPermission(WRITE_PERMISSION);
  RED.httpAdmin.get(BLOCKS_ROUTE, read, listBlocks(registry));
  // The bulk routes first: /blocks/approve is never taken for an entry id.
  RED.httpAdmin.post(DECISION_ROUTES.approveMany, write(), decideMany(registry, 'approve'));
  RED.httpAdmin.post(DECISION_ROUTES.discardMany, write(), decideMany(registry, 'discard'));
  RED.httpAdmin.post(DECISION_ROUTES.approveOne, write(), decideOne(registry, 'approve'));
  RED.httpAdmin.post(DECISION_ROUTES.discardOne, write(), decideOne(registry, 'discard'));
  RED.httpAdmin.delete(`${BLOCKS_ROUTE}/:id`, write(), releaseBlock(registry));
  publishSnapshots(registry, (topic, data, retain) => RED.comms.publish(topic, data, retain));
}

const plugin = function (RED: NodeAPI) {
  RED.plugins.registerPlugin('flowmon-blocks-sidebar', {
    type: 'flowmon-response-sidebar',
    onadd() {
      registerBlocksApi(RED);
    },
  });
};

export = Object.assign(plugin, { registerBlocksApi });
