// One's own posts (static/js/mine-entries.js): the author key's window,
// held posts, and what a catch-up page says of them; the feed's order
// (feed-order.js) and the refusal words (post-text.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as m from '../../static/js/mine-entries.js';
import { compareFeed, slotFor, updateAction } from '../../static/js/feed-order.js';
import { justBefore } from '../../static/js/post-ids.js';
import { refusal } from '../../static/js/post-text.js';

const NOW = 1764100000000;
const visible = { id: '1764100000000-0', status: 'visible', client_id: 'c1' };
const pending = { id: '1764100000001-0', status: 'pending', client_id: 'c2', username: 'a', message: 'm' };

test('storage keys name the wall and the post', () => {
  assert.equal(m.storageKey('ev', '5-0'), 'wall.mine.ev.5-0');
  assert.deepEqual(m.parseKey('wall.mine.ev.5-0'), { wall: 'ev', id: '5-0' });
  assert.equal(m.parseKey('wall.outbox.x'), null);
  assert.equal(m.parseKey('wall.mine.ev.nope'), null);
  assert.equal(m.parseKey('wall.mine..5-0'), null);
  assert.equal(m.parseEntry('{"wall":"ev","id":"5-0"}').id, '5-0');
  assert.equal(m.parseEntry('not json'), null);
  assert.equal(m.parseEntry('{"wall":"ev","id":"x"}'), null);
});

test('Delete is offered for 15 minutes from the ack, less a margin, and not after', () => {
  const entry = m.entryFor('ev', visible, 'ak', NOW);
  assert.equal(entry.until, NOW + 15 * 60 * 1000 - 30 * 1000);
  assert.equal(m.canDelete(entry, NOW), true);
  assert.equal(m.canDelete(entry, entry.until - 1), true);
  assert.equal(m.canDelete(entry, entry.until), false);
  assert.equal(m.deleteEndsIn(entry, NOW + 1000), entry.until - NOW - 1000);
  assert.equal(m.deleteEndsIn(entry, entry.until + 5), 0);
  // no key, no Delete (the ack had none)
  assert.equal(m.canDelete(m.entryFor('ev', visible, undefined, NOW), NOW), false);
  assert.equal(m.canDelete(null, NOW), false);
});

test('a visible post is kept while it may be deleted; a held one until it is settled', () => {
  const shown = m.entryFor('ev', visible, 'ak', NOW);
  assert.equal(shown.status, 'visible');
  assert.equal(shown.post, undefined);
  assert.equal(m.shouldKeep(shown, NOW + 60000), true);
  assert.equal(m.shouldKeep(shown, shown.until), false);
  const held = m.entryFor('ev', pending, 'ak', NOW);
  assert.equal(held.status, 'pending');
  assert.deepEqual(held.post, pending);
  // past the author's window, still waiting: kept (for a week)
  assert.equal(m.shouldKeep(held, NOW + 3600 * 1000), true);
  assert.equal(m.shouldKeep(held, NOW + m.HELD_KEEP_MS), false);
  const approved = m.shown(held);
  assert.equal(approved.status, 'visible');
  assert.equal(approved.post, undefined);
  assert.equal(held.status, 'pending', 'the argument is left alone');
});

test('held posts: oldest first; checked from just before the oldest', () => {
  const entries = [
    m.entryFor('ev', { id: '20-0', status: 'pending' }, 'k', NOW),
    m.entryFor('ev', { id: '9-3', status: 'pending' }, 'k', NOW),
    m.entryFor('ev', { id: '5-0', status: 'visible' }, 'k', NOW),
    m.entryFor('other', { id: '1-0', status: 'pending' }, 'k', NOW),
  ];
  const held = m.heldOf(entries, 'ev');
  assert.deepEqual(held.map((e) => e.id), ['9-3', '20-0']);
  assert.equal(m.checkFrom(held), '9-2');
  assert.equal(m.checkFrom([]), null);
  const page = { posts: [{ id: '20-0', status: 'visible' }, { id: '21-0', status: 'visible' }], deleted: ['9-3', '3-0'] };
  const found = m.resolveHeld(held, page);
  assert.deepEqual(found.visible.map((p) => p.id), ['20-0']);
  assert.deepEqual(found.gone, ['9-3']);
  assert.deepEqual(m.resolveHeld(held, null), { visible: [], gone: [] });
});

test('the id just before one, as numbers', () => {
  assert.equal(justBefore('10-1'), '10-0');
  assert.equal(justBefore('10-0'), '9-18446744073709551615');
  assert.equal(justBefore('0-0'), null);
  assert.equal(justBefore('nope'), null);
});

test('the feed: pinned first, then newest first', () => {
  const posts = [
    { id: '9-0', pinned: false },
    { id: '10-0', pinned: false },
    { id: '2-0', pinned: true },
    { id: '3-0', pinned: '1' }, // as an <li>'s dataset has it
  ];
  assert.deepEqual(posts.slice().sort(compareFeed).map((p) => p.id), ['3-0', '2-0', '10-0', '9-0']);
  const shown = posts.slice().sort(compareFeed);
  assert.equal(slotFor(shown, { id: '11-0' }), 2);
  assert.equal(slotFor(shown, { id: '1-0', pinned: true }), 2);
  assert.equal(slotFor(shown, { id: '1-0' }), 4);
  assert.equal(slotFor(shown, { id: '10-0' }), 2, 'the post itself is skipped');
  assert.equal(updateAction({ status: 'visible' }), 'show');
  assert.equal(updateAction({ status: 'hidden' }), 'remove');
  assert.equal(updateAction({ status: 'pending' }), 'remove');
});

test('refusals in words', () => {
  assert.equal(refusal('banned', 'You cannot post on this wall.'), 'Not posted: you are banned from posting on this wall.');
  assert.equal(refusal('closed'), 'Not posted: this wall is closed: it takes no posts.');
  assert.match(refusal('rejected'), /word this wall does not allow/);
  assert.equal(refusal('invalid', 'message is too long.'), 'Not posted: message is too long.');
});

test('MyPosts: the Delete button goes when the window ends; a held post stays', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
  const { MyPosts } = await import('../../static/js/mine.js');
  const expired = [];
  const mine = new MyPosts('ev', (id) => expired.push(id)); // no localStorage in Node: memory
  mine.remember(visible, 'ak');
  mine.remember(pending, 'ak2');
  assert.equal(mine.canDelete(visible.id), true);
  assert.equal(mine.authorKey(visible.id), 'ak');
  assert.deepEqual(mine.held().map((p) => p.id), [pending.id]);
  t.mock.timers.tick(15 * 60 * 1000 - 31 * 1000);
  assert.deepEqual(expired, []);
  assert.equal(mine.canDelete(visible.id), true);
  t.mock.timers.tick(2000);
  assert.deepEqual(expired.sort(), [visible.id, pending.id].sort());
  assert.equal(mine.canDelete(visible.id), false);
  assert.equal(mine.get(visible.id), null, 'a visible post past its window is forgotten');
  assert.equal(mine.canDelete(pending.id), false);
  assert.deepEqual(mine.held().map((p) => p.id), [pending.id], 'still waiting for approval');
  mine.visible(Object.assign({}, pending, { status: 'visible' }));
  assert.deepEqual(mine.held(), []);
  assert.equal(mine.get(pending.id), null);
});
