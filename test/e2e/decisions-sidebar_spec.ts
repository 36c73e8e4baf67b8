// Held blocks decided in the Flowmon blocks sidebar (headless Chromium) on a real Node-RED with adminAuth: the main
// example with a LoadMaster storm cap of 2 gets ten ADS events over its HTTP path, so seven LoadMaster blocks are
// held by the storm gate and the CryptoSpike block of the source with two users is held as ambiguous. In the
// sidebar a person approves one (it reaches the LoadMaster simulator), discards another (nothing does), picks the
// user of the ambiguous one, and approves all held blocks that match a filter. Screenshots of the sidebar (held, and
// the blocks after the decisions) go to .tmp/screenshots/ (docs/ holds the committed ones).
import assert = require('node:assert/strict');
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { AMBIGUOUS_SOURCE, SOURCE_USERS, startAppliances, type Appliances } from '../../demo/appliances';
import { MAIN_EXAMPLE, readExample } from '../../demo/examples';
import { PASSWORDS, SecureNodeRed } from '../security/support/secure-node-red';
import { hasChromium, openBrowser, type EditorBrowser } from './support/browser';
import { waitFor } from './support/main-example';
import { tmpRoot } from '../../demo/paths';

const screenshots = join(tmpRoot, 'screenshots');
const STORM_CAP = 2;
/** LoadMaster-only sources (no file activity on CryptoSpike): 203.0.113.1 … 203.0.113.9. */
const LM_SOURCES = Array.from({ length: 9 }, (_, i) => `203.0.113.${i + 1}`);
const PRIORITIES = ['High', 'Medium', 'Critical', 'Low'];
/** A second source with two users, whose names (from the appliance) and event text (from ADS) are markup. */
const MARKUP_SOURCE = '192.0.2.66';
const XSS = (n: number) => `<img src=x onerror="window.__pwned=${n}">`;
const MARKUP_USERS = [
  { userId: 'S-1-5-21-1000-1301', username: XSS(1) },
  { userId: 'S-1-5-21-1000-1302', username: XSS(2) },
];
const MARKUP_DESCRIPTION = `Port scanning ${XSS(3)}`;
/** Held: every LoadMaster block over the storm cap, and both ambiguous CryptoSpike users. */
const HELD = 1 + LM_SOURCES.length + 1 - STORM_CAP + 2;
/** The markup source's LoadMaster block (/32) or its ambiguous CryptoSpike user (keyed by the address). */
const isMarkupTarget = (target: string) => target === MARKUP_SOURCE || target === `${MARKUP_SOURCE}/32`;
type Win = any;

interface Entry {
  id: string;
  kind: string;
  scope: string;
  target: string;
  state: string;
  hold?: { reason: string; reasonText: string; event: { id: string; method: string; description: string; source: string } | null };
  decision?: { action: string; by: { kind: string; name?: string }; userId?: string };
}

const pad = (n: number) => String(n).padStart(2, '0');
const adsTime = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

/** One ADS JSON event per source: the ambiguous CryptoSpike source first, then the LoadMaster-only ones, markup last. */
function events(): string {
  const t = adsTime(new Date());
  const sources = [AMBIGUOUS_SOURCE, ...LM_SOURCES, MARKUP_SOURCE];
  return sources
    .map((source, i) =>
      JSON.stringify({
        id: String(7100 + i),
        timestamp: t,
        type: i === 0 ? 'DOS' : 'SCANS',
        typeDesc: i === 0 ? 'Denial of service attack' : source === MARKUP_SOURCE ? MARKUP_DESCRIPTION : 'Port scanning',
        perspective: 'Security Issues',
        severity: PRIORITIES[i % PRIORITIES.length],
        detail: i === 0 ? 'Input/output packet ratio too high.' : `Port scanning of ${i + 2} hosts.`,
        source,
        targets: '198.51.100.8',
        netFlowSource: 'LAN',
        userIdentity: '',
      }),
    )
    .join('\n') + '\n';
}

