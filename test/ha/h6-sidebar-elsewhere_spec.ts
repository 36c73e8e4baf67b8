// In the editors (headless Chromium): a block made through one instance appears in the other instance's blocks
// sidebar without a reload (the change reaches it through PostgreSQL's notifications and the editor's comms), its
// Release button there removes it from the LoadMaster, and the first instance's sidebar shows the release.
import assert = require('node:assert/strict');
import type { Page } from 'playwright-core';
import { hasChromium, openBrowser, type EditorBrowser } from '../e2e/support/browser';
import { clusterPerSuite, figure, until } from './support/cluster';
import { eventLine, sourceAddress } from '../faults/support/events';

interface Win {
  RED: { sidebar: { show(id: string): void }; nodes: { filterNodes(filter: { type: string }): unknown[] } };
}

const rowOf = (page: Page, target: string) => page.locator('#flowmon-blocks-table tbody tr', { hasText: target });

/** The editor with its flows loaded (the editor then shows its info tab), then the blocks sidebar. */
async function openSidebar(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.waitForFunction(() => ((window as unknown as Win).RED?.nodes?.filterNodes?.({ type: 'flowmon-ads-event' }) ?? []).length > 0, null, {
    timeout: 60000,
  });
  await page.waitForTimeout(500);
  await page.evaluate(() => (window as unknown as Win).RED.sidebar.show('flowmon-blocks'));
  await page.locator('#flowmon-blocks-count').waitFor({ state: 'visible', timeout: 10000 });
}

describe('HA 6: the blocks sidebar of one instance follows the other', function () {
  const cluster = clusterPerSuite({ blockTtl: '10m' });
  const browsers: EditorBrowser[] = [];

  before(async function () {
    if (!hasChromium()) this.skip();
    for (const i of [0, 1]) {
      const browser = await openBrowser();
      browsers.push(browser);
      await openSidebar(browser.page, cluster().nodes[i].baseUrl);
    }
  });
  after(async () => {
    for (const b of browsers) await b.close();
  });

  it("shows a block made on instance 0 in instance 1's sidebar at once, and releases it from there", () =>
    cluster().explained(async () => {
      const [made, other] = browsers.map((b) => b.page);
      const source = sourceAddress(300);
      const target = `${source}/32`;
      assert.equal((await cluster().post(0, eventLine(60_000, source))).status, 202);
      await until(`${source} on the LoadMaster`, 20000, () => cluster().lmBlocked().includes(source));
      const blockedAt = Date.now();
      await until(`${target} in instance 1's sidebar`, 10000, async () => ((await rowOf(other, target).isVisible()) ? true : undefined));
      const shownMs = Date.now() - blockedAt;

      other.once('dialog', (d) => void d.accept());
      await rowOf(other, target).locator('.flowmon-blocks-release').click();
      await until(`${source} off the LoadMaster`, 20000, () => (cluster().lmBlocked().includes(source) ? undefined : true));
      await until(`instance 0's sidebar to show ${target} released`, 10000, async () => {
        const states = await rowOf(made, target).locator('.flowmon-blocks-state').allTextContents();
        return states.length === 0 || states.every((s) => s.startsWith('released')) ? true : undefined;
      });
      assert.equal(cluster().lmDeletes().get(source), 1, 'delete calls');
      assert.equal(cluster().lmAdds().get(source), 1, 'add calls');
      // The editor asks for outside resources, which this closed network cannot resolve: that is not our error.
      for (const b of browsers) assert.deepEqual(b.errors.filter((e) => !/ERR_NAME_NOT_RESOLVED/.test(e)), [], 'no console errors');
      figure(`block made on instance 0 shown in instance 1's sidebar ${shownMs} ms after the add; released from there`);
    }));
});
