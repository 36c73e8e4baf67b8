import assert from 'node:assert/strict';
import { fixture, parse } from './fixture';

describe('CEF syslog lines', () => {
  const parsed = () => parse(fixture('cef-syslog.txt'));

  it('reads every fixture line', () => {
    const { events, rejects } = parsed();
    assert.deepEqual(rejects, []);
    assert.equal(events.length, 9);
    assert.ok(events.every((e) => e.format === 'cef' && e.kind === 'ads'));
  });

  it('6.07: target=, cn1 event ID, times from the header and start=', () => {
    const e = parsed().events[0];
    assert.equal(e.method, 'DOS');
    assert.equal(e.description, 'Denial of service attack');
    assert.equal(e.priority, 'critical');
    assert.equal(e.id, '786879');
    assert.equal(e.source, '192.0.2.1');
    assert.deepEqual(e.targets, ['198.51.100.2']);
    assert.equal(e.detail, 'Input/output packet ratio too high.');
    assert.equal(e.firstFlowAt, '2014-11-21T13:21:08.000Z');
    assert.equal(e.detectedAt, '2025-11-21T13:21:35.000Z');
  });

  it('6.07: targetList inside msg, cut with "..." and with a repeated target', () => {
    const e = parsed().events[1];
    assert.deepEqual(e.targets, ['198.51.100.2', '198.51.100.3']);
    assert.equal(e.detail, 'Start of attack, attempts: 5.');
  });

  it('7.02: keeps an unescaped "=" inside msg', () => {
    const e = parsed().events[2];
    assert.equal(e.detail, 'Known phishing http://phish.example/phish_detail.php?phish_id=3229211');
    assert.deepEqual(e.targets, ['198.51.100.4']);
    assert.equal(e.priority, 'high');
  });

  it('10.0: machine-readable msg with "," separators, data feed ID', () => {
    const e = parsed().events[3];
    assert.equal(e.protocol, '6');
    assert.deepEqual(e.targets, ['198.51.100.6', '198.51.100.5']);
    assert.equal(e.dataFeed, '1');
    assert.equal(e.priority, 'medium');
  });

  it('13.0: ADS[pid] tag, dst=, Submethod and PortList from machine-readable msg', () => {
    const e = parsed().events[4];
    assert.equal(e.source, '10.0.112.1');
    assert.deepEqual(e.targets, ['192.168.112.2']);
    assert.equal(e.subtype, 'General');
    assert.equal(e.ports, '443');
    assert.equal(e.protocol, '17');
    assert.equal(e.detectedAt, '2025-11-03T14:13:04.000Z');
  });

  it('13.0 IPv6: c6a2 source and cs6 list, canonicalised', () => {
    const e = parsed().events[5];
    assert.equal(e.source, 'fe80::a1');
    assert.deepEqual(e.targets, ['fe80::2', 'fe80::3', '10.1.2.3']);
    assert.equal(e.priority, 'informational');
  });

  it('<PRI> with RFC 3164, RFC 5424 headers, and no header', () => {
    const { events } = parsed();
    assert.deepEqual(events[6].targets, ['198.51.100.10', '198.51.100.11']);
    assert.equal(events[6].priority, 'low');
    assert.equal(events[6].detectedAt, '2025-02-14T07:00:00.000Z');
    assert.equal(events[7].detectedAt, '2025-03-10T12:00:00.000Z');
    assert.deepEqual(events[7].targets, ['2001:db8::8']);
    assert.equal(events[8].detectedAt, null);
    assert.equal(events[8].detail, 'Form a=b attack.');
    assert.equal(events[8].userIdentity, 'CORP\\carol');
  });

  it('CRLF line ends', () => {
    const { events, rejects } = parse(fixture('cef-syslog-crlf.txt'));
    assert.deepEqual(rejects, []);
    assert.deepEqual(
      events.map((e) => e.targets),
      [['198.51.100.4'], ['198.51.100.6', '198.51.100.5']],
    );
  });

  it('takes the year of an RFC 3164 time from "now", or the year before when that is ahead', () => {
    const line = 'Dec 31 23:59:00 h ADS: CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|src=10.0.0.1 dst=10.0.0.2';
    const january = parse(line, { now: Date.parse('2026-01-01T00:30:00Z') });
    assert.equal(january.events[0].detectedAt, '2025-12-31T22:59:00.000Z');
  });

  it('rejects other products, missing sources, bad targets and short headers', () => {
    const lines = [
      'Mar 10 12:00:00 h fw: CEF:0|Other|Firewall|1.0|100|Blocked|5|src=10.0.0.1',
      'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|start=Mar 10 2025 12:00:00 msg=x dst=10.0.0.2',
      'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|src=10.0.0.1 cs4=10.0.0.2, nope cs4Label=dstIPv4list',
      'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS',
      'CEF:0|Flowmon Networks|Flowmon ADS|13.00.00|DOS|DoS|10|src=300.1.1.1',
    ];
    const { events, rejects } = parse(lines.join('\n'));
    assert.equal(events.length, 0);
    assert.deepEqual(
      rejects.map((r) => r.reason),
      [
        'CEF from "Other Firewall", not from Flowmon ADS',
        'no source address (src= or c6a2= is empty)',
        'target is not an address: "nope" (cs4=)',
        'CEF header has 5 of 8 "|"-separated fields',
        'source is not an address: "300.1.1.1" (src=)',
      ],
    );
  });

  describe('a used key that appears twice (ADS does not escape msg, so the msg text may carry a key)', () => {
    const HEAD = 'CEF:0|Flowmon Networks|Flowmon ADS Ultimate|13.00.00|SSHDICT|SSH attack|8|';
    const SYSLOG = 'Nov  3 15:13:04 localhost ADS[206966]: ';
    const reason = (key: string) => `CEF key ${key}= appears twice (the msg text may carry an injected key); line not used`;
    // src, c6a2 and start come before msg in ADS's order (suser is not sent at all): after msg their values are
    // ignored. A "later value wins" reader blocked the address or user inside the text.
    const textCases: Array<[string, string, { source: string; userIdentity: string | null; detail: string }]> = [
      ['src', 'src=10.0.112.1 start=Nov 03 2025 15:13:04 msg=Login failed src=203.0.113.66 dst=192.168.112.2',
        { source: '10.0.112.1', userIdentity: null, detail: 'Login failed' }],
      ['c6a2', 'c6a2=fe80::a1 c6a2Label=srcIPv6 start=Nov 03 2025 15:13:04 msg=Login c6a2=2001:db8::66 c6a3=fe80::2',
        { source: 'fe80::a1', userIdentity: null, detail: 'Login' }],
      ['suser', 'src=10.0.112.1 suser=CORP\\bob start=Nov 03 2025 15:13:04 msg=Login as suser=victim dst=192.168.112.2',
        { source: '10.0.112.1', userIdentity: 'CORP\\bob', detail: 'Login as' }],
      ['suser (only in the text)', 'src=10.0.112.1 msg=Login as suser=victim dst=192.168.112.2',
        { source: '10.0.112.1', userIdentity: null, detail: 'Login as' }],
      ['src (only after msg)', 'c6a2=fe80::a1 c6a2Label=srcIPv6 msg=Scan src=203.0.113.66 c6a3=fe80::2',
        { source: 'fe80::a1', userIdentity: null, detail: 'Scan' }],
    ];
    for (const [key, extension, expected] of textCases) {
      it(`${key}= after msg= is ignored: the event keeps its own source and user`, () => {
        const { events, rejects } = parse(`${SYSLOG}${HEAD}${extension}`);
        assert.deepEqual(rejects, []);
        assert.deepEqual(events.map((e) => ({ source: e.source, userIdentity: e.userIdentity, detail: e.detail })), [expected]);
      });
    }

    const cases: Array<[string, string]> = [
      // cs6 comes after msg: here the injected copy is the first one, so "first value wins" is no rule either.
      ['cs6', 'c6a2=fe80::a1 c6a2Label=srcIPv6 msg=Scan cs6=2001:db8::66 cs6Label=dstIPv6list cs6=fe80::2, fe80::3 cs6Label=dstIPv6list'],
      ['cs6Label', 'c6a2=fe80::a1 c6a2Label=srcIPv6 msg=Scan cs6Label=x cs6=fe80::2, fe80::3 cs6Label=dstIPv6list'],
      ['dst', 'src=10.0.112.1 msg=Scan dst=203.0.113.66 dst=192.168.112.2'],
      ['cn1', 'src=10.0.112.1 msg=Scan cn1=1 cn1Label=EventID dst=192.168.112.2 cn1=786879 cn1Label=EventID'],
      ['msg', 'src=10.0.112.1 msg=Scan msg=other dst=192.168.112.2'],
    ];
    for (const [key, extension] of cases) {
      for (const header of ['', SYSLOG, `<179>${SYSLOG}`]) {
        it(`${key}=${header ? ` (syslog header${header.startsWith('<') ? ' with <PRI>' : ''})` : ' (no header)'}`, () => {
          const { events, rejects } = parse(`${header}${HEAD}${extension}`);
          assert.deepEqual(events, []);
          assert.deepEqual(rejects.map((r) => r.reason), [reason(key)]);
        });
      }
    }

    it('src= and c6a2= both before msg (ADS sends one of them) is rejected', () => {
      const { events, rejects } = parse(`${SYSLOG}${HEAD}c6a2=fe80::a1 c6a2Label=srcIPv6 src=203.0.113.66 msg=Scan c6a3=fe80::2`);
      assert.deepEqual(events, []);
      assert.deepEqual(rejects.map((r) => r.reason), [
        'CEF keys src= and c6a2= both name a source (ADS sends one of them); line not used',
      ]);
    });

    it('the neighbours of a rejected line are read, also when they repeat a key the event does not use', () => {
      const good = `${HEAD}src=10.0.112.7 smac=0c:70:00:00:00:00 msg=MAC smac=0c:70:00:00:00:01 seen; src: x dst=192.168.112.2`;
      const bad = `${HEAD}src=10.0.112.1 msg=Attack dst=203.0.113.66 dst=192.168.112.2`;
      const { events, rejects } = parse([good, bad, good].join('\n'));
      assert.deepEqual(events.map((e) => [e.source, e.targets]), [['10.0.112.7', ['192.168.112.2']], ['10.0.112.7', ['192.168.112.2']]]);
      assert.deepEqual(rejects.map((r) => r.lineNumber), [2]);
    });
  });
});
