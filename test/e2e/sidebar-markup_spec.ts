// Text, never markup: blocks whose target, user name and last error are HTML sit in the registry of a real Node-RED;
// the Flowmon blocks sidebar in headless Chromium lists them and releases them (one release fails first). The
// markup must show as literal text in the table, its tooltips and the notifications, and never run.
import assert = require('node:assert/strict');
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { registryFile } from '../../lib/registry';
import { MitigationRegistry } from '../../lib/registry/registry';
import { startAppliances, type Appliances } from '../../demo/appliances';
import { MAIN_EXAMPLE, readExample } from '../../demo/examples';
import { hasChromium, openBrowser, type EditorBrowser } from './support/browser';
import { waitFor } from './support/main-example';
import { freshDir, NodeRed } from './support/node-red';

const XSS = (n: number) => `<img src=x onerror="window.__pwned=${n}">`;
const CONFIG = readExample(MAIN_EXAMPLE).find((n) => n.type === 'flowmon-cryptospike-config')!;
const SCOPE = 'user:WINDOWS';
/** Two blocked users whose SID and name are markup; the second one's release fails once. */
const USERS = [
  { userId: `S-1-5-21-7-${XSS(1)}`, username: XSS(2), lastError: XSS(3), eventId: `4711${XSS(4)}` },
  { userId: `S-1-5-21-8-${XSS(5)}`, username: XSS(6), lastError: XSS(7), eventId: `4712${XSS(8)}` },
];
const FAILURE_BODY = XSS(9);
type Win = any;

/** Puts the blocks into the registry journal of `userDir` before Node-RED starts (as a run before this one left it). */
async function seedRegistry(userDir: string): Promise<void> {
  const registry = new MitigationRegistry({ file: registryFile(userDir), ownsDir: true });
  for (const u of USERS) {
    const key = { configId: CONFIG.id, scope: SCOPE, target: u.userId };
    const { entry } = await registry.arm({ key, kind: 'cryptospike', ttlSeconds: 3600, eventId: u.eventId, label: u.username });
    // An earlier release attempt failed with an error that is markup; the next try is an hour away.
    await registry.markReleaseFailed(entry.id, u.lastError, Date.now() + 3_600_000);
  }
  await registry.close();
}

async function notes(page: Page): Promise<string[]> {
  return (await page.evaluate(() => (window as Win).__notes)) as string[];
}

