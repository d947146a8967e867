// The outbox's rules (static/js/outbox-entries.js): order, leases, answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  PREFIX, LEASE_MS, TIMEOUT_RETRY_MS, UNAVAILABLE_RETRY_MS, RATE_LIMITED_RETRY_MS,
  storageKey, clientIdOfKey, parseEntry, mergeEntries, byAge, entriesOf, newEntry,
  nextToSend, leased, isStored, answered, unanswered, retried, releasedLeases, seen,
} from '../../static/js/outbox-entries.js';

const NOW = 1764100000000;

function entry(fields) {
  return Object.assign(newEntry(fields.client_id, 'w', 'ann', 'hi', 'tab-a', NOW), fields);
}

function frozen(value) {
  return Object.freeze(Object.assign({}, value));
}

test('storage keys: one per post under the wall.outbox. prefix', () => {
  assert.equal(PREFIX, 'wall.outbox.');
  assert.equal(storageKey('abc'), 'wall.outbox.abc');
  assert.equal(clientIdOfKey('wall.outbox.abc'), 'abc');
  assert.equal(clientIdOfKey(storageKey('3f2a-11')), '3f2a-11');
  assert.equal(clientIdOfKey('wall.username'), null);
  assert.equal(clientIdOfKey('xwall.outbox.abc'), null);
  assert.equal(clientIdOfKey(null), null);
});

test('parseEntry reads an entry and refuses anything else', () => {
  assert.deepEqual(parseEntry('{"client_id":"a","wall":"w"}'), { client_id: 'a', wall: 'w' });
  for (const bad of ['', 'not json', '{', 'null', '42', '"a"', '[]', '{"client_id":7}', '{"wall":"w"}']) {
    assert.equal(parseEntry(bad), null, bad);
  }
  assert.equal(parseEntry(null), null);
});

test('newEntry is pending, unleased, created now by this tab', () => {
  assert.deepEqual(newEntry('id1', 'news', 'ann', 'hello', 'tab-a', NOW), {
    client_id: 'id1', wall: 'news', username: 'ann', message: 'hello', created: NOW, tab: 'tab-a',
    state: 'pending', error: null, retry_at: 0, lease: null, lease_until: 0,
  });
});

test('mergeEntries joins both places and drops unreadable entries', () => {
  const a = entry({ client_id: 'a' });
  const b = entry({ client_id: 'b' });
  assert.deepEqual(mergeEntries([a, null], [null, b]), [a, b]);
  assert.deepEqual(mergeEntries([], []), []);
});

test('mergeEntries: the copy kept in memory wins over a stale stored one', () => {
  // localStorage filled up after the entry was stored: its later changes
  // (here: the server refused it) went to memory only.
  const stale = entry({ client_id: 'a', created: NOW });
  const current = answered(leased(stale, 'tab-a', NOW), { error: 'invalid', message: 'Too long.' }, NOW);
  const other = entry({ client_id: 'b', created: NOW + 1 });
  const merged = mergeEntries([stale, other], [current]);
  assert.equal(merged.length, 2);
  assert.deepEqual(merged.find((e) => e.client_id === 'a'), current);
  // So the refused post is not sent again; the next one goes.
  assert.equal(nextToSend(entriesOf(merged, 'w'), 'tab-a', NOW).entry.client_id, 'b');
});

test('byAge: oldest first, then by client_id', () => {
  const list = [
    entry({ client_id: 'c', created: NOW + 2 }),
    entry({ client_id: 'b', created: NOW }),
    entry({ client_id: 'a', created: NOW }),
    entry({ client_id: 'd', created: NOW - 5 }),
  ];
  assert.deepEqual(list.sort(byAge).map((e) => e.client_id), ['d', 'a', 'b', 'c']);
});

test('entriesOf keeps one wall, oldest first, in a new array', () => {
  const list = [
    entry({ client_id: 'x', wall: 'other', created: NOW - 10 }),
    entry({ client_id: 'late', created: NOW + 1 }),
    entry({ client_id: 'early', created: NOW - 1 }),
  ];
  const copy = list.slice();
  assert.deepEqual(entriesOf(list, 'w').map((e) => e.client_id), ['early', 'late']);
  assert.deepEqual(list, copy);
  assert.deepEqual(entriesOf(list, 'none'), []);
});