describe('Flowmon blocks sidebar: held blocks decided by a person (headless Chromium, adminAuth)', function () {
  this.timeout(180000);
  let appliances: Appliances;
  let nr: SecureNodeRed;
  let browser: EditorBrowser;
  let page: Page;
  const dialogs: string[] = [];
  let errorsAfterLogin = 0;
  const lmListed = (): string[] => appliances.loadMaster.state.lists.block.map((e) => e.addr);
  const csBlocked = (userId: string) => appliances.cryptoSpike.state.users.get(userId)?.accessState === 'BLOCKED';
  const list = () => nr.getJson<Entry[]>('admin', '/flowmon-response/blocks');
  const heldRows = () => page.locator('#flowmon-blocks-held-table tr[data-id]');
  const heldRow = (id: string): Locator => page.locator(`#flowmon-blocks-held-table tr[data-id="${id}"]`);
  const blockRow = (id: string): Locator => page.locator(`#flowmon-blocks-table tr[data-id="${id}"]`);
  const notes = async () => (await page.evaluate(() => (window as Win).__notes)) as string[];

  before(async function () {
    if (!hasChromium()) {
      console.log('      (skipped: /usr/bin/chromium is not installed; .ci/run installs it)');
      this.skip();
    }
    appliances = await startAppliances({ blockTtl: '1h' });
    for (const u of MARKUP_USERS) appliances.cryptoSpike.seedActivity(MARKUP_SOURCE, u.userId, u.username, 5);
    nr = await SecureNodeRed.start({ env: appliances.env });
    const flow = readExample(MAIN_EXAMPLE);
    const lmConfig = flow.find((n) => n.type === 'flowmon-loadmaster-config')!;
    Object.assign(lmConfig, { stormCap: STORM_CAP });
    const from = nr.log.length;
    await nr.deployFlows(flow);
    await nr.waitForLog(/Started flows/, 15000, from);
    const post = () =>
      fetch(`${nr.baseUrl}/flowmon/ads`, {
        method: 'POST',
        headers: { 'X-ADS-Secret': appliances.env.ADS_SHARED_SECRET, 'Content-Type': 'text/plain' },
        body: events(),
      });
    const res = await waitFor('the ADS endpoint', async () => {
      const r = await post();
      return r.status === 404 ? undefined : r;
    });
    assert.equal(res.status, 202, await res.text());
    // 11 LoadMaster blocks: 2 applied, 9 held by the storm gate; 2 CryptoSpike users ambiguous (held), the rest no user.
    await waitFor('the held and applied blocks', async () => {
      const all = await list();
      const held = all.filter((e) => e.state === 'held').length;
      return held === HELD && all.filter((e) => e.state === 'active').length === STORM_CAP ? true : undefined;
    }, 30000);

    browser = await openBrowser();
    page = browser.page;
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    // Logged in as admin through the editor's login dialog.
    await page.goto(`${nr.baseUrl}/`);
    await page.locator('#node-dialog-login-username').fill('admin');
    await page.locator('#node-dialog-login-password').fill(PASSWORDS.admin);
    await page.locator('#node-dialog-login-password').press('Enter');
    await page.waitForFunction((id) => (window as Win).RED?.nodes?.node?.(id) != null, lmConfig.id, { timeout: 60000 });
    // Every notification, with whether it came as an element (text set on it) or as a string (which RED.notify
    // would insert as markup).
    await page.evaluate(() => {
      const w = window as Win;
      const notify = w.RED.notify;
      w.__notes = [];
      w.__notesAsString = 0;
      w.RED.notify = function (msg: unknown, ...rest: unknown[]) {
        if (typeof msg === 'string') w.__notesAsString++;
        w.__notes.push(typeof msg === 'string' ? msg : w.$(msg).text());
        return notify.call(this, msg, ...rest);
      };
    });
    await page.evaluate(() => (window as Win).RED.sidebar.show('flowmon-blocks'));
    // The editor's first request before the login is answered 401: only errors after it count.
    errorsAfterLogin = browser.errors.length;
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    await appliances?.close();
  });

  it('lists the held blocks under "Needs a decision" with a count, the reason, the event and the time to decide', async () => {
    await waitFor('the held rows', async () => ((await heldRows().count()) === HELD ? true : undefined));
    assert.equal(await page.locator('#flowmon-blocks-held-count').textContent(), String(HELD));
    // Node-RED 3/4 put it in the tab's label, Node-RED 5 on the tab's icon button.
    const tabBadge = page.locator('#red-ui-tab-flowmon-blocks .flowmon-blocks-tab-badge, button[data-tab-id="flowmon-blocks"] .flowmon-blocks-tab-badge');
    assert.equal(await tabBadge.first().textContent(), String(HELD));
    assert.equal(await page.locator('#flowmon-blocks-table tr[data-id]').count(), STORM_CAP, 'the active blocks below');
    const all = await list();
    const storm = all.find((e) => e.state === 'held' && e.hold?.reason === 'storm' && e.target.startsWith('203.0.113.'))!;
    const row = heldRow(storm.id);
    assert.equal(await row.locator('.flowmon-blocks-target').textContent(), storm.target);
    assert.equal(await row.locator('.flowmon-blocks-reason').textContent(), storm.hold!.reasonText);
    assert.match(storm.hold!.reasonText, new RegExp(`at most ${STORM_CAP} new blocks`));
    assert.equal(await row.locator('.flowmon-blocks-method').textContent(), 'SCANS');
    assert.equal(await row.locator('.flowmon-blocks-description').textContent(), storm.hold!.event!.description);
    assert.equal(await row.locator('.flowmon-blocks-event-id').textContent(), storm.hold!.event!.id);
    assert.equal(await row.locator('.flowmon-blocks-source').textContent(), storm.hold!.event!.source);
    assert.match((await row.locator('.flowmon-blocks-decide').textContent()) ?? '', /^decide within (59m|1h 0m)\b.*, then discarded$/);
    assert.match((await row.locator('.flowmon-blocks-held-at').textContent()) ?? '', /^held \S/);
    const ambiguous = all.find((e) => e.hold?.reason === 'ambiguous' && e.target === AMBIGUOUS_SOURCE)!;
    const seen = (await heldRow(ambiguous.id).locator('.flowmon-blocks-candidates').textContent()) ?? '';
    for (const u of SOURCE_USERS[AMBIGUOUS_SOURCE]) assert.ok(seen.includes(`${u.username} (${u.userId}), 12 activities`), seen);
  });

  it('is readable at the default sidebar width without horizontal scrolling', async () => {
    const width = await page.locator('#red-ui-sidebar').evaluate((el) => el.getBoundingClientRect().width);
    const overflow = await page.evaluate(() => {
      const scroll = document.getElementById('flowmon-blocks-scroll')!;
      const right = scroll.getBoundingClientRect().right;
      const sticking = Array.from(scroll.querySelectorAll('tr[data-id] *')).filter((el) => el.getBoundingClientRect().right > right + 0.5).length;
      return { scrollWidth: scroll.scrollWidth, clientWidth: scroll.clientWidth, sticking };
    });
    console.log(`      sidebar ${Math.round(width)} px wide: scroll width ${overflow.scrollWidth}, visible ${overflow.clientWidth}`);
    assert.ok(width < 400, `the default sidebar width (${width})`);
    assert.ok(overflow.scrollWidth <= overflow.clientWidth, JSON.stringify(overflow));
    assert.equal(overflow.sticking, 0, 'no row content beyond the right edge');
    mkdirSync(screenshots, { recursive: true });
    await page.locator('#flowmon-blocks-scroll').evaluate((el) => el.scrollTo(0, 0));
    await page.locator('#red-ui-sidebar').screenshot({ path: join(screenshots, 'sidebar-decisions.png') });
  });

  it('shows user names and event text that are markup as literal text, in the row and in the user choice', async () => {
    const all = await list();
    const markup = all.filter((e) => e.state === 'held' && isMarkupTarget(e.target));
    assert.equal(markup.length, 2, 'the LoadMaster block and the ambiguous CryptoSpike user');
    for (const e of markup) {
      assert.equal(await heldRow(e.id).locator('.flowmon-blocks-description').textContent(), MARKUP_DESCRIPTION);
    }
    const user = markup.find((e) => e.hold?.reason === 'ambiguous')!;
    const seen = (await heldRow(user.id).locator('.flowmon-blocks-candidates').textContent()) ?? '';
    for (const u of MARKUP_USERS) assert.ok(seen.includes(`${u.username} (${u.userId}), 5 activities`), seen);
    await heldRow(user.id).locator('.flowmon-blocks-approve').click();
    const dialog = page.locator('.flowmon-blocks-choose-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10000 });
    const options = await dialog.locator('select.flowmon-blocks-candidate option').allTextContents();
    assert.deepEqual(options, MARKUP_USERS.map((u) => `${u.username} (${u.userId}), 5 activities`));
    await dialog.locator('.flowmon-blocks-choose-cancel').click();
    await dialog.waitFor({ state: 'detached', timeout: 10000 });
    assert.equal(await heldRow(user.id).count(), 1, 'cancelled: still held');
    await page.waitForTimeout(500); // an onerror handler would have run by now
    assert.equal(await page.evaluate(() => (window as Win).__pwned), undefined, 'markup ran in the editor');
    assert.equal(await page.locator('#flowmon-blocks img').count(), 0, 'markup became elements');
  });

  it('Approve applies one held block: it reaches the LoadMaster, shows as active and records who decided', async () => {
    const target = (await list()).find((e) => e.state === 'held' && e.hold?.reason === 'storm' && e.target.startsWith('203.0.113.'))!;
    const address = target.target;
    assert.ok(!lmListed().includes(address));
    await heldRow(target.id).locator('.flowmon-blocks-approve').click();
    await waitFor(`${address} on the LoadMaster`, () => lmListed().includes(address));
    await waitFor('the row among the active blocks', async () =>
      (await blockRow(target.id).locator('.flowmon-blocks-state').textContent()) === 'active' ? true : undefined,
    );
    assert.equal(await heldRow(target.id).count(), 0);
    assert.match((await blockRow(target.id).locator('.flowmon-blocks-decision').textContent()) ?? '', /^approved by admin, /);
    const entry = (await list()).find((e) => e.id === target.id)!;
    assert.deepEqual(entry.decision?.by, { kind: 'user', name: 'admin' });
    await waitFor('the notification', async () => ((await notes()).some((n) => n.includes(`Approved ${address}`)) ? true : undefined));
    assert.equal(await page.locator('#flowmon-blocks-held-count').textContent(), String(HELD - 1));
  });

  it('Discard ends another: nothing reaches the appliance', async () => {
    const target = (await list()).find((e) => e.state === 'held' && e.hold?.reason === 'storm' && e.target.startsWith('203.0.113.'))!;
    const adds = appliances.loadMaster.calls.count('add');
    await heldRow(target.id).locator('.flowmon-blocks-discard').click();
    await waitFor('the row shows as discarded', async () =>
      (await blockRow(target.id).locator('.flowmon-blocks-state').textContent()) === 'discarded' ? true : undefined,
    );
    await page.waitForTimeout(1000);
    assert.ok(!lmListed().includes(target.target));
    assert.equal(appliances.loadMaster.calls.count('add'), adds, 'no call to add');
    assert.match((await blockRow(target.id).locator('.flowmon-blocks-decision').textContent()) ?? '', /^discarded by admin, /);
    assert.equal(await blockRow(target.id).locator('.flowmon-blocks-release').count(), 0, 'nothing to release');
  });

  it('Approve on an ambiguous user asks which of the candidates, and blocks only that user', async () => {
    const entry = (await list()).find((e) => e.state === 'held' && e.hold?.reason === 'ambiguous' && e.target === AMBIGUOUS_SOURCE)!;
    const [first, second] = SOURCE_USERS[AMBIGUOUS_SOURCE];
    await heldRow(entry.id).locator('.flowmon-blocks-approve').click();
    const dialog = page.locator('.flowmon-blocks-choose-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10000 });
    const options = await dialog.locator('select.flowmon-blocks-candidate option').allTextContents();
    assert.deepEqual(options, [`${first.username} (${first.userId}), 12 activities`, `${second.username} (${second.userId}), 12 activities`]);
    await dialog.locator('select.flowmon-blocks-candidate').selectOption(second.userId);
    await dialog.locator('.flowmon-blocks-choose-approve').click();
    await waitFor(`${second.username} blocked on CryptoSpike`, () => csBlocked(second.userId));
    assert.equal(csBlocked(first.userId), false, `${first.username} is not blocked`);
    const after = await waitFor('the chosen user active', async () =>
      (await list()).find((e) => e.target === second.userId && e.state === 'active'),
    );
    assert.equal(after.decision?.userId, second.userId);
    assert.equal((await list()).find((e) => e.id === entry.id)?.state, 'approved');
    await waitFor('the user in the active blocks', async () => ((await blockRow(after.id).count()) === 1 ? true : undefined));
  });

  it('"Discard selected" discards the ticked rows after a confirmation with the count', async () => {
    const ticked = (await list()).filter((e) => e.state === 'held' && isMarkupTarget(e.target));
    for (const e of ticked) await heldRow(e.id).locator('.flowmon-blocks-select').check();
    const asked = dialogs.length;
    await page.locator('.flowmon-blocks-discard-selected').click();
    await waitFor('the confirmation', () => dialogs.length > asked);
    assert.equal(dialogs[asked], `Discard ${ticked.length} held blocks (the selected ones)?`);
    for (const e of ticked) {
      await waitFor(`${e.target} discarded`, async () => ((await list()).find((x) => x.id === e.id)?.state === 'discarded' ? true : undefined));
    }
    assert.ok(!lmListed().includes(`${MARKUP_SOURCE}/32`));
    for (const u of MARKUP_USERS) assert.equal(csBlocked(u.userId), false);
    await waitFor('the rows among the finished ones', async () => ((await heldRow(ticked[0].id).count()) === 0 ? true : undefined));
  });

  it('"Approve all matching" approves every held block the filter matches, after a confirmation with the count', async () => {
    const filter = '203.0.113.';
    const matching = (await list()).filter((e) => e.state === 'held' && e.target.startsWith(filter));
    const others = (await list()).filter((e) => e.state === 'held' && !e.target.startsWith(filter));
    assert.ok(matching.length >= 4, String(matching.length));
    await page.locator('#flowmon-blocks-filter').fill(filter);
    await waitFor('only matching held rows', async () => ((await heldRows().count()) === matching.length ? true : undefined));
    const asked = dialogs.length;
    await page.locator('.flowmon-blocks-approve-matching').click();
    await waitFor('the confirmation', () => dialogs.length > asked);
    assert.equal(dialogs[asked], `Approve ${matching.length} held blocks (matching "${filter}")?`);
    for (const e of matching) await waitFor(`${e.target} on the LoadMaster`, () => lmListed().includes(e.target), 20000);
    await waitFor('no matching held rows left', async () => ((await heldRows().count()) === 0 ? true : undefined));
    const now = await list();
    for (const e of matching) assert.deepEqual(now.find((x) => x.id === e.id)?.decision?.by, { kind: 'user', name: 'admin' });
    for (const e of others) assert.equal(now.find((x) => x.id === e.id)?.state, 'held', `${e.target} did not match and waits`);
    await waitFor('the bulk notification', async () =>
      (await notes()).some((n) => n.includes(`${matching.length} approved; not held any more: 0, unknown: 0, refused: 0`)) ? true : undefined,
    );
    await page.locator('#flowmon-blocks-filter').fill('');
    await page.locator('#flowmon-blocks-scroll').evaluate((el) => el.scrollTo(0, 0));
    await page.waitForTimeout(500);
    await page.locator('#red-ui-sidebar').screenshot({ path: join(screenshots, 'sidebar-active.png') });
    assert.equal(await page.evaluate(() => (window as Win).__notesAsString), 0, 'every notification is an element filled as text');
    const fresh = browser.errors.slice(errorsAfterLogin).filter((e) => !/ERR_NAME_NOT_RESOLVED/.test(e));
    assert.deepEqual(fresh, [], 'console errors');
  });
});
