// The sidebar plugin's admin API in node-red-node-test-helper, with a fake appliance config node `lm`, on a fresh
// user directory (and so a fresh registry) per test.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { NodeAPI } from 'node-red';
import sidebarPlugin = require('../../../plugins/flowmon-blocks-sidebar/flowmon-blocks-sidebar');
import { closeRegistries, getRegistry, RuntimeRegistry } from '../../../lib/registry';
import { nodeRedPath } from '../../support/node-red-path';
import { fakeAppliance, resetControls } from '../ttl/fake-appliance';

helper.init(nodeRedPath);

export interface SidebarRuntime {
  readonly userDir: string;
  registry(): RuntimeRegistry;
}

/** Registers the hooks of a describe block: each test gets the plugin loaded on a fresh user directory. */
export function sidebarRuntime(prefix: string): SidebarRuntime {
  let userDir = '';
  // Like the real plugin, the API (and the registry) start before the flows do.
  const pluginAtLoad = (r: NodeAPI) => sidebarPlugin.registerBlocksApi(r);

  beforeEach(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    helper.settings({ userDir });
    resetControls();
    await helper.load([pluginAtLoad, fakeAppliance], [{ id: 'lm', type: 'fake-appliance' }] as never);
  });

  afterEach(async () => {
    await helper.unload();
    await closeRegistries();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  return {
    get userDir() {
      return userDir;
    },
    registry: () => getRegistry({ settings: { userDir } }),
  };
}

export { helper };
