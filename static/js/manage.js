/*
 * The moderation panel (/w/<wall>/manage): the entry module of
 * templates/manage.html. It wires the parts together:
 *
 *   manage-rules.js    the key, the lists' rules, words (pure, tested)
 *   manage-api.js      the organiser's HTTP API, with the key
 *   mod-list.js        the queue (Approve, Reject) and the hidden list (Restore)
 *   manage-feed.js     the published posts (feed.js + sync.js) and their buttons
 *   manage-settings.js the settings form; manage-admin.js bans, keys, audit, export
 *
 * The key comes from the organiser link's fragment (#key=...), is kept in
 * sessionStorage for this wall and taken out of the address bar, or is
 * pasted into a form. The panel joins the wall with it over the shared
 * connection (connection.js), so it receives `post pending` and every
 * change of a post's status live; after every (re)join it fetches the
 * queue, the hidden posts and the bans again, as those are not on the
 * stream a re-join replays.
 */

import { connect } from './connection.js';
import { Status } from './status.js';
import { Feed } from './feed.js';
import { WallSync } from './sync.js';
import { Announcer } from './announcer.js';
import { Api } from './manage-api.js';
import { ModList } from './mod-list.js';
import { ManageFeed } from './manage-feed.js';
import { SettingsForm } from './manage-settings.js';
import { Bans, Keys, Audit, exportLinks } from './manage-admin.js';
import {
  keyFromFragment, keyFromPasted, withoutFragment, keyStorageName, listOf, queueKey, errorText,
} from './manage-rules.js';

function $(id) {
  return document.getElementById(id);
}

function stored(wall) {
  try {
    return self.sessionStorage.getItem(keyStorageName(wall));
  } catch (e) {
    return null;
  }
}

function store(wall, key) {
  try {
    if (key) {
      self.sessionStorage.setItem(keyStorageName(wall), key);
    } else {
      self.sessionStorage.removeItem(keyStorageName(wall));
    }
  } catch (e) { /* storage disabled: the key lives as long as the page */ }
}

// The key from the link (then out of the address bar), or the one kept.
function takeKey(wall) {
  const fromLink = keyFromFragment(self.location.hash);
  if (fromLink) {
    store(wall, fromLink);
    history.replaceState(history.state, '', withoutFragment(self.location.href));
    return fromLink;
  }
  return stored(wall);
}

function askForKey(wall, message) {
  $('panel').hidden = true;
  $('key-section').hidden = false;
  $('forget-key').hidden = true;
  $('key-error').textContent = message || '';
  const form = $('key-form');
  form.onsubmit = function (event) {
    event.preventDefault();
    const key = keyFromPasted($('key-input').value);
    if (!key) {
      $('key-error').textContent = 'Paste the organiser link or the key (it starts with wk_).';
      $('key-input').focus();
      return;
    }
    $('key-input').value = '';
    check(wall, key);
  };
  $('key-input').focus();
}

// Is it a key of this wall? Then open the panel; if not, ask again.
function check(wall, key) {
  const api = new Api(wall, key);
  api.get('/settings').then(function () {
    return api.get('/queue');
  }).then(function () {
    store(wall, key);
    $('key-section').hidden = true;
    openPanel(wall, api);
  }, function (err) {
    if (err.status === 401 || err.status === 403) store(wall, null);
    askForKey(wall, errorText(err));
  });
}

let opened = false;

