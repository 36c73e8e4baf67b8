// The History view of the Flowmon blocks sidebar (headless Chromium, the editor's default sidebar width) on a real
// Node-RED running the main example against the simulators: ADS events over the example's HTTP path make LoadMaster
// and CryptoSpike blocks and a held (ambiguous) user, one block is released through the admin API; then the view
// lists the records of GET /flowmon-response/history, filters them by target, charts the current hour, exports the
// same rows as CSV, and a block row opens to its event, its hits and its history. The screenshot goes to
// .tmp/screenshots/sidebar-history.png (docs/ holds the committed one).
import assert = require('node:assert/strict');
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { AMBIGUOUS_SOURCE } from '../../demo/appliances';
import { tmpRoot } from '../../demo/paths';
import { CSV_COLUMNS } from '../../lib/history/query';
import type { HistoryRecord } from '../../lib/history/record';
import { hasChromium, openBrowser, type EditorBrowser } from './support/browser';
import { startMainExample, waitFor, type BlockEntry, type MainExample } from './support/main-example';

const screenshots = join(tmpRoot, 'screenshots');
const HOUR = 3_600_000;
/** LoadMaster-only sources; the first is reported twice (two hits), the second is released by hand. */
const LM_SOURCES = ['203.0.113.21', '203.0.113.22', '203.0.113.23', '203.0.113.24'];
const USER_SOURCE = '192.0.2.10';
const MARKUP = '<img src=x onerror="window.__pwned=1">';
type Win = any;

interface Entry extends BlockEntry {
  configId: string;
  scope: string;
  hits: number;
}

interface HistoryPage {
  now: number;
  matched: number;
  truncated: boolean;
  records: HistoryRecord[];
}

const pad = (n: number) => String(n).padStart(2, '0');
const adsTime = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

function events(sources: string[], firstId: number): string {
  const t = adsTime(new Date());
  return sources
    .map((source, i) =>
      JSON.stringify({
        id: String(firstId + i),
        timestamp: t,
        type: 'SCANS',
        typeDesc: source === AMBIGUOUS_SOURCE ? `Port scanning ${MARKUP}` : 'Port scanning',
        perspective: 'Security Issues',
        severity: 'High',
        detail: `Port scanning of ${i + 3} hosts.`,
        source,
        targets: '198.51.100.8',
        netFlowSource: 'LAN',
        userIdentity: '',
      }),
    )
    .join('\n') + '\n';
}

