// The moderation panel's rules (static/js/manage-rules.js): the key, the
// lists, merging a fetched list with live changes, the keyboard, the forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as r from '../../static/js/manage-rules.js';

const p = (id, status, extra) => Object.assign({ id: id, status: status || 'pending' }, extra);

test('the key comes from the fragment, with or without other parameters', () => {
  assert.equal(r.keyFromFragment('#key=wk_abc-_DEF'), 'wk_abc-_DEF');
  assert.equal(r.keyFromFragment('key=wk_x'), 'wk_x');
  assert.equal(r.keyFromFragment('#a=1&key=wk_y&b=2'), 'wk_y');
  assert.equal(r.keyFromFragment('#key='), null);
  assert.equal(r.keyFromFragment('#section'), null);
  assert.equal(r.keyFromFragment(''), null);
  assert.equal(r.keyFromFragment(undefined), null);
});

test('a pasted link or key gives the key; anything else nothing', () => {
  assert.equal(r.keyFromPasted('  https://wall.example/w/ev/manage#key=wk_abc  '), 'wk_abc');
  assert.equal(r.keyFromPasted('wk_abc'), 'wk_abc');
  assert.equal(r.keyFromPasted('operator-token'), 'operator-token');
  assert.equal(r.keyFromPasted('two words'), null);
  assert.equal(r.keyFromPasted('   '), null);
  assert.equal(r.keyFromPasted('https://wall.example/w/ev/manage#nothing'), null);
});

test('the address bar loses the fragment, nothing else', () => {
  assert.equal(r.withoutFragment('http://h/w/ev/manage?transport=polling#key=wk_a'),
    'http://h/w/ev/manage?transport=polling');
  assert.equal(r.withoutFragment('http://h/w/ev/manage'), 'http://h/w/ev/manage');
  assert.equal(r.keyStorageName('ev'), 'wall.manage.key.ev');
});

test('a post is listed where its status says', () => {
  assert.equal(r.listOf(p('1-0', 'pending')), 'queue');
  assert.equal(r.listOf(p('1-0', 'hidden')), 'hidden');
  assert.equal(r.listOf(p('1-0', 'visible')), 'feed');
});

test('the queue is oldest first by id, as numbers', () => {
  const order = r.queueOrder([p('10-0'), p('9-0'), p('9-1')]).map((x) => x.id);
  assert.deepEqual(order, ['9-0', '9-1', '10-0']);
  assert.deepEqual(r.upsert('queue', [p('1-0'), p('3-0')], p('2-0')).map((x) => x.id), ['1-0', '2-0', '3-0']);
  // replaced, not doubled
  const replaced = r.upsert('queue', [p('1-0'), p('2-0')], p('2-0', 'pending', { message: 'new' }));
  assert.deepEqual(replaced.map((x) => [x.id, x.message]), [['1-0', undefined], ['2-0', 'new']]);
  // the hidden list: the latest change first
  assert.deepEqual(r.upsert('hidden', [p('5-0', 'hidden'), p('1-0', 'hidden')], p('3-0', 'hidden'))
    .map((x) => x.id), ['3-0', '5-0', '1-0']);
});

test('a fetched list yields to what arrived live while it was fetched', () => {
  const snapshot = [p('1-0'), p('2-0'), p('3-0')];
  const touched = new Map([
    ['2-0', p('2-0', 'visible')], // approved meanwhile: not in the queue any more
    ['4-0', p('4-0')], // arrived meanwhile
    ['3-0', p('3-0', 'hidden')], // rejected meanwhile
  ]);
  assert.deepEqual(r.reconcile('queue', snapshot, touched).map((x) => x.id), ['1-0', '4-0']);
  const hidden = r.reconcile('hidden', [p('0-5', 'hidden')], touched);
  assert.deepEqual(hidden.map((x) => x.id), ['3-0', '0-5']);
  assert.deepEqual(r.reconcile('queue', snapshot, new Map()).map((x) => x.id), ['1-0', '2-0', '3-0']);
  // bad entries of a snapshot are left out
  assert.deepEqual(r.reconcile('queue', [null, { id: 'x' }, p('1-0')], new Map()).map((x) => x.id), ['1-0']);
});

