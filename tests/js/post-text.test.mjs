// Text rules shared with the server (static/js/post-text.js, docs/protocol.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { normalize, length, wallName, newClientId } from '../../static/js/post-text.js';

test('normalize trims surrounding white space, keeps inner lines', () => {
  assert.equal(normalize('  hello  '), 'hello');
  assert.equal(normalize('\n\tone\ntwo\n '), 'one\ntwo');
  assert.equal(normalize('a  b'), 'a  b');
});

test('normalize composes to NFC', () => {
  const decomposed = 'e\u0301'; // e + combining acute
  assert.equal(decomposed.length, 2);
  assert.equal(normalize(decomposed), '\u00e9');
  assert.equal(normalize('A\u030Angstr\u00f6m'), '\u00c5ngstr\u00f6m');
});

test('normalize turns null and undefined into the empty string, others into strings', () => {
  assert.equal(normalize(null), '');
  assert.equal(normalize(undefined), '');
  assert.equal(normalize(42), '42');
  assert.equal(normalize(' \u00a0 '), ''); // no-break space is white space too
});

test('length counts code points, not UTF-16 units', () => {
  assert.equal(length(''), 0);
  assert.equal(length('hello'), 5);
  assert.equal(length('\u{1F600}'), 1); // one emoji, two UTF-16 units
  assert.equal('\u{1F600}'.length, 2);
  assert.equal(length('a\u{1F600}b'), 3);
  assert.equal(length('\u05e9\u05dc\u05d5\u05dd'), 4);
});

test('length after normalize is what the server counts', () => {
  // [...s.normalize('NFC').trim()].length, as docs/protocol.md says
  const text = '  e\u0301t\u00e9 \u{1F389} ';
  assert.equal(length(normalize(text)), [...text.normalize('NFC').trim()].length);
  assert.equal(length(normalize(text)), 5); // é t é, a space, 🎉
});

test('length of a string at the 1000 limit, with astral characters', () => {
  assert.equal(length('\u{1F600}'.repeat(1000)), 1000);
});

test('wallName folds case and surrounding spaces', () => {
  assert.equal(wallName('News'), 'news');
  assert.equal(wallName('  my-wall-2  '), 'my-wall-2');
  assert.equal(wallName('x'.repeat(40)), 'x'.repeat(40));
});

test('wallName refuses what is not a wall name', () => {
  for (const bad of ['', '   ', 'x'.repeat(41), 'no_underscore', 'a b', 'caf\u00e9', '../etc', 'a/b', '#main']) {
    assert.equal(wallName(bad), null, JSON.stringify(bad));
  }
  assert.equal(wallName(null), null);
  assert.equal(wallName(undefined), null);
});

test('newClientId is a UUID where randomUUID exists, and fresh every time', () => {
  const ids = new Set();
  for (let i = 0; i < 100; i++) {
    const id = newClientId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 100);
});

test('newClientId falls back to 32 hex digits without randomUUID (insecure contexts)', (t) => {
  const real = globalThis.crypto;
  t.after(() => Object.defineProperty(globalThis, 'crypto', { value: real, configurable: true, writable: true }));
  Object.defineProperty(globalThis, 'crypto', {
    value: { getRandomValues: (bytes) => real.getRandomValues(bytes) },
    configurable: true,
    writable: true,
  });
  const a = newClientId();
  const b = newClientId();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, b);
});

test('a client id fits the protocol: 1 to 64 of A-Z a-z 0-9 . _ : -', () => {
  assert.match(newClientId(), /^[A-Za-z0-9._:-]{1,64}$/);
});
