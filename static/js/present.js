/*
 * The projector view (/w/<wall>/present): wires the parts together.
 *
 *   connection.js     the browser's one connection (SharedWorker) or the tab's
 *   sync.js           the posts complete after every reconnect, resync, truncation
 *   present-model.js  the posts held: bounded, the newest or the most liked
 *   present-view.js   as many as fit on screen, pinned ones spotlighted
 *   unlock.js         a private wall's passcode, asked once on this screen
 *
 * It runs for hours unattended: sync reconnects and catches up by itself,
 * the model and the DOM stay bounded, nothing ever reloads the page.
 *
 * Query parameters: ?theme=dark; ?sort=popular (the most liked first: the
 * list from GET .../posts?sort=popular after every join, then re-ordered
 * live from `post updated`, new posts placed by their count); as on the
 * wall page ?transport=polling and ?shared=0.
 */

import { connect } from './connection.js';
import { WallSync } from './sync.js';
import { PresentModel, MODEL_MAX } from './present-model.js';
import { PresentView } from './present-view.js';
import { Unlock } from './unlock.js';

const STATE_WORDS = { live: 'live', connecting: 'connecting…', offline: 'reconnecting…' };
const POPULAR_RETRY_MS = 5000;

function $(id) {
  return document.getElementById(id);
}

function start(root) {
  const params = new URLSearchParams(self.location.search);
  const wall = root.dataset.wall;
  const theme = params.get('theme') === 'dark' ? 'dark' : 'light';
  const sort = params.get('sort') === 'popular' ? 'popular' : 'newest';
  document.documentElement.dataset.theme = theme;
  root.dataset.sort = sort;
  $('present-sort').hidden = sort !== 'popular';

  const conn = connect({
    namespace: root.dataset.namespace || '/wall',
    transport: params.get('transport') === 'polling' ? 'polling' : 'websocket',
    shared: params.get('shared') !== '0',
  });

  const model = new PresentModel({
    sort: sort,
    onChange: function () {
      view.schedule();
    },
  });
  const view = new PresentView({
    root: root,
    spotlight: $('spotlight'),
    posts: $('present-posts'),
    empty: $('present-empty'),
  }, model);

  const status = $('present-status');
  conn.on('state', function (state) {
    root.dataset.state = state.state;
    status.dataset.state = state.state;
    status.textContent = STATE_WORDS[state.state] || state.state;
  });

  const unlock = new Unlock({
    form: $('unlock'),
    input: $('passcode'),
    hint: $('unlock-hint'),
    error: $('unlock-error'),
    submit: $('unlock-submit'),
  }, {
    wall: wall,
    onUnlocked: function () {
      conn.reconnect();
    },
  });
  let joinedOnce = false;

  const sync = new WallSync({
    wall: wall,
    conn: conn,
    feed: model,
    onOnline: function (count) {
      if (Number.isInteger(count) && count >= 0) $('present-online').textContent = String(count);
    },
    onSettings: showSettings,
    onRefused: function (ack) {
      if (ack.error !== 'forbidden') return;
      root.dataset.locked = '1';
      unlock.show(joinedOnce);
    },
    onJoined: function () {
      joinedOnce = true;
      if (unlock.shown) unlock.hide();
      delete root.dataset.locked;
      if (sort === 'popular') loadPopular(sync.generation);
    },
  });

  // The most liked posts as the server orders them, after every join (a
  // re-join's ack brings only what changed). Out of stream order, so they
  // never set where sync resumes; a newer version already held wins by rev.
  function loadPopular(generation) {
    const url = sync.postsUrl + '?sort=popular&limit=' + Math.min(MODEL_MAX, 200);
    fetch(url, { headers: { Accept: 'application/json' } }).then(function (resp) {
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      return resp.json();
    }).then(function (data) {
      if (generation !== sync.generation) return;
      (Array.isArray(data.posts) ? data.posts : []).forEach(function (post) {
        model.merge(post, { noResume: true });
      });
    }).catch(function () {
      setTimeout(function () {
        if (generation === sync.generation) loadPopular(generation);
      }, POPULAR_RETRY_MS);
    });
  }

  view.schedule();
}

// The wall's title and description, and whether it is private.
function showSettings(settings) {
  const title = $('present-title');
  const description = $('present-description');
  title.textContent = settings.title || '';
  title.hidden = !settings.title;
  description.textContent = settings.description || '';
  description.hidden = !settings.description;
  $('present-header').classList.toggle('has-title', Boolean(settings.title));
  $('join-private').hidden = settings.visibility !== 'private';
}

const root = document.getElementById('present');
if (root) start(root);
