import assert from 'node:assert/strict';
import { fixture, parse } from './fixture';

describe('ADS tab-separated lines', () => {
  it('reads the standard layout (15 fields), keeping DOMAIN\\user and reading times in the zone', () => {
    const { events, rejects } = parse(fixture('tsv-standard.tsv'));
    assert.deepEqual(rejects, []);
    assert.equal(events.length, 4);
    const [first] = events;
    assert.equal(first.format, 'tsv-standard');
    assert.equal(first.kind, 'ads');
    assert.equal(first.id, '101');
    assert.equal(first.detectedAt, '2025-03-10T07:15:00.000Z');
    assert.equal(first.firstFlowAt, '2025-03-10T07:10:00.000Z');
    assert.equal(first.method, 'SSHDICT');
    assert.equal(first.description, 'SSH attack');
    assert.equal(first.perspective, 'Security Issues');
    assert.equal(first.priority, 'high');
    assert.equal(first.ports, '22');
    assert.equal(first.protocol, 'TCP');
    assert.equal(first.source, '192.0.2.10');
    assert.equal(first.sourceName, 'edge-probe');
    assert.deepEqual(first.targets, ['198.51.100.5', '198.51.100.6']);
    assert.equal(first.dataFeed, 'LAN');
    assert.equal(first.userIdentity, 'CORP\\jdoe');
    assert.equal(first.subtype, null);
    assert.equal(first.mitre, null);
    assert.ok(first.raw.startsWith('101\t'));
  });

  it('keeps the 15th field when the user identity is empty (line ends in TAB + space)', () => {
    const second = parse(fixture('tsv-standard.tsv')).events[1];
    assert.ok(second.raw.endsWith('\t '));
    assert.equal(second.userIdentity, null);
    assert.equal(second.source, '192.0.2.11');
    assert.equal(second.ports, null);
    assert.equal(second.sourceName, null);
  });

  it('leaves perspective and priority null on a manual trigger', () => {
    const manual = parse(fixture('tsv-standard.tsv')).events[2];
    assert.equal(manual.perspective, null);
    assert.equal(manual.priority, null);
  });

  it('canonicalises an IPv6 source and targets, de-duplicates, and reads epoch seconds', () => {
    const v6 = parse(fixture('tsv-standard.tsv')).events[3];
    assert.equal(v6.source, '2001:db8::1a');
    assert.deepEqual(v6.targets, ['2001:db8::2', '198.51.100.9']);
    assert.equal(v6.detectedAt, '2025-03-10T08:15:00.000Z');
    assert.equal(v6.priority, 'critical');
  });

  it('reads the extended layout (17 fields) with subtype and MITRE, also with an empty user identity', () => {
    const { events, rejects } = parse(fixture('tsv-extended.tsv'));
    assert.deepEqual(rejects, []);
    const [a, b] = events;
    assert.equal(a.format, 'tsv-extended');
    assert.equal(a.subtype, 'General');
    assert.equal(a.mitre, 'T1110 Brute Force');
    assert.equal(a.description, 'SSH attack');
    assert.equal(a.priority, 'critical');
    assert.equal(a.source, '203.0.113.20');
    assert.equal(a.userIdentity, 'EXAMPLE\\alice');
    assert.equal(b.mitre, null);
    assert.equal(b.userIdentity, null);
    assert.deepEqual(b.targets, ['198.51.100.21', '198.51.100.22']);
    assert.equal(b.dataFeed, 'DMZ');
  });

  it('reads the IDS layout (14 fields)', () => {
    const { events, rejects } = parse(fixture('tsv-ids.tsv'));
    assert.deepEqual(rejects, []);
    const [ids] = events;
    assert.equal(ids.kind, 'ids');
    assert.equal(ids.format, 'tsv-ids');
    assert.equal(ids.method, 'IDS');
    assert.equal(ids.source, '203.0.113.30');
    assert.deepEqual(ids.targets, ['198.51.100.30']);
    assert.equal(ids.subtype, '2010935');
    assert.equal(ids.description, 'ET SCAN Suspicious inbound to MSSQL port 1433');
    assert.equal(ids.detail, 'Attempted Information Leak');
    assert.equal(ids.priority, 'high');
    assert.equal(ids.dataFeed, '192.0.2.1');
    assert.equal(ids.detectedAt, '2025-03-10T10:00:00.000Z');
  });

  it('strips only the CR of CRLF line ends', () => {
    const { events, rejects } = parse(fixture('tsv-crlf.tsv'));
    assert.deepEqual(rejects, []);
    assert.deepEqual(
      events.map((e) => [e.format, e.userIdentity]),
      [
        ['tsv-standard', 'CORP\\jdoe'],
        ['tsv-standard', null],
        ['tsv-extended', null],
      ],
    );
    assert.ok(events.every((e) => !e.raw.endsWith('\r')));
  });

  it('rejects broken lines with reasons, and keeps the good line after them', () => {
    const { events, rejects } = parse(fixture('tsv-broken.tsv'));
    assert.equal(events.length, 1);
    assert.equal(events[0].source, '192.0.2.10');
    assert.deepEqual(
      rejects.map((r) => r.lineNumber),
      [1, 2, 3, 4, 5],
    );
    assert.match(rejects[0].reason, /^14 fields with an ADS method code.*stripped/);
    assert.match(rejects[1].reason, /^16 tab-separated fields/);
    assert.match(rejects[2].reason, /source is not an address: "not-an-ip"/);
    assert.match(rejects[3].reason, /unknown format/);
    assert.match(rejects[4].reason, /target is not an address: "host.example"/);
    assert.equal(rejects[3].line, 'hello world, this is not an event');
  });

  it('holds a forced layout against the field count', () => {
    const { events, rejects } = parse(fixture('tsv-standard.tsv'), { format: 'tsv-extended' });
    assert.equal(events.length, 0);
    assert.equal(rejects.length, 4);
    assert.match(rejects[0].reason, /15 tab-separated fields, but the format tsv-extended has 17/);
  });

  it('reads a 14-field IDS line as IDS when forced, even if it looks like a stripped ADS line', () => {
    const stripped = fixture('tsv-broken.tsv').toString().split('\n')[0];
    const { rejects } = parse(stripped, { format: 'tsv-ids' });
    assert.equal(rejects.length, 1);
    assert.match(rejects[0].reason, /source is not an address: "SCANS"/);
  });
});
