// Attack 5: the example's error path (catch → debug, node status, the log) shows nothing secret to an editor user,
// above all not the X-ADS-Secret header of the request that failed.
import assert = require('node:assert/strict');
import { body, eventLine, sourceAddress } from '../faults/support/events';
import { figure, SHARED_SECRET, sharedStack, waitFor, sleep, type SecureStack } from './support/stack';

describe('attack 5: errors show no secret to an editor user', function () {
  let s: SecureStack;

  before(async () => {
    s = await sharedStack();
  });

  it('keeps the shared secret, API key and token out of debug messages, node status and the log', async () => {
    const rejectsBefore = s.taps('rejected').length;
    const debugBefore = s.viewerComms.ofTopic('debug').length;
    // Errors in the parser while it holds the request (and its headers): bodies it cannot use, a wrong secret.
    await s.post(JSON.stringify({ not: 'an event' }), { contentType: 'application/json', timeoutMs: 5000 });
    await s.post('not an ADS line at all\n', { timeoutMs: 5000 });
    await s.post(body([eventLine('s5-wrong', sourceAddress(230))]), { secret: `${SHARED_SECRET}-wrong`, timeoutMs: 5000 });
    // Failures on both appliances (as the fault suite's secrets scenario).
    s.lm.switches.apiEnabled = false;
    s.cs.switches.errors.push({ status: 500, body: `echo x-auth-token: ${s.cs.apiToken}`, times: 6 });
    const lines = [1, 2, 3].map((i) => eventLine(`s5-${i}-${Date.now()}`, sourceAddress(230 + i)));
    for (let i = 1; i <= 3; i++) s.cs.seedActivity(sourceAddress(230 + i), `S-1-5-21-5000-${i}`, `s5user${i}`, 3);
    const posted = await s.post(body(lines));
    try {
      await waitFor(() => s.viewerComms.ofTopic('debug').length >= debugBefore + 4, 30000, 'debug messages of the failures');
      await sleep(1500);
    } finally {
      s.lm.switches.apiEnabled = true;
      s.cs.switches.errors.length = 0;
    }
    const places: Record<string, string> = {
      'debug sidebar (viewer websocket)': JSON.stringify(s.viewerComms.ofTopic('debug')),
      'node status (viewer websocket)': JSON.stringify(s.viewerComms.ofTopic('status')),
      'notifications (viewer websocket)': JSON.stringify(s.viewerComms.ofTopic('notification')),
      'GET /flows (viewer)': JSON.stringify(await s.nr.getJson('viewer', '/flows')),
      'GET /flowmon-response/blocks (viewer)': JSON.stringify(await s.nr.getJson('viewer', '/flowmon-response/blocks')),
      'Node-RED log': s.nr.log,
    };
    const secrets: Record<string, string> = { 'X-ADS-Secret': SHARED_SECRET, 'LoadMaster API key': s.lm.apiKey, 'CryptoSpike token': s.cs.apiToken };
    const leaks: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      for (const [place, text] of Object.entries(places)) if (text.includes(secret)) leaks.push(`${name} in ${place}`);
    }
    figure(5, `good batch ${posted.status}; ${s.viewerComms.ofTopic('debug').length} debug and ${s.viewerComms.ofTopic('status').length} status messages, ${s.taps('rejected').length - rejectsBefore} rejects, log ${s.nr.log.length} chars; leaks: ${leaks.join('; ') || 'none'}`);
    assert.ok(s.viewerComms.ofTopic('debug').length > debugBefore, 'the viewer saw no debug message: the check would prove nothing');
    assert.deepEqual(leaks, []);
  });
});