test('nextToSend: nothing when nothing is pending', () => {
  assert.equal(nextToSend([], 'tab-a', NOW), null);
  assert.equal(nextToSend([entry({ client_id: 'f', state: 'failed' })], 'tab-a', NOW), null);
});

test('nextToSend: the oldest pending entry, at once', () => {
  const list = entriesOf([
    entry({ client_id: 'second', created: NOW + 1 }),
    entry({ client_id: 'failed', created: NOW - 2, state: 'failed' }),
    entry({ client_id: 'first', created: NOW }),
  ], 'w');
  const next = nextToSend(list, 'tab-a', NOW);
  assert.equal(next.entry.client_id, 'first');
  assert.equal(next.wait, 0);
});

test('nextToSend: an entry in its retry pause holds back the ones behind it', () => {
  const list = [
    entry({ client_id: 'first', created: NOW, retry_at: NOW + 1500 }),
    entry({ client_id: 'second', created: NOW + 1 }),
  ];
  const next = nextToSend(list, 'tab-a', NOW);
  assert.equal(next.entry.client_id, 'first');
  assert.equal(next.wait, 1500);
  assert.equal(nextToSend(list, 'tab-a', NOW + 1500).wait, 0);
});

test("nextToSend: another tab's lease is waited out, our own is not", () => {
  const e = entry({ client_id: 'a', lease: 'tab-b', lease_until: NOW + 4000 });
  assert.equal(nextToSend([e], 'tab-a', NOW).wait, 4000);
  assert.equal(nextToSend([e], 'tab-b', NOW).wait, 0);
  assert.equal(nextToSend([e], 'tab-a', NOW + 4000).wait, 0); // expired
});

test('nextToSend: the longer of a retry pause and a lease', () => {
  const e = entry({ client_id: 'a', retry_at: NOW + 9000, lease: 'tab-b', lease_until: NOW + 4000 });
  assert.equal(nextToSend([e], 'tab-a', NOW).wait, 9000);
  const f = entry({ client_id: 'a', retry_at: NOW + 1000, lease: 'tab-b', lease_until: NOW + 4000 });
  assert.equal(nextToSend([f], 'tab-a', NOW).wait, 4000);
});

test('nextToSend: an entry without retry_at (an older page wrote it) goes at once', () => {
  const e = entry({ client_id: 'a' });
  delete e.retry_at;
  assert.equal(nextToSend([e], 'tab-a', NOW).wait, 0);
});

test('leased: held by this tab for the send timeout and then some', () => {
  const e = frozen(entry({ client_id: 'a' }));
  const l = leased(e, 'tab-a', NOW);
  assert.equal(l.lease, 'tab-a');
  assert.equal(l.lease_until, NOW + LEASE_MS);
  assert.equal(LEASE_MS, 15000);
  assert.equal(e.lease, null);
});

test('isStored: only an ok answer with the post', () => {
  assert.equal(isStored({ ok: true, post: { id: '1-0' } }), true);
  assert.equal(isStored({ ok: true }), false);
  assert.equal(isStored({ ok: false, error: 'invalid' }), false);
  assert.equal(isStored(null), false);
  assert.equal(isStored(undefined), false);
});

test('answered: rate_limited waits the server\'s retry_after, stays pending', () => {
  const e = frozen(entry({ client_id: 'a', lease: 'tab-a', lease_until: NOW + LEASE_MS }));
  const next = answered(e, { ok: false, error: 'rate_limited', retry_after: 3 }, NOW);
  assert.equal(next.state, 'pending');
  assert.equal(next.retry_at, NOW + 3000);
  assert.equal(next.error, null);
  assert.equal(next.lease, null);
  assert.equal(e.lease, 'tab-a');
});