describe('Flowmon blocks sidebar shows text, never markup (headless Chromium)', function () {
  this.timeout(120000);
  let appliances: Appliances;
  let nr: NodeRed;
  let userDir: string;
  let browser: EditorBrowser;

  before(async function () {
    if (!hasChromium()) {
      console.log('      (skipped: /usr/bin/chromium is not installed; .ci/run installs it)');
      this.skip();
    }
    appliances = await startAppliances({ blockTtl: '1h' });
    for (const u of USERS) appliances.cryptoSpike.addUser({ userId: u.userId, username: u.username, accessState: 'BLOCKED' });
    userDir = freshDir('node-red-markup');
    await seedRegistry(userDir);
    nr = await NodeRed.start({ env: appliances.env, userDir });
    const from = nr.log.length;
    await nr.deployFlows([CONFIG]);
    await nr.waitForLog(/Started flows/, 15000, from);
    browser = await openBrowser();
    const { page } = browser;
    // Every notification's text as it appears (they fade after a few seconds), and any element markup would create.
    await page.addInitScript(() => {
      const w = window as Win;
      w.__notes = [];
      w.__images = 0;
      new MutationObserver((records) => {
        for (const r of records) {
          r.addedNodes.forEach((n: Node) => {
            if (!(n instanceof HTMLElement)) return;
            if (n.classList.contains('red-ui-notification')) w.__notes.push(n.textContent ?? '');
            if (n.tagName === 'IMG' && n.getAttribute('src') === 'x') w.__images++;
            w.__images += n.querySelectorAll('img[src="x"]').length;
          });
        }
      }).observe(document, { childList: true, subtree: true });
    });
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${nr.baseUrl}/`);
    await page.waitForFunction((id) => (window as Win).RED?.nodes?.node?.(id) != null, CONFIG.id, { timeout: 60000 });
    await page.evaluate(() => (window as Win).RED.sidebar.show('flowmon-blocks'));
  });

  after(async () => {
    await browser?.close();
    await nr?.dispose();
    await appliances?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('lists the blocks with their markup as literal text, in cells and tooltips', async () => {
    const { page } = browser;
    const rows = page.locator('#flowmon-blocks-table tbody tr[data-id]');
    await waitFor('two sidebar rows', async () => ((await rows.count()) === 2 ? true : undefined));
    for (const u of USERS) {
      const row = page.locator('#flowmon-blocks-table tbody tr[data-id]', { hasText: u.username });
      assert.equal(await row.count(), 1, `one row shows ${u.username} as text`);
      assert.equal(await row.locator('.flowmon-blocks-target').textContent(), `${u.username} (${u.userId})`);
      assert.equal(await row.locator('.flowmon-blocks-target').getAttribute('title'), u.userId);
      assert.equal(await row.locator('.flowmon-blocks-state').getAttribute('title'), u.lastError);
      // Event ids are kept without markup characters: they go into appliance comments.
      assert.equal(await row.locator('.flowmon-blocks-event').textContent(), u.eventId.replace(/[<>&"'`]/g, ''));
    }
    assert.equal(await page.locator('#flowmon-blocks-table img').count(), 0);
  });

  it('releases one block and fails another once: the notifications show the markup as text, nothing runs', async () => {
    const { page } = browser;
    const row = (u: (typeof USERS)[number]) => page.locator('#flowmon-blocks-table tbody tr[data-id]', { hasText: u.username });
    const blocked = (u: (typeof USERS)[number]) => appliances.cryptoSpike.state.users.get(u.userId)?.accessState === 'BLOCKED';

    await row(USERS[0]).locator('.flowmon-blocks-release').click();
    await waitFor('the first user unblocked on CryptoSpike', () => !blocked(USERS[0]));
    await page.waitForFunction(() => (window as Win).__notes.length >= 1, null, { timeout: 10000 });

    // Every try of the next release fails (the client retries), with a reply body that is markup.
    appliances.cryptoSpike.switches.errors.push({ pathIncludes: '/users/access', status: 500, body: FAILURE_BODY, times: 1000 });
    await row(USERS[1]).locator('.flowmon-blocks-release').click();
    await page.waitForFunction(() => (window as Win).__notes.length >= 2, null, { timeout: 30000 });
    appliances.cryptoSpike.switches.errors.length = 0;
    assert.ok(blocked(USERS[1]), 'the failed release left the user blocked');
    await waitFor('the Release button usable again', async () => ((await row(USERS[1]).locator('.flowmon-blocks-release').isEnabled()) ? true : undefined));
    await row(USERS[1]).locator('.flowmon-blocks-release').click();
    await waitFor('the second user unblocked on CryptoSpike', () => !blocked(USERS[1]));
    await page.waitForFunction(() => (window as Win).__notes.length >= 3, null, { timeout: 10000 });
    await page.waitForTimeout(1000); // an onerror handler would have run by now

    const shown = await notes(page);
    const pwned = await page.evaluate(() => (window as Win).__pwned);
    const images = await page.evaluate(() => (window as Win).__images);
    console.log(`      window.__pwned = ${String(pwned)}; markup images created: ${images}; notifications: ${shown.map((n) => JSON.stringify(n)).join(' | ')}`);
    assert.equal(pwned, undefined, 'markup from the registry or the appliance ran in the editor');
    assert.equal(images, 0, 'markup became elements');
    assert.ok(shown[0].includes(`Released ${USERS[0].username} (${USERS[0].userId})`), shown[0]);
    assert.ok(shown[1].includes(`Release of ${USERS[1].username} (${USERS[1].userId}) failed: `), shown[1]);
    assert.ok(shown[2].includes(`Released ${USERS[1].username}`), shown[2]);
    await waitFor('both rows released', async () => {
      const states = await page.locator('#flowmon-blocks-table .flowmon-blocks-state').allTextContents();
      return states.length === 2 && states.every((s) => s === 'released') ? true : undefined;
    });
  });
});
