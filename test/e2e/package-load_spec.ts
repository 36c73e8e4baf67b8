// The built package loads into a real Node-RED, and the editor shows its nodes in the palette.
import assert = require('node:assert/strict');
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hasChromium, openBrowser, type EditorBrowser } from './support/browser';
import { tmpRoot } from '../../demo/paths';
import { NodeRed } from './support/node-red';
import { PALETTE_CATEGORY, declaredSets, loadedSets, setProblem, type SetInfo } from './support/package-info';

const NODE_TYPES = [
  'flowmon-ads-event',
  'flowmon-loadmaster-config',
  'flowmon-loadmaster-acl',
  'flowmon-cryptospike-config',
  'flowmon-cryptospike-user',
  'flowmon-mitigation-ttl',
  'flowmon-decision',
];
const PLUGINS = ['flowmon-blocks-sidebar', 'flowmon-observability'];
const screenshots = join(tmpRoot, 'screenshots');

function skipUnbuilt(ctx: Mocha.Context, name: string): void {
  const set = declaredSets.find((s) => s.name === name);
  if (set && !set.built) {
    console.log(`      (skipped: ${set.file} or its .html is not built yet)`);
    ctx.skip();
  }
}

describe('package load (real Node-RED, built dist/)', function () {
  let nr: NodeRed;
  let sets: Map<string, SetInfo>;

  before(async function () {
    assert.ok(declaredSets.some((s) => s.built), 'dist/ is missing: run `npm run build` first');
    nr = await NodeRed.start();
    sets = await loadedSets(nr);
  });

  after(async () => {
    await nr?.dispose();
  });

  it('declares the seven node types, the sidebar and the observability plugin', () => {
    assert.deepEqual(declaredSets.filter((s) => s.kind === 'node').map((s) => s.name).sort(), [...NODE_TYPES].sort());
    assert.deepEqual(declaredSets.filter((s) => s.kind === 'plugin').map((s) => s.name).sort(), [...PLUGINS].sort());
  });

  for (const set of declaredSets) {
    it(`GET /nodes lists ${set.kind} set ${set.name} with err null`, function () {
      skipUnbuilt(this, set.name);
      const problem = setProblem(set, sets);
      assert.ok(problem === null, `${problem}\n--- Node-RED log (end) ---\n${nr.log.slice(-4000)}`);
    });
  }

  describe('editor in headless Chromium', function () {
    let browser: EditorBrowser;

    before(async function () {
      if (!hasChromium()) {
        console.log('      (skipped: /usr/bin/chromium is not installed; .ci/run installs it)');
        this.skip();
      }
      browser = await openBrowser();
      await browser.page.goto(`${nr.baseUrl}/`);
      await browser.page.waitForFunction(() => (window as any).RED?.nodes?.getType?.('inject') !== undefined, null, {
        timeout: 60000,
      });
    });

    after(async function () {
      if (!browser) return;
      mkdirSync(screenshots, { recursive: true });
      // Scroll the palette to our category so the screenshot shows it.
      await browser.page.evaluate(() =>
        document.querySelector('.red-ui-palette-node[data-palette-type^="flowmon-"]')?.closest('.red-ui-palette-category')?.scrollIntoView(),
      );
      await browser.page.screenshot({ path: join(screenshots, 'package-load.png') });
      await browser.close();
    });

    for (const type of NODE_TYPES) {
      it(`registers ${type} and shows it under its category`, async function () {
        skipUnbuilt(this, type);
        const { page } = browser;
        await page.waitForFunction((t) => (window as any).RED.nodes.getType(t) !== undefined, type, { timeout: 15000 });
        const category = await page.evaluate((t) => (window as any).RED.nodes.getType(t).category as string, type);
        if (type.endsWith('-config')) {
          assert.equal(category, 'config');
          return;
        }
        assert.equal(category, PALETTE_CATEGORY);
        const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
        await entry.waitFor({ state: 'attached', timeout: 15000 });
        const shownUnder = await page.evaluate((t) => {
          const $ = (window as any).$;
          const container = $(`.red-ui-palette-node[data-palette-type="${t}"]`).closest('.red-ui-palette-category');
          return (container.data('category') as string | undefined) ?? container.find('.red-ui-palette-header span').first().text();
        }, type);
        assert.equal(shownUnder, PALETTE_CATEGORY);
      });
    }

    it('logs no editor errors caused by the package', () => {
      for (const e of browser.errors) console.log(`      editor console error: ${e}`);
      const ours = browser.errors.filter((e) => /flowmon/i.test(e));
      assert.deepEqual(ours, []);
    });
  });
});