test('keys on a queue item: a approves, r rejects, with no modifier', () => {
  assert.equal(r.queueKey({ key: 'a' }), 'approve');
  assert.equal(r.queueKey({ key: 'A' }), 'approve');
  assert.equal(r.queueKey({ key: 'r' }), 'reject');
  assert.equal(r.queueKey({ key: 'r', ctrlKey: true }), null);
  assert.equal(r.queueKey({ key: 'a', metaKey: true }), null);
  assert.equal(r.queueKey({ key: 'x' }), null);
});

test('roving focus: arrows, Home and End stay inside the list', () => {
  assert.equal(r.moveFocus('ArrowDown', 0, 3), 1);
  assert.equal(r.moveFocus('ArrowDown', 2, 3), 2);
  assert.equal(r.moveFocus('ArrowUp', 0, 3), 0);
  assert.equal(r.moveFocus('Home', 2, 3), 0);
  assert.equal(r.moveFocus('End', 0, 3), 2);
  assert.equal(r.moveFocus('Tab', 0, 3), null);
  assert.equal(r.moveFocus('ArrowDown', 0, 0), null);
  // after an item leaves: the one that took its place, else the new last
  assert.equal(r.focusAfterRemoval(1, 3), 1);
  assert.equal(r.focusAfterRemoval(3, 3), 2);
  assert.equal(r.focusAfterRemoval(0, 0), null);
});

test('the word filter: one entry a line, trimmed, blank lines and repeats dropped', () => {
  assert.deepEqual(r.blocklistFrom(' spam \n\nbuy now\r\nspam\n'), ['spam', 'buy now']);
  assert.equal(r.blocklistText(['spam', 'buy now']), 'spam\nbuy now');
  assert.equal(r.blocklistText(undefined), '');
});

test('a settings form sends only what changed', () => {
  const current = { moderation: 'open', blocklist: ['a'], blocklist_action: 'hold', slow_mode_s: 0,
    title: 'T', description: '' };
  const same = { moderation: 'open', blocklist: ['a'], blocklist_action: 'hold', slow_mode_s: 0,
    title: 'T', description: '' };
  assert.deepEqual(r.settingsChanges(current, same), {});
  assert.deepEqual(r.settingsChanges(current, Object.assign({}, same, { slow_mode_s: 30, blocklist: ['a', 'b'] })),
    { slow_mode_s: 30, blocklist: ['a', 'b'] });
  assert.deepEqual(r.settingsChanges(current, Object.assign({}, same, { title: '' })), { title: '' });
});

test('audit entries in words', () => {
  assert.equal(r.auditLine({ action: 'pin', by: { kind: 'organizer', label: 'Bea' }, post: '5-0' }),
    'organiser Bea: pin (post 5-0)');
  assert.equal(r.auditLine({ action: 'hide', by: { kind: 'operator' }, post: '5-0' }), 'operator: hide (post 5-0)');
  assert.equal(r.auditLine({ action: 'settings', by: { kind: 'organizer', label: 'creator' },
    changes: ['slow_mode_s', 'title'] }), 'organiser creator: settings (slow_mode_s, title)');
  assert.equal(r.auditLine({ action: 'ban', by: { kind: 'organizer' }, post: '1-0', scope: 'address' }),
    'organiser: ban (post 1-0; by address)');
});

test('errors for a person', () => {
  assert.match(r.errorText({ status: 0 }), /Could not reach/);
  assert.match(r.errorText({ status: 403, error: 'forbidden', message: 'The key is wrong.' }), /not \(or no longer\)/);
  assert.equal(r.errorText({ status: 429, error: 'rate_limited', retry_after: 7 }), 'Too many requests: try again in 7 s.');
  assert.equal(r.errorText({ status: 400, error: 'invalid', message: 'slow_mode_s is 0 to 3600.' }),
    'slow_mode_s is 0 to 3600.');
  assert.match(r.createError(409, { error: 'exists' }, 'ev'), /#ev already has an organiser/);
  assert.equal(r.createError(429, { retry_after: 12 }, 'ev'), 'Too many new walls from here for now. Try again in 12 s.');
  assert.equal(r.createError(403, { message: 'Claiming the default wall needs the operator.' }, 'main'),
    'Claiming the default wall needs the operator.');
  assert.equal(r.createError(400, { message: 'wall must be…' }, 'x'), 'wall must be…');
});