test('answered: without a usable retry_after, our own pauses', () => {
  const e = entry({ client_id: 'a' });
  assert.equal(answered(e, { error: 'rate_limited' }, NOW).retry_at, NOW + RATE_LIMITED_RETRY_MS);
  assert.equal(answered(e, { error: 'rate_limited', retry_after: 0 }, NOW).retry_at, NOW + RATE_LIMITED_RETRY_MS);
  assert.equal(answered(e, { error: 'rate_limited', retry_after: -4 }, NOW).retry_at, NOW + RATE_LIMITED_RETRY_MS);
  assert.equal(answered(e, { error: 'rate_limited', retry_after: 'soon' }, NOW).retry_at, NOW + RATE_LIMITED_RETRY_MS);
  assert.equal(answered(e, { error: 'unavailable' }, NOW).retry_at, NOW + UNAVAILABLE_RETRY_MS);
  assert.equal(answered(e, { error: 'unavailable', retry_after: '1.5' }, NOW).retry_at, NOW + 1500);
  assert.equal(answered(e, { error: 'unavailable' }, NOW).state, 'pending');
});

test('answered: any other refusal fails the entry with the server\'s reason', () => {
  const e = entry({ client_id: 'a' });
  const failed = answered(e, { ok: false, error: 'invalid', message: 'The message is too long.' }, NOW);
  assert.equal(failed.state, 'failed');
  assert.equal(failed.code, 'invalid');
  assert.equal(failed.error, 'The message is too long.');
  assert.equal(failed.retry_at, 0);
});

test('answered: a refusal without a code or message still says something', () => {
  const e = entry({ client_id: 'a' });
  for (const result of [null, {}, { ok: false }, { ok: true }]) {
    const failed = answered(e, result, NOW);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.code, 'unknown');
    assert.equal(failed.error, 'The server refused this post.');
  }
  assert.equal(answered(e, { error: 'forbidden' }, NOW).code, 'forbidden');
});

test('unanswered: a timeout pauses a moment, offline does not', () => {
  const e = frozen(entry({ client_id: 'a', lease: 'tab-a', lease_until: NOW + LEASE_MS }));
  const timedOut = unanswered(e, new Error('timeout'), NOW);
  assert.equal(timedOut.retry_at, NOW + TIMEOUT_RETRY_MS);
  assert.equal(timedOut.lease, null);
  assert.equal(timedOut.state, 'pending');
  const offline = unanswered(e, new Error('offline'), NOW);
  assert.equal(offline.retry_at, 0);
  assert.equal(offline.lease, null);
  assert.equal(unanswered(e, undefined, NOW).retry_at, 0);
});

test('retried: a failed entry is pending again, at once', () => {
  const failed = frozen(answered(entry({ client_id: 'a', retry_at: NOW + 5 }), { error: 'oops', message: 'no' }, NOW));
  const again = retried(failed);
  assert.equal(again.state, 'pending');
  assert.equal(again.error, null);
  assert.equal(again.retry_at, 0);
  assert.equal(again.client_id, 'a');
  assert.equal(failed.state, 'failed');
  assert.equal(nextToSend([again], 'tab-a', NOW).wait, 0);
});

test('releasedLeases: only our own leases, released', () => {
  const list = [
    entry({ client_id: 'mine', lease: 'tab-a', lease_until: NOW + 1 }),
    entry({ client_id: 'theirs', lease: 'tab-b', lease_until: NOW + 1 }),
    entry({ client_id: 'free' }),
  ];
  const released = releasedLeases(list, 'tab-a');
  assert.deepEqual(released.map((e) => [e.client_id, e.lease]), [['mine', null]]);
  assert.equal(list[0].lease, 'tab-a');
  assert.deepEqual(releasedLeases(list, 'tab-c'), []);
});

test('seen: an entry whose post arrived unacknowledged is still sent, with its client_id', () => {
  const e = frozen(entry({ client_id: 'c-seen' }));
  const s = seen(e);
  assert.equal(s.seen, true);
  assert.equal(e.seen, undefined);
  assert.equal(nextToSend([s], 'tab-a', NOW).entry.client_id, 'c-seen');
  const waiting = answered(s, { ok: false, error: 'unavailable' }, NOW);
  assert.equal(waiting.seen, true);
  assert.equal(waiting.client_id, 'c-seen');
});
