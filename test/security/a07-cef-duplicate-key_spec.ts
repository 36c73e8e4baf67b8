// Attack 7: a CEF line whose msg= text carries a second " src=" (or " suser=") to get another address or user
// blocked. ADS writes src before msg= (and sends no suser): after msg= those keys are ignored, so the line is read
// with its own source, and the other address or user is never blocked.
import assert = require('node:assert/strict');
import { cefEvents } from '../../demo/sample-events';
import { figure, sharedStack, waitFor, sleep, type SecureStack } from './support/stack';

const OTHER_ADDRESS = '198.51.100.77';
const OTHER_SID = 'S-1-5-21-7000-77';
const OTHER_USER = 'victim77';

function cef(source: string, id: string, extra: string): string {
  return cefEvents()
    .trim()
    .replace('src=203.0.113.21', `src=${source}`)
    .replace('cn1=5301', `cn1=${id}`)
    .replace('msg=Communication with a blacklisted host.', `msg=Communication with a blacklisted host.${extra}`);
}

describe('attack 7: a second src= or suser= inside a CEF msg= text', function () {
  let s: SecureStack;

  before(async () => {
    s = await sharedStack();
    s.cs.seedActivity(OTHER_ADDRESS, OTHER_SID, OTHER_USER, 5);
    s.cs.state.addUser({ userId: 'S-1-5-21-7000-78', username: 'victim78' });
  });

  it('reads the line with its own source, and blocks neither the other address nor the other user', async () => {
    const rejectsBefore = s.taps('rejected').length;
    const lines = [
      cef('203.0.113.60', '7001', ` src=${OTHER_ADDRESS}`),
      `${cef('203.0.113.61', '7002', ' suser=victim78')} suser=alice78`,
      cef('203.0.113.62', '7003', ''), // a control line: once its source is blocked, the batch has been handled
    ];
    const answer = await s.post(`${lines.join('\n')}\n`);
    await waitFor(() => ['203.0.113.60', '203.0.113.61', '203.0.113.62'].every((a) => s.lmBlocked().includes(a)), 20000, 'the three sources to be blocked');
    await sleep(1500);
    const rejects = s.taps('rejected').slice(rejectsBefore).map((r) => String(r.payload.reason ?? ''));
    const blockedUsers = s.csBlocked().map((u) => `${u.userId} ${u.username}`);
    const otherBlocked = s.lmBlocked().includes(OTHER_ADDRESS);
    const otherUsers = blockedUsers.filter((u) => /victim7[78]/.test(u));
    figure(7, `answer ${answer.status} ${answer.text}; rejects: ${rejects.map((r) => JSON.stringify(r)).join(', ') || 'none'}; ${OTHER_ADDRESS} blocked: ${otherBlocked ? 'yes' : 'no'}; other users blocked: ${otherUsers.join(', ') || 'none'}`);
    assert.equal(otherBlocked, false, `${OTHER_ADDRESS} is on the LoadMaster block list`);
    assert.deepEqual(otherUsers, [], 'the other user is blocked on CryptoSpike');
    assert.deepEqual(rejects, [], 'a line was rejected');
    assert.equal(answer.status, 202);
  });
});
