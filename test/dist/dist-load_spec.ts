// Proves the shipped artifact: the compiled dist/ files (not the TS sources) load into Node-RED, and every node
// has its editor HTML, message catalogue, help and icons where Node-RED looks for them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { nodeRedPath } from '../support/node-red-path';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const nodeFiles = Object.entries(pkg['node-red'].nodes as Record<string, string>);
const pluginFiles = Object.entries(pkg['node-red'].plugins as Record<string, string>);

helper.init(nodeRedPath);

describe('built package (dist/)', function () {
  before(function () {
    assert.ok(existsSync(join(root, 'dist')), 'dist/ is missing: run `npm run build` first');
  });
  afterEach(async () => {
    await helper.unload();
  });

  for (const [type, file] of [...nodeFiles, ...pluginFiles]) {
    it(`${type}: .js, .html, locales and icons sit together`, () => {
      const js = join(root, file);
      const dir = dirname(js);
      const name = basename(js, '.js');
      assert.ok(existsSync(js), `${file} missing`);
      const html = readFileSync(join(dir, `${name}.html`), 'utf8');
      assert.match(html, /<script type="text\/javascript">/);
      assert.ok(existsSync(join(dir, 'locales', 'en-US', `${name}.json`)), 'message catalogue missing');
      if (nodeFiles.some(([t]) => t === type)) {
        assert.ok(html.includes(`registerType('${type}'`) || html.includes(`registerType("${type}"`), 'registerType literal missing');
        assert.ok(existsSync(join(dir, 'locales', 'en-US', `${name}.html`)), 'help missing');
        const icon = /icon:\s*['"]([^'"]+)['"]/.exec(html)?.[1];
        assert.ok(icon && existsSync(join(dir, 'icons', icon)), `icon ${icon} not beside the .js`);
      }
    });
  }

  it('every compiled node module registers its type in Node-RED', async () => {
    const modules = nodeFiles.map(([, file]) => require(join(root, file)));
    for (const mod of modules) assert.equal(typeof mod, 'function', 'export = function (RED) expected');
    await helper.load(modules, []);
    const registry = (helper as unknown as { _redNodes: { getType(t: string): unknown } })._redNodes;
    for (const [type] of nodeFiles) assert.equal(typeof registry.getType(type), 'function', `${type} not registered`);
  });

  it('the compiled parser turns a TSV line into an event', async () => {
    const parser = require(join(root, 'dist/nodes/flowmon-ads-event/flowmon-ads-event.js'));
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'p', z: 'f1', type: 'flowmon-ads-event', wires: [['out'], [], []] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];
    await helper.load(parser, flow);
    const got = new Promise<{ payload: { source: string; method: string } }>((resolve) => (helper.getNode('out') as unknown as NodeJS.EventEmitter).on('input', resolve));
    const line = ['42', '2026-11-22 10:00:00', '2026-11-22 09:58:00', 'SSHDICT', 'SSH dictionary attack', 'Security issues',
      'High', 'attempts: 120', '22', 'TCP', '192.0.2.10', 'attacker.example', '198.51.100.7', 'data feed 1', 'DOMAIN\\eve'];
    helper.getNode('p').receive({ payload: line.join('\t') + '\n' });
    const msg = await got;
    assert.equal(msg.payload.method, 'SSHDICT');
    assert.equal(msg.payload.source, '192.0.2.10');
  });
});
