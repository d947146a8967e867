// The projector's bounded model (static/js/present-model.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PresentModel, MODEL_MAX, compareNewest } from '../../static/js/present-model.js';

const post = (n, extra) => Object.assign(
  { id: (1764100000000 + n) + '-0', status: 'visible', pinned: false, likes: 0, rev: 1, message: 'm' + n },
  extra,
);

test('newest: bounded to the newest MODEL_MAX besides the pinned', () => {
  let changes = 0;
  const model = new PresentModel({ onChange: () => (changes += 1) });
  model.merge(post(0, { pinned: true }));
  for (let i = 1; i <= 3000; i++) model.merge(post(i), { arrived: true });
  assert.ok(model.data.size <= MODEL_MAX + 51, String(model.data.size));
  const view = model.view();
  assert.equal(view.pinned.length, 1); // never dropped
  assert.equal(view.posts[0].id, post(3000).id);
  assert.deepEqual(view.posts.map((p) => p.id), view.posts.map((p) => p.id).sort((a, b) => compareNewest({ id: a }, { id: b })));
  assert.ok(!model.data.has(post(1).id));
  assert.equal(model.newestId(), post(3000).id);
  assert.ok(changes >= 3001);
  // arrivals are bounded too: only those still held
  assert.ok(model.arrivals.size <= model.data.size);
});

test('popular: the most liked kept and first, a new post placed by its count', () => {
  const model = new PresentModel({ sort: 'popular', max: 3 });
  [post(1, { likes: 4 }), post(2, { likes: 1 }), post(3, { likes: 9 })].forEach((p) => model.merge(p));
  model.merge(post(4)); // new, nobody likes it yet
  assert.deepEqual(model.view().posts.map((p) => p.likes), [9, 4, 1, 0]);
  // its likes grow: it moves up
  model.merge(post(4, { likes: 5, rev: 3 }));
  assert.deepEqual(model.view().posts.map((p) => p.id), [post(3).id, post(4).id, post(1).id, post(2).id]);
  // an older version of it arriving late changes nothing
  model.merge(post(4, { likes: 2, rev: 2 }));
  assert.equal(model.data.get(post(4).id).likes, 5);
});

test('popular: trimming drops the least liked, which may come back', () => {
  const model = new PresentModel({ sort: 'popular', max: 2 });
  for (let i = 1; i <= 60; i++) model.merge(post(i, { likes: i % 7 }));
  model.trim();
  assert.deepEqual(model.view().posts.map((p) => p.likes), [6, 6]);
  assert.equal(model.merge(post(1, { likes: 50, rev: 9 })), true);
  assert.equal(model.view().posts[0].id, post(1).id);
});

test('newest ignores an unknown old post outside what is loaded; popular takes it', () => {
  const newest = new PresentModel();
  const popular = new PresentModel({ sort: 'popular' });
  assert.equal(newest.merge(post(1, { likes: 3 }), { outside: true }), false);
  assert.equal(newest.merge(post(2, { pinned: true }), { outside: true }), true);
  assert.equal(popular.merge(post(1, { likes: 3 }), { outside: true }), true);
});

test('deleted stays deleted, unless the server says it is back; pending never shows', () => {
  const model = new PresentModel();
  model.merge(post(1));
  model.remove(post(1).id);
  assert.equal(model.merge(post(1)), false);
  assert.equal(model.merge(post(1), { revive: true }), true);
  model.merge(post(2, { status: 'hidden' }));
  assert.ok(model.deleted.has(post(2).id));
  assert.equal(model.merge(post(3, { status: 'pending' })), false);
  // the deleted ids remembered are bounded
  for (let i = 10; i < 3000; i++) model.remove(post(i).id);
  assert.ok(model.deleted.size <= 1000);
});

test('resume position: the newest ever merged, never one fetched out of order', () => {
  const model = new PresentModel({ sort: 'popular' });
  model.merge(post(5));
  model.merge(post(9), { noResume: true });
  assert.equal(model.newestId(), post(5).id);
  model.merge(post(7));
  assert.equal(model.newestId(), post(7).id);
  model.remove(post(7).id);
  assert.equal(model.newestId(), post(7).id); // all up to it is held still
  model.reset();
  assert.equal(model.newestId(), null);
  assert.equal(model.data.size, 0);
});

test('arrivals: taken once each; cleared after a render', () => {
  const model = new PresentModel();
  model.merge(post(1));
  model.merge(post(2), { arrived: true });
  assert.equal(model.takeArrival(post(1).id), false);
  assert.equal(model.takeArrival(post(2).id), true);
  assert.equal(model.takeArrival(post(2).id), false);
  model.merge(post(3), { arrived: true });
  model.clearArrivals();
  assert.equal(model.takeArrival(post(3).id), false);
});
