// The editor in headless Chromium with the main example deployed against the simulators: palette, every edit
// dialog, the virtual-service picker, Import → Examples, and the Flowmon blocks sidebar with a release.
// Screenshots of the flow and of the sidebar go to .tmp/screenshots/ (docs/ holds the committed ones).
import assert = require('node:assert/strict');
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { hasChromium, openBrowser, type EditorBrowser } from './support/browser';
import { MAIN_EXAMPLE, exampleNames, readExample } from '../../demo/examples';
import { tmpRoot } from '../../demo/paths';
import { AMBIGUOUS_SOURCE } from '../../demo/appliances';
import { startMainExample, waitFor, type BlockEntry, type MainExample } from './support/main-example';
import { PALETTE_CATEGORY } from './support/package-info';
import { cefEvents, jsonEvents, tsvEvents } from '../../demo/sample-events';

const PALETTE_TYPES = ['flowmon-ads-event', 'flowmon-loadmaster-acl', 'flowmon-cryptospike-user', 'flowmon-mitigation-ttl'];
const CONFIG_TYPES = ['flowmon-loadmaster-config', 'flowmon-cryptospike-config'];
const screenshots = join(tmpRoot, 'screenshots');
type Win = any;

async function openAndCancel(page: Page, open: string, cancel: string, tray: string): Promise<void> {
  await page.evaluate(open);
  await page.locator(tray).first().waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForTimeout(300);
  await page.locator(cancel).click();
  await page.locator(tray).first().waitFor({ state: 'detached', timeout: 10000 });
}