function openPanel(wall, api) {
  if (opened) return;
  opened = true;
  const root = $('manage');
  const params = new URLSearchParams(self.location.search);
  $('panel').hidden = false;
  $('forget-key').hidden = false;
  $('forget-key').addEventListener('click', function () {
    store(wall, null);
    self.location.reload();
  });
  const say = function (text) {
    $('panel-message').textContent = text;
  };

  const conn = connect({
    namespace: root.dataset.namespace || '/wall',
    transport: params.get('transport') === 'polling' ? 'polling' : 'websocket',
    shared: params.get('shared') !== '0',
  });
  root.dataset.connection = conn.mode;
  const status = new Status({
    online: $('online'), status: $('status'), text: $('status-text'),
    detail: $('status-detail'), retry: $('retry'),
  }, function () {
    conn.retry();
  });
  conn.on('state', function (state) {
    root.dataset.connection = conn.mode;
    status.show(state);
  });

  // Live changes seen while a list is being fetched win over the fetch.
  let touched = null;
  const done = {
    approve: 'Approved: it is on the wall.',
    reject: 'Rejected: it is in the hidden list, where it can be restored.',
    restore: 'Restored: it is on the wall again.',
  };
  const moderate = function (verb, post) {
    return api.moderate(post.id, verb === 'reject' ? 'hide' : verb).then(function (reply) {
      place(reply.post);
      say(done[verb]);
    }, function (err) {
      throw new Error(errorText(err));
    });
  };
  const queue = new ModList({
    name: 'queue', list: $('queue'), empty: $('queue-empty'), count: $('queue-count'),
    actions: [{ action: 'approve', label: 'Approve', key: 'a' },
      { action: 'reject', label: 'Reject', key: 'r', secondary: true }],
    keyAction: queueKey,
    onAction: function (action, post) {
      return moderate(action, post);
    },
  });
  const hidden = new ModList({
    name: 'hidden', list: $('hidden'), empty: $('hidden-empty'), count: $('hidden-count'),
    actions: [{ action: 'restore', label: 'Restore' }],
    onAction: function (action, post) {
      return moderate(action, post);
    },
  });
  // A post as it is now: listed where its status says.
  const place = function (post) {
    if (!post || !post.id) return;
    if (touched !== null) touched.set(post.id, post);
    const where = listOf(post);
    if (where === 'queue') queue.put(post); else queue.drop(post.id);
    if (where === 'hidden') hidden.put(post); else hidden.drop(post.id);
  };

  const bans = new Bans({
    list: $('bans'), empty: $('bans-empty'), count: $('bans-count'), result: $('bans-result'),
  }, api);
  const settings = new SettingsForm({
    form: $('settings-form'), blocklist: $('blocklist'), action: $('blocklist-action'),
    slow: $('slow-mode'), title: $('settings-title-input'), description: $('settings-description'),
    save: $('settings-save'), result: $('settings-result'),
  }, api, showTitle);

  let tools = null;
  const feed = new Feed({
    list: $('feed'),
    empty: $('empty'),
    onAction: function () {},
    decorate: function (post) {
      return tools.decorate(post);
    },
    onPostAction: function (action, id, button) {
      tools.act(action, id, button);
    },
  });
  tools = new ManageFeed({
    api: api, feed: feed, say: say,
    onHidden: place,
    onBanned: function () {
      bans.load();
    },
  });

  const refresh = function () {
    const seen = new Map();
    touched = seen;
    return Promise.all([api.get('/queue'), api.get('/hidden')]).then(function (lists) {
      queue.replace(lists[0].posts || [], seen);
      hidden.replace(lists[1].posts || [], seen);
    }, function (err) {
      say('Could not load the queue: ' + errorText(err));
    }).then(function () {
      if (touched === seen) touched = null;
    });
  };

  new WallSync({
    wall: wall,
    conn: conn,
    feed: feed,
    key: api.key,
    // The panel posts nothing: an outbox that holds nothing.
    outbox: { has: () => false, settle: () => false, setLive: () => {} },
    announcer: new Announcer($('announcer')),
    onOnline: function (count) {
      status.setOnline(count);
    },
    older: $('older'),
    olderError: $('older-error'),
    onSettings: function (next) {
      showTitle(next);
      settings.update(next);
    },
    onJoined: function () {
      refresh();
      bans.load();
    },
    onRefused: function (ack) {
      say('The live connection refused the key: ' + (ack.message || ack.error)
        + '. Reload the panel with a valid organiser link.');
    },
    onOther: function (event, data) {
      if (event === 'post pending' || event === 'post updated') {
        place(data.post);
      } else if (event === 'post deleted') {
        queue.drop(data.id);
        hidden.drop(data.id);
      }
    },
  });

  settings.load();
  new Keys({
    form: $('key-add-form'), label: $('key-label'), list: $('keys'), created: $('key-created'),
    createdKey: $('key-created-value'), copy: $('key-copy'), copyStatus: $('key-copy-status'),
    result: $('keys-result'),
  }, api).load();
  new Audit({ list: $('audit'), refresh: $('audit-refresh'), result: $('audit-result') }, api).load();
  exportLinks(Array.from(document.querySelectorAll('.export-link')), api, $('export-result'));
  status.show(conn.state);
}

function showTitle(settings) {
  const title = $('wall-title');
  title.textContent = settings.title || '';
  title.hidden = !settings.title;
}

function start(root) {
  const wall = root.dataset.wall;
  const key = takeKey(wall);
  if (key) {
    check(wall, key);
  } else {
    askForKey(wall, '');
  }
}

const root = document.getElementById('manage');
if (root) start(root);
