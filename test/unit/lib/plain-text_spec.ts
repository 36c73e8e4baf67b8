import assert from 'node:assert/strict';
import { blockComment, MAX_COMMENT_LENGTH, unblockComment } from '../../../lib/cryptospike/comment';
import { MAX_COMMENT_LENGTH as LOADMASTER_MAX } from '../../../lib/loadmaster/client';
import { LOADMASTER_COMMENT_TAG } from '../../../lib/mitigation/types';
import { applianceText, clip, plainText } from '../../../lib/text/plain-text';
import { renderComment } from '../../../nodes/flowmon-loadmaster-acl/request';
import { adsEvent } from '../cryptospike/fixture';

const XSS = '<img src=x onerror="window.__pwned=1">';
/** What an appliance comment must never contain: markup characters and control characters (line breaks included). */
const FORBIDDEN = /[<>&"'`\p{Cc}\u2028\u2029\u202e\u200b]/u;

describe('plain text for editors and appliances', () => {
  it('clip cuts with an ellipsis within the bound and never splits a surrogate pair', () => {
    assert.equal(clip('abcdef', 6), 'abcdef');
    assert.equal(clip('abcdef', 4), 'abc…');
    assert.equal(clip('a😀b', 3), 'a…', 'the pair is dropped whole');
    assert.equal(clip('abc', 0), '');
  });

  it('plainText drops control, format and separator characters and bounds the length', () => {
    assert.equal(plainText('a\u0000b\r\nc\td\u202eE\u200bF\u2028g', 100), 'a b c d E F g');
    assert.equal(plainText('  spaced   out  ', 100), 'spaced out');
    assert.equal(plainText(XSS, 100), XSS, 'markup is kept: the editor shows it as text');
    assert.equal(plainText('x'.repeat(60 * 1024), 128).length, 128);
    assert.equal(plainText(undefined, 10), '');
    assert.equal(plainText(42, 10), '');
  });

  it('applianceText also drops every character that is markup in a web UI', () => {
    assert.equal(applianceText(XSS, 100), 'img src=x onerror=window.__pwned=1');
    assert.equal(applianceText('R&D `cmd` \'q\' "d"', 100), 'RD cmd q d');
    assert.doesNotMatch(applianceText(`${XSS}\u0007\n${XSS}`, 1000), FORBIDDEN);
  });

  it('the LoadMaster comment template gives printable text without markup, within 127 characters', () => {
    const event = adsEvent('198.51.100.7', { id: XSS, method: 'SCANS\n<script>alert(1)</script>' });
    const comment = renderComment('ADS ID {{id}} - {{method}}', {}, event, '198.51.100.7');
    assert.equal(comment, 'ADS ID img src=x onerror=window.__pwned=1 - SCANS scriptalert(1)/script');
    assert.doesNotMatch(comment, FORBIDDEN);
    const long = renderComment(undefined, {}, adsEvent('198.51.100.7', { id: '9'.repeat(60 * 1024) }), '198.51.100.7');
    assert.ok(long.length <= LOADMASTER_MAX, String(long.length));
    assert.match(long, /^ADS ID 9+…$/);
    assert.equal(renderComment(undefined, { comment: `by hand ${XSS}` }, null, '198.51.100.7'), 'by hand img src=x onerror=window.__pwned=1');
    assert.equal(renderComment(undefined, {}, adsEvent('198.51.100.7', { id: '42' }), '198.51.100.7'), 'ADS ID 42 - SMBSCAN');
  });

  it('the CryptoSpike block comment gives printable text without markup, within its bound, tag last', () => {
    const user = { userId: 'S-1-5-21-1-1104', username: XSS, userPrincipalName: null, domain: null };
    const event = adsEvent('10.0.0.5', { id: `${XSS}\r\n`.repeat(2000), userIdentity: `CORP\\${XSS}`, dataFeed: `feed'\u0000` });
    const comment = blockComment(event, user, `only user with file activity ${XSS}`);
    assert.doesNotMatch(comment, FORBIDDEN);
    assert.ok(comment.length <= MAX_COMMENT_LENGTH, String(comment.length));
    assert.ok(comment.endsWith(` | ${LOADMASTER_COMMENT_TAG}`), comment);
    for (const part of ['Blocked img src=x onerror=window.__pwned=1 (S-1-5-21-1-1104)', 'Source: 10.0.0.5', 'Data feed: feed']) {
      assert.ok(comment.includes(part), `comment lacks "${part}": ${comment}`);
    }
    const unblock = unblockComment(`requested for event ${'x'.repeat(5000)}<b>`);
    assert.doesNotMatch(unblock, FORBIDDEN);
    assert.ok(unblock.length <= MAX_COMMENT_LENGTH && unblock.endsWith(LOADMASTER_COMMENT_TAG));
  });
});
