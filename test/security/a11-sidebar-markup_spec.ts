// Attack 11: a CryptoSpike user whose id and name are HTML, blocked through the example; the admin opens the
// Flowmon blocks sidebar in headless Chromium and releases (one release succeeds, one fails). The markup must
// show as text and never run.
import assert = require('node:assert/strict');
import { body, eventLine } from '../faults/support/events';
import { hasChromium, openBrowser, type EditorBrowser } from '../e2e/support/browser';
import { PASSWORDS } from './support/secure-node-red';
import { figure, sharedStack, waitFor, type SecureStack } from './support/stack';

const USER_OK = '<img src=x onerror="window.__pwned=1">';
const USER_FAIL = '<img src=y onerror="window.__pwned=2">';
const ERROR_BODY = '<img src=z onerror="window.__pwned=3">';
const SOURCES: Array<[string, string]> = [
  ['198.51.100.243', USER_OK],
  ['198.51.100.244', USER_FAIL],
];
type Win = any;

describe('attack 11: HTML in a CryptoSpike user shown in the Flowmon blocks sidebar', function () {
  this.timeout(150000);
  let s: SecureStack;
  let browser: EditorBrowser | undefined;

  before(async function () {
    if (!hasChromium()) {
      console.log('      (skipped: /usr/bin/chromium is not installed; .ci/run installs it)');
      this.skip();
    }
    s = await sharedStack();
  });

  after(async () => {
    if (s) s.cs.switches.errors.length = 0;
    await browser?.close();
  });

  it('shows the markup as literal text and never runs it, on a release and on a failed release', async () => {
    for (const [ip, user] of SOURCES) s.cs.seedActivity(ip, user, user, 5);
    const answer = await s.post(body(SOURCES.map(([ip], i) => eventLine(`s11-${i}-${Date.now()}`, ip))));
    assert.equal(answer.status, 202);
    await waitFor(() => SOURCES.every(([, user]) => s.csBlocked().some((u) => u.userId === user)), 20000, 'both HTML users blocked on CryptoSpike');

    browser = await openBrowser();
    const { page } = browser;
    // Every notification's text as it appears (they fade after a few seconds).
    await page.addInitScript(() => {
      const w = window as Win;
      w.__notes = [];
      new MutationObserver((records) => {
        for (const r of records) {
          r.addedNodes.forEach((n: Node) => {
            if (n instanceof HTMLElement && n.classList.contains('red-ui-notification')) w.__notes.push(n.textContent ?? '');
          });
        }
      }).observe(document, { childList: true, subtree: true });
    });
    page.on('dialog', (d) => void d.accept());
    // Logged in as admin through the editor's own login form.
    await page.goto(`${s.nr.baseUrl}/`);
    await page.locator('input[type=password]').waitFor({ state: 'visible', timeout: 30000 });
    await page.locator('input[type=text]').first().fill('admin');
    await page.locator('input[type=password]').fill(PASSWORDS.admin);
    await page.getByRole('button', { name: 'Login' }).click();
    await page.waitForFunction(() => (window as Win).RED?.nodes?.node?.('f1a0000000000103') != null, null, { timeout: 60000 });
    await page.evaluate(() => (window as Win).RED.sidebar.show('flowmon-blocks'));
    const row = (marker: string) => page.locator('#flowmon-blocks-table tbody tr[data-id]', { hasText: marker });
    await waitFor(async () => ((await row('__pwned=1').count()) > 0 && (await row('__pwned=2').count()) > 0 ? true : false), 20000, 'both rows in the sidebar');
    const rowText = await row('__pwned=1').first().textContent();

    await row('__pwned=1').first().locator('.flowmon-blocks-release').click();
    await waitFor(() => !s.csBlocked().some((u) => u.userId === USER_OK), 20000, 'the first user released');
    await page.waitForFunction(() => (window as Win).__notes.length >= 1, null, { timeout: 10000 });

    s.cs.switches.errors.push({ status: 500, body: ERROR_BODY, times: 1000 });
    const notesBefore = await page.evaluate(() => (window as Win).__notes.length as number);
    await row('__pwned=2').first().locator('.flowmon-blocks-release').click();
    await page.waitForFunction((n) => (window as Win).__notes.length > n, notesBefore, { timeout: 20000 });
    await page.waitForTimeout(1000);
    s.cs.switches.errors.length = 0;

    const pwned = await page.evaluate(() => (window as Win).__pwned);
    const notes = (await page.evaluate(() => (window as Win).__notes)) as string[];
    const literal = notes.some((n) => n.includes(USER_OK)) && notes.some((n) => n.includes(USER_FAIL));
    figure(11, `window.__pwned = ${String(pwned)}; notifications: ${notes.map((n) => JSON.stringify(n.slice(0, 120))).join(' | ')}; markup shown as text: ${literal ? 'yes' : 'no'}`);
    assert.equal(pwned, undefined, 'markup from the appliance ran in the editor');
    assert.ok(rowText?.includes(USER_OK), `the row shows ${rowText}`);
    assert.ok(literal, 'the notifications do not show the user as text');
  });
});
