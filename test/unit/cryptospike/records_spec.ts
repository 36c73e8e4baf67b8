import assert from 'node:assert/strict';
import { blockComment, MAX_COMMENT_LENGTH } from '../../../lib/cryptospike/comment';
import { ProtectedUsers } from '../../../lib/cryptospike/protected-users';
import { nameMatchesUser, searchTermFor } from '../../../lib/cryptospike/records';
import { adsEvent } from './fixture';

const jdoe = { userId: 'S-1-5-21-1-1104', username: 'jdoe', userPrincipalName: 'jdoe@corp.example', domain: 'CORP' };

describe('CryptoSpike names, protected users and comments', () => {
  it('matches user name, UPN, DOMAIN\\user and SID exactly and case-insensitively', () => {
    for (const name of ['JDOE', 'jdoe@CORP.example', 'corp\\jdoe', 's-1-5-21-1-1104']) assert.ok(nameMatchesUser(name, jdoe), name);
    for (const name of ['jdo', 'OTHER\\jdoe', 'jdoe@other.example', 'corp\\jdoe2', '']) assert.ok(!nameMatchesUser(name, jdoe), name);
    assert.ok(nameMatchesUser('CORP\\jdoe', { ...jdoe, domain: null }), 'unknown domain matches the bare name');
    assert.ok(nameMatchesUser('jdoe', { ...jdoe, username: 'CORP\\jdoe', domain: null }));
    assert.equal(searchTermFor('CORP\\jdoe'), 'jdoe');
    assert.equal(searchTermFor('jdoe@corp.example'), 'jdoe');
  });

  it('protected users: names require a known name, SIDs do not', () => {
    assert.equal(new ProtectedUsers(['S-1-5-21-1-1104']).needsNames, false);
    const list = new ProtectedUsers(['Administrator', ' CORP\\svc-backup ']);
    assert.equal(list.needsNames, true);
    assert.match(list.reasonFor({ userId: 'S-1', username: 'svc-backup', userPrincipalName: null, domain: 'corp' }) ?? '', /never-block entry "CORP\\svc-backup"/);
    assert.equal(list.reasonFor(jdoe), null);
  });

  it('keeps the comment under 1,000 characters with long targets and feeds', () => {
    const targets = Array.from({ length: 500 }, (_, i) => `10.9.${Math.floor(i / 250)}.${i % 250}`);
    const comment = blockComment(adsEvent('10.0.0.5', { targets, dataFeed: 'x'.repeat(2000), method: 'M'.repeat(500) }), jdoe, 'why '.repeat(300));
    assert.ok(comment.length <= MAX_COMMENT_LENGTH, String(comment.length));
    assert.match(comment, /\(\+495 more\)/);
    assert.match(comment, /Source: 10\.0\.0\.5/);
  });
});