describe('editor with the main example (headless Chromium)', function () {
  this.timeout(120000);
  let demo: MainExample;
  let browser: EditorBrowser;
  let errorsBefore = 0;

  before(async function () {
    if (!hasChromium()) {
      console.log('      (skipped: /usr/bin/chromium is not installed; .ci/run installs it)');
      this.skip();
    }
    demo = await startMainExample('10m');
    for (const body of [tsvEvents(), jsonEvents(), cefEvents()]) {
      const res = await fetch(demo.adsUrl, { method: 'POST', headers: { 'X-ADS-Secret': demo.secret, 'Content-Type': 'text/plain' }, body });
      assert.equal(res.status, 202);
    }
    browser = await openBrowser();
    await browser.page.setViewportSize({ width: 1600, height: 900 });
    await browser.page.goto(`${demo.nr.baseUrl}/`);
    await browser.page.waitForFunction(() => (window as Win).RED?.nodes?.node?.('f1a0000000000103') != null, null, { timeout: 60000 });
    await browser.page.waitForTimeout(500);
  });

  after(async () => {
    await browser?.close();
    await demo?.dispose();
  });

  afterEach(function () {
    if (!browser) return;
    const fresh = browser.errors.slice(errorsBefore).filter((e) => !/ERR_NAME_NOT_RESOLVED/.test(e));
    errorsBefore = browser.errors.length;
    assert.deepEqual(fresh, [], `console errors during "${this.currentTest?.title}"`);
  });

  it(`shows the four flow node types under "${PALETTE_CATEGORY}" and registers the two config types`, async () => {
    const { page } = browser;
    for (const type of PALETTE_TYPES) {
      const category = await page.evaluate((t) => {
        const $ = (window as Win).$;
        return $(`.red-ui-palette-node[data-palette-type="${t}"]`).closest('.red-ui-palette-category').find('.red-ui-palette-header span').first().text();
      }, type);
      assert.equal(category, PALETTE_CATEGORY, type);
    }
    for (const type of CONFIG_TYPES) {
      assert.equal(await page.evaluate((t) => (window as Win).RED.nodes.getType(t)?.category, type), 'config');
    }
  });

  it('saves a screenshot of the flow', async () => {
    const { page } = browser;
    mkdirSync(screenshots, { recursive: true });
    await page.evaluate(() => {
      const RED = (window as Win).RED;
      RED.menu.setSelected('menu-item-sidebar', false);
      RED.menu.setSelected('menu-item-palette', false);
      RED.view.reveal?.('f1a0000000000101');
    });
    await page.evaluate(() => {
      const chart = document.getElementById('red-ui-workspace-chart');
      if (chart) chart.scrollTo(0, 0);
    });
    await page.waitForTimeout(500);
    // The example's nodes lie within about 1260 × 620 px of the top-left corner.
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(chart);
    await page.screenshot({
      path: join(screenshots, 'flow.png'),
      clip: { x: chart.x, y: chart.y, width: Math.min(chart.width, 1260), height: Math.min(chart.height, 620) },
    });
    await page.evaluate(() => {
      const RED = (window as Win).RED;
      RED.menu.setSelected('menu-item-sidebar', true);
      RED.menu.setSelected('menu-item-palette', true);
    });
  });

  it('opens and closes the edit dialog of every node of the example', async () => {
    const { page } = browser;
    const ids = readExample(MAIN_EXAMPLE)
      .filter((n) => n.type.startsWith('flowmon-') && !CONFIG_TYPES.includes(n.type))
      .map((n) => n.id);
    assert.ok(ids.length >= 5);
    for (const id of ids) {
      await openAndCancel(page, `RED.editor.edit(RED.nodes.node('${id}'))`, '#node-dialog-cancel', '.red-ui-tray');
    }
  });

  it('opens and closes both config dialogs', async () => {
    const { page } = browser;
    for (const n of readExample(MAIN_EXAMPLE).filter((x) => CONFIG_TYPES.includes(x.type))) {
      await openAndCancel(page, `RED.editor.editConfig('', '${n.type}', '${n.id}')`, '#node-config-dialog-cancel', '.red-ui-tray');
    }
  });

  it('"Test connection" in both config dialogs reaches the simulators with the deployed credentials', async () => {
    const { page } = browser;
    const dialogs: Array<[string, string]> = [
      ['flowmon-loadmaster-config', '#node-config-loadmaster-test'],
      ['flowmon-cryptospike-config', '#node-config-cryptospike-test'],
    ];
    for (const [type, button] of dialogs) {
      const n = readExample(MAIN_EXAMPLE).find((x) => x.type === type)!;
      await page.evaluate(`RED.editor.editConfig('', '${type}', '${n.id}')`);
      await page.locator(button).waitFor({ state: 'visible', timeout: 10000 });
      await page.locator(button).click();
      const result = page.locator(`${button}-result`);
      await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '…') !== '…', `${button}-result`, { timeout: 15000 });
      const color = await result.evaluate((el) => getComputedStyle(el).color);
      assert.equal(color, 'rgb(0, 128, 0)', `${type}: ${await result.textContent()}`);
      await page.locator('#node-config-dialog-cancel').click();
      await page.locator('.red-ui-tray').first().waitFor({ state: 'detached', timeout: 10000 });
    }
  });

  it("lists the simulator's virtual services in the ACL node's picker", async () => {
    const { page } = browser;
    await page.evaluate(() => (window as Win).RED.editor.edit((window as Win).RED.nodes.node('f1a0000000000202')));
    await page.locator('#node-input-scope').waitFor({ state: 'visible' });
    await page.selectOption('#node-input-scope', 'vs');
    await page.waitForFunction(() => document.querySelectorAll('#node-input-vs option').length >= 2, null, { timeout: 15000 });
    const options = await page.locator('#node-input-vs option').allTextContents();
    const services = Object.values(demo.appliances.loadMaster.state.vs);
    for (const vs of services) {
      assert.ok(options.some((o) => o.startsWith(`${vs.index}: `) && o.includes(`${vs.address}:${vs.port}`)), `${vs.index} in ${options.join(' | ')}`);
    }
    await page.locator('#node-dialog-cancel').click();
    await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
  });

  it('lists the three example flows under Import → Examples', async () => {
    const { page } = browser;
    await page.evaluate(() => (window as Win).RED.actions.invoke('core:show-examples-import-dialog'));
    const dialog = page.locator('.red-ui-clipboard-dialog, #red-ui-clipboard-dialog').first();
    await dialog.waitFor({ state: 'visible', timeout: 10000 });
    const module = dialog.getByText('@flowmon-response/node-red-flowmon', { exact: true });
    await module.first().click();
    for (const name of exampleNames()) {
      await dialog.getByText(name, { exact: true }).first().waitFor({ state: 'visible', timeout: 10000 });
    }
    await page.keyboard.press('Escape');
    await page.evaluate(() => (window as Win).$('#red-ui-clipboard-dialog').dialog?.('close'));
  });

  it('shows the active blocks and the held one in the Flowmon blocks sidebar, and Release removes one from the LoadMaster', async () => {
    const { page } = browser;
    await page.evaluate(() => (window as Win).RED.sidebar.show('flowmon-blocks'));
    // Eight active blocks, and the ambiguous source (two users) held for a person: one row each, wherever the
    // sidebar lists held blocks.
    const entries = await demo.nr.getJson<BlockEntry[]>('/flowmon-response/blocks');
    assert.equal(entries.filter((e) => e.state === 'active').length, 8, JSON.stringify(entries));
    assert.deepEqual(entries.filter((e) => e.state === 'held').map((e) => e.target), [AMBIGUOUS_SOURCE]);
    const expected = entries.map((e) => e.id).sort();
    assert.equal(expected.length, 9);
    const rows = page.locator('#flowmon-blocks-table tbody tr[data-id], #flowmon-blocks-held-table tbody tr[data-id]');
    await waitFor('a sidebar row for each of the nine entries', async () => {
      const shown = (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-id') ?? ''))).sort();
      return JSON.stringify(shown) === JSON.stringify(expected) ? true : undefined;
    });
    await page.evaluate(() => {
      const sidebar = document.getElementById('red-ui-sidebar');
      const separator = document.getElementById('red-ui-sidebar-separator');
      if (sidebar) sidebar.style.width = '760px';
      if (separator) separator.style.right = '760px';
      window.dispatchEvent(new Event('resize'));
    });
    await page.waitForTimeout(1200);
    await page.locator('#red-ui-sidebar').screenshot({ path: join(screenshots, 'sidebar.png') });

    page.once('dialog', (d) => void d.accept());
    const row = page.locator('#flowmon-blocks-table tbody tr', { hasText: '203.0.113.21/32' });
    await row.locator('.flowmon-blocks-release').click();
    const addresses = (): string[] => demo.appliances.loadMaster.state.lists.block.map((e) => e.addr);
    await waitFor('203.0.113.21 gone from the LoadMaster', () => (addresses().includes('203.0.113.21/32') ? undefined : true));
    await waitFor('the row shows the release', async () => {
      const state = await page.locator('#flowmon-blocks-table tbody tr', { hasText: '203.0.113.21/32' }).locator('.flowmon-blocks-state').allTextContents();
      return state.length === 0 || state.every((s) => s.startsWith('released')) ? true : undefined;
    });
    assert.equal(addresses().length, 4);
  });
});
