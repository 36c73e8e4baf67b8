import type { NodeAPI } from 'node-red';
import { getRegistry } from '../../lib/registry';
import { BLOCKS_ROUTE, listBlocks, publishSnapshots, READ_PERMISSION, releaseBlock, WRITE_PERMISSION } from './blocks-api';

/** Registers the admin routes and the live comms updates; also starts the registry (and its release scheduler). */
function registerBlocksApi(RED: NodeAPI): void {
  const registry = getRegistry(RED);
  RED.httpAdmin.get(BLOCKS_ROUTE, RED.auth.needsPermission(READ_PERMISSION), listBlocks(registry));
  RED.httpAdmin.delete(`${BLOCKS_ROUTE}/:id`, RED.auth.needsPermission(WRITE_PERMISSION), releaseBlock(registry));
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