describe('Flowmon blocks sidebar: History view, chart, CSV export and block details (headless Chromium)', function () {
  this.timeout(180000);
  let main: MainExample;
  let browser: EditorBrowser;
  let page: Page;
  let errorsAtStart = 0;
  const blocks = () => main.nr.getJson<Entry[]>('/flowmon-response/blocks');
  const history = (query: Record<string, string>) =>
    main.nr.getJson<HistoryPage>(`/flowmon-response/history?${new URLSearchParams(query).toString()}`);
  const shownIds = (p: Page) => p.locator('#flowmon-history-table tr.flowmon-history-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));

  /** No horizontal scrollbar in a list, and nothing sticking out past its right edge. */
  async function assertNoOverflow(scrollId: string): Promise<void> {
    const overflow = await page.evaluate((id) => {
      const scroll = document.getElementById(id)!;
      const right = scroll.getBoundingClientRect().right;
      const sticking = Array.from(scroll.querySelectorAll('*')).filter((el) => el.getBoundingClientRect().right > right + 0.5).length;
      return { scrollWidth: scroll.scrollWidth, clientWidth: scroll.clientWidth, sticking };
    }, scrollId);
    assert.ok(overflow.clientWidth > 0, `${scrollId} is shown`);
    assert.ok(overflow.scrollWidth <= overflow.clientWidth, `${scrollId}: ${JSON.stringify(overflow)}`);
    assert.equal(overflow.sticking, 0, `${scrollId}: no content beyond the right edge`);
  }

  before(async function () {
    if (!hasChromium()) {
      console.log('      (skipped: /usr/bin/chromium is not installed; .ci/run installs it)');
      this.skip();
    }
    // The chart's current hour must hold this run's records: do not start in the last minute of an hour.
    const toNextHour = HOUR - (Date.now() % HOUR);
    if (toNextHour < 60_000) await new Promise((ok) => setTimeout(ok, toNextHour + 1000));
    main = await startMainExample('1h');
    const post = (body: string) =>
      fetch(main.adsUrl, { method: 'POST', headers: { 'X-ADS-Secret': main.secret, 'Content-Type': 'text/plain' }, body });
    const res = await waitFor('the ADS endpoint', async () => {
      const r = await post(events([...LM_SOURCES, USER_SOURCE, AMBIGUOUS_SOURCE], 8100));
      return r.status === 404 ? undefined : r;
    });
    assert.equal(res.status, 202, await res.text());
    // 6 LoadMaster blocks, jdoe blocked on CryptoSpike, the ambiguous source's users held.
    await waitFor('the blocks', async () => {
      const all = await blocks();
      const active = all.filter((e) => e.state === 'active').length;
      return active === LM_SOURCES.length + 3 && all.some((e) => e.state === 'held') ? true : undefined;
    }, 30000);
    // A second event from the first source: two hits on its block.
    assert.equal((await post(events([LM_SOURCES[0]], 8200))).status, 202);
    await waitFor('the second hit', async () => ((await blocks()).find((e) => e.target === `${LM_SOURCES[0]}/32`)?.hits === 2 ? true : undefined));
    const released = (await blocks()).find((e) => e.target === `${LM_SOURCES[1]}/32`)!;
    const del = await main.nr.request('DELETE', `/flowmon-response/blocks/${encodeURIComponent(released.id)}`);
    assert.equal(del.status, 200, await del.text());
    await waitFor('the release in the history', async () =>
      (await history({ action: 'released' })).records.some((r) => r.target === released.target) ? true : undefined,
    );

    browser = await openBrowser();
    page = browser.page;
    const lmConfig = (await blocks()).find((e) => e.kind === 'loadmaster')!.configId;
    await page.goto(`${main.nr.baseUrl}/`);
    await page.waitForFunction((id) => (window as Win).RED?.nodes?.node?.(id) != null, lmConfig, { timeout: 60000 });
    await page.evaluate(() => (window as Win).RED.sidebar.show('flowmon-blocks'));
    errorsAtStart = browser.errors.length;
  });

  after(async () => {
    await browser?.close();
    await main?.dispose();
  });

  it('History lists the records of the last 24 hours, newest first, each stacked with its action, target, appliance, actor and event', async () => {
    await page.locator('#flowmon-blocks-view-history').click();
    const expected = (await history({ since: String(Date.now() - 24 * HOUR) })).records;
    assert.ok(expected.length >= LM_SOURCES.length + 4, `records: ${expected.length}`);
    await waitFor('the history rows', async () => ((await shownIds(page)).length === expected.length ? true : undefined));
    assert.deepEqual(await shownIds(page), expected.map((r) => r.id));
    assert.equal(await page.locator('#flowmon-history-count').textContent(), `${expected.length} records`);
    const release = expected.find((r) => r.action === 'released')!;
    const row = page.locator(`#flowmon-history-table tr[data-id="${release.id}"]`);
    assert.equal(await row.getAttribute('data-action'), 'released');
    assert.equal(await row.locator('.flowmon-history-action').textContent(), 'released');
    assert.equal(await row.locator('.flowmon-history-target').textContent(), `${LM_SOURCES[1]}/32`);
    assert.equal(await row.locator('.flowmon-history-appliance').textContent(), `LoadMaster: ${release.appliance}`);
    // Released through the admin API of a Node-RED without adminAuth: the requester is recorded as anonymous.
    assert.equal(release.actor, 'anonymous');
    assert.equal(await row.locator('.flowmon-history-actor').textContent(), 'by anonymous');
    assert.equal(await row.locator('.flowmon-history-cause').textContent(), 'cause: person');
    const held = expected.find((r) => r.action === 'held')!;
    const heldRow = page.locator(`#flowmon-history-table tr[data-id="${held.id}"]`);
    assert.equal(await heldRow.locator('.flowmon-history-target').textContent(), held.label ? `${held.label} (${held.target})` : held.target);
    assert.equal(await heldRow.locator('.flowmon-history-detail').textContent(), held.detail);
    assert.equal(await heldRow.locator('.flowmon-history-event-id').textContent(), held.eventId);
    // The held record carries the event's text; a description that is markup is shown as text.
    assert.equal(held.description, `Port scanning ${MARKUP}`);
    assert.equal(await heldRow.locator('.flowmon-history-description').textContent(), held.description);
    assert.equal(await heldRow.locator('.flowmon-history-method').textContent(), 'SCANS');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => (window as Win).__pwned), undefined, 'markup ran in the editor');
    assert.equal(await page.locator('#flowmon-blocks img').count(), 0, 'markup became elements');
  });

  it('is readable at the default sidebar width without horizontal scrolling', async () => {
    const width = await page.locator('#red-ui-sidebar').evaluate((el) => el.getBoundingClientRect().width);
    console.log(`      sidebar ${Math.round(width)} px wide`);
    assert.ok(width < 400, `the default sidebar width (${width})`);
    await assertNoOverflow('flowmon-history-scroll');
    mkdirSync(screenshots, { recursive: true });
    await page.locator('#red-ui-sidebar').screenshot({ path: join(screenshots, 'sidebar-history.png') });
  });

  it('the chart has bars for blocks, releases and held decisions in the current hour, as many as the history holds', async () => {
    const slot = page.locator('#flowmon-history-chart rect.flowmon-history-bar[data-slot="23"]');
    await waitFor('the bars of the current hour', async () => ((await slot.count()) === 3 ? true : undefined));
    const hour = Date.parse((await slot.first().getAttribute('data-hour'))!);
    assert.equal(hour, Math.floor(Date.now() / HOUR) * HOUR, 'the last slot is the current hour');
    const records = (await history({ since: String(hour) })).records.filter((r) => r.at < hour + HOUR);
    const count = (actions: string[]) => records.filter((r) => actions.includes(r.action)).length;
    const expected = { blocked: count(['blocked', 'simulated']), released: count(['released']), held: count(['held']) };
    assert.ok(expected.blocked >= LM_SOURCES.length + 3 && expected.released === 1 && expected.held >= 1, JSON.stringify(expected));
    for (const [series, n] of Object.entries(expected)) {
      const bar = page.locator(`#flowmon-history-chart rect[data-slot="23"][data-series="${series}"]`);
      assert.equal(await bar.getAttribute('data-count'), String(n), series);
    }
    // The tallest bar is the blocks; the others are shorter in proportion.
    const heights = await slot.evaluateAll((rects) => Object.fromEntries(rects.map((r) => [r.getAttribute('data-series'), Number(r.getAttribute('height'))])));
    assert.ok(heights.blocked > heights.released, JSON.stringify(heights));
    assert.match((await page.locator('#flowmon-history-legend').textContent()) ?? '', new RegExp(`${expected.blocked} blocks.*1 releases`));
  });

  it('filters by target: only the records of that target, its block and its release', async () => {
    await page.locator('#flowmon-history-target').fill(LM_SOURCES[1]);
    const expected = (await history({ since: String(Date.now() - 24 * HOUR), target: LM_SOURCES[1] })).records;
    assert.deepEqual(expected.map((r) => r.action).sort(), ['blocked', 'released']);
    await waitFor('the filtered rows', async () => ((await shownIds(page)).join() === expected.map((r) => r.id).join() ? true : undefined));
    const targets = await page.locator('#flowmon-history-table .flowmon-history-target').allTextContents();
    assert.deepEqual(targets, [`${LM_SOURCES[1]}/32`, `${LM_SOURCES[1]}/32`]);
    await page.locator('#flowmon-history-action').selectOption('released');
    await waitFor('the released row only', async () => ((await shownIds(page)).join() === expected.filter((r) => r.action === 'released').map((r) => r.id).join() ? true : undefined));
    await page.locator('#flowmon-history-action').selectOption('');
    await page.locator('#flowmon-history-target').fill('');
  });

  it('Export CSV downloads the rows of the same filters, as the JSON answer has them', async () => {
    await page.locator('#flowmon-history-target').fill(LM_SOURCES[0]);
    await page.locator('#flowmon-history-range').selectOption('7d');
    await waitFor('the filtered rows', async () => {
      const ids = await shownIds(page);
      return ids.length >= 2 && (await page.locator('#flowmon-history-table .flowmon-history-target').allTextContents()).every((t) => t === `${LM_SOURCES[0]}/32`)
        ? true
        : undefined;
    });
    const [request, download] = await Promise.all([
      page.waitForRequest((r) => r.url().includes('/flowmon-response/history') && r.url().includes('format=csv')),
      page.waitForEvent('download'),
      page.locator('#flowmon-history-export').click(),
    ]);
    const query = new URL(request.url()).searchParams;
    assert.equal(query.get('target'), LM_SOURCES[0]);
    assert.ok(Math.abs(Number(query.get('since')) - (Date.now() - 7 * 24 * HOUR)) < 60_000, `since ${query.get('since')}`);
    assert.match(download.suggestedFilename(), /^flowmon-history-.*\.csv$/);
    const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    query.set('format', 'json');
    const json = (await history(Object.fromEntries(query))).records;
    assert.deepEqual(json.map((r) => r.action).sort(), ['blocked', 'extended'], 'the block and its second hit');
    assert.deepEqual(rows.map((r) => r.id), json.map((r) => r.id));
    assert.deepEqual(rows.map((r) => r.id), await shownIds(page), 'the rows the view shows');
    json.forEach((r, i) => {
      for (const column of CSV_COLUMNS) {
        const value = r[column];
        const text = value === undefined ? '' : (column === 'at' || column === 'expiresAt') && typeof value === 'number' ? new Date(value).toISOString() : String(value);
        assert.equal(rows[i][column], text, `${r.id} ${column}`);
      }
    });
    await page.locator('#flowmon-history-target').fill('');
    await page.locator('#flowmon-history-range').selectOption('24h');
  });

  it('a block row opens to the event that caused it, every hit and its history', async () => {
    await page.locator('#flowmon-blocks-view-blocks').click();
    const entry = (await blocks()).find((e) => e.target === `${LM_SOURCES[0]}/32` && e.state === 'active')!;
    assert.deepEqual(entry.eventIds, ['8100', '8200']);
    const row = page.locator(`#flowmon-blocks-table tr[data-id="${entry.id}"]`);
    await row.locator('.flowmon-blocks-target').click();
    const records = (await history({ target: entry.target })).records.filter((r) => r.configId === entry.configId && r.scope === entry.scope);
    assert.deepEqual(records.map((r) => r.action).sort(), ['blocked', 'extended']);
    const shown = row.locator('.flowmon-blocks-more .flowmon-history-record');
    await waitFor('the history of the block', async () => ((await shown.count()) === records.length ? true : undefined));
    assert.deepEqual(await shown.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), records.map((r) => r.id));
    // A block applied without a hold: its first record in the history names the event that caused it, and when.
    const first = records.find((r) => r.action === 'blocked')!;
    assert.equal(first.eventId, '8100');
    assert.equal(await row.locator('.flowmon-blocks-cause .flowmon-history-event-id').textContent(), '8100');
    assert.equal(await row.locator('.flowmon-blocks-cause .flowmon-history-at').textContent(), `at ${await page.evaluate((at) => new Date(at).toLocaleString(), first.at)}`);
    assert.equal(await row.locator('.flowmon-blocks-hit-count').textContent(), '2');
    assert.deepEqual(await row.locator('.flowmon-blocks-hit-id').allTextContents(), ['8100', '8200']);
    // It stays open over the live updates, and closes again with a click.
    await page.waitForTimeout(1500);
    assert.equal(await row.locator('.flowmon-blocks-more').count(), 1);
    await assertNoOverflow('flowmon-blocks-scroll');
    await row.locator('.flowmon-blocks-target').click();
    assert.equal(await row.locator('.flowmon-blocks-more').count(), 0);
    const fresh = browser.errors.slice(errorsAtStart).filter((e) => !/ERR_NAME_NOT_RESOLVED/.test(e));
    assert.deepEqual(fresh, [], 'console errors');
  });
});
