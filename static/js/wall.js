/*
 * The wall page: wires the parts together.
 *
 *   connection.js    one connection per browser (SharedWorker) or per tab
 *   sync.js          the feed complete after every reconnect
 *   feed.js          posts on screen; announcer.js tells screen readers
 *   outbox.js        posts not yet acknowledged, kept across reloads
 *   composer.js      the post form; status.js the header; switcher.js walls
 *   mine.js          one's own posts: author keys (own-posts.js: Delete) and
 *                    posts waiting for approval, kept across reloads
 *   likes.js         the like button; popular.js the Newest | Popular tabs
 *   share.js         the Share dialog; unlock.js a private wall's passcode
 *
 * Configuration comes only from data- attributes on #wall (no inline script,
 * so a Content-Security-Policy of default-src 'self' holds). Query
 * parameters: ?transport=polling forces long-polling, ?shared=0 keeps this
 * tab's connection to itself.
 *
 * This is the page's one entry module (templates/wall.html); everything
 * else comes in through the imports below, which resolve under this file's
 * versioned URL. Nothing is put on the global object.
 */

import { connect } from './connection.js';
import { newClientId, refusal } from './post-text.js';
import { Status } from './status.js';
import { Feed } from './feed.js';
import { Composer } from './composer.js';
import { Outbox } from './outbox.js';
import { WallSync } from './sync.js';
import { Announcer } from './announcer.js';
import { Switcher } from './switcher.js';
import { MyPosts } from './mine.js';
import { OwnPosts } from './own-posts.js';
import { Likes } from './likes.js';
import { PopularTab } from './popular.js';
import { comparePopular } from './feed-order.js';
import { Share } from './share.js';
import { Unlock } from './unlock.js';

function $(id) {
  return document.getElementById(id);
}

function limit(value, fallback) {
  const n = parseInt(value, 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function start(root) {
  const config = root.dataset;
  const params = new URLSearchParams(self.location.search);
  const wall = config.wall;
  // Identifies this page load in outbox leases.
  const tabId = newClientId();

  const conn = connect({
    namespace: config.namespace || '/wall',
    transport: params.get('transport') === 'polling' ? 'polling' : 'websocket',
    shared: params.get('shared') !== '0',
  });
  // 'shared' or 'own'; it can change if the worker fails and the tab
  // falls back to a connection of its own.
  root.dataset.connection = conn.mode;

  const status = new Status({
    online: $('online'),
    status: $('status'),
    text: $('status-text'),
    detail: $('status-detail'),
    retry: $('retry'),
  }, function () {
    conn.retry();
  });
  conn.on('state', function (state) {
    root.dataset.connection = conn.mode;
    status.show(state);
  });

  const mine = new MyPosts(wall, function (id) {
    feed.refresh(id); // Delete is no longer offered
  });
  let own = null;
  const likes = new Likes({
    wall: wall,
    conn: conn,
    onCount: function (id, count) {
      feed.setLikes(id, count);
      popular.feed.setLikes(id, count);
    },
    onStored: function () {
      refreshLikeButtons(feed, likes);
      refreshLikeButtons(popular.feed, likes);
    },
  });
  // A post's footer: its like button, then Delete on our own.
  const footer = function (post, withOwn) {
    const el = document.createElement('div');
    el.className = 'post-footer';
    const like = likes.button(post);
    if (like) el.append(like);
    const extra = withOwn ? own.decorate(post) : null;
    if (extra) el.append(extra);
    return el.firstChild ? el : null;
  };
  const onLike = function (id, fromFeed) {
    const post = fromFeed.data.get(id);
    if (post) likes.toggle(id, post.likes);
  };
  const updateLikes = function (li, post) {
    likes.update(li.querySelector('.like-button'), post);
  };
  const feed = new Feed({
    list: $('feed'),
    empty: $('empty'),
    decorate: function (post) {
      return footer(post, true);
    },
    onLikes: updateLikes,
    onPostAction: function (action, id, button) {
      if (action === 'like') {
        onLike(id, feed);
      } else {
        own.act(action, id, button);
      }
    },
    onAction: function (action, clientId) {
      const entry = outbox.get(clientId);
      if (!entry) return;
      if (action === 'edit') {
        composer.edit(entry.username, entry.message);
        outbox.discard(clientId);
      } else if (action === 'retry') {
        outbox.retry(clientId);
      } else if (action === 'discard') {
        outbox.discard(clientId);
      }
    },
  });

  own = new OwnPosts({
    wall: wall,
    mine: mine,
    feed: feed,
    remove: function (id) {
      sync.remove(id);
    },
  });
  let settings = {};

  const popularFeed = new Feed({
    list: $('popular'),
    empty: $('popular-empty'),
    compare: comparePopular,
    decorate: function (post) {
      return footer(post, false);
    },
    onLikes: updateLikes,
    onPostAction: function (action, id) {
      if (action === 'like') onLike(id, popularFeed);
    },
  });
  const popular = new PopularTab({
    tabs: [$('tab-newest'), $('tab-popular')],
    panels: [$('panel-newest'), $('panel-popular')],
    feed: popularFeed,
    url: '/api/walls/' + encodeURIComponent(wall) + '/posts',
    error: $('popular-error'),
  });

  new Share({
    open: $('share-open'),
    dialog: $('share'),
    url: $('share-url'),
    copy: $('share-copy'),
    status: $('share-status'),
    qr: $('share-qr'),
  }, wall);

  // A private wall: the prompt instead of the form and the posts until a
  // join succeeds; a new grant cookie needs a new session (unlock.js).
  let joinedOnce = false;
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

  const composer = new Composer({
    form: $('post-form'),
    username: $('username'),
    message: $('message'),
    counter: $('counter'),
    error: $('form-error'),
    closed: $('closed'),
    notice: $('form-notice'),
    submit: $('post-form').querySelector('[type="submit"]'),
  }, {
    message: limit(config.maxMessage, 1000),
    username: limit(config.maxUsername, 32),
  }, function (username, message) {
    outbox.add(username, message);
  });

  const outbox = new Outbox({
    wall: wall,
    conn: conn,
    tabId: tabId,
    onChange: function (entry) {
      // an entry whose post arrived shows as that post, unless it failed after all
      if (!entry.seen || entry.state === 'failed') feed.showPending(entry);
    },
    onRemove: function (clientId, elsewhere) {
      feed.removePending(clientId, elsewhere);
    },
    onSent: function (post, authorKey) {
      mine.remember(post, authorKey);
      // Its `new post` may have come before this ack, and shown it before
      // we had its author key: draw it again, now with Delete.
      if (!sync.accept(post, 'mine')) feed.refresh(post.id);
    },
    onWait: function (entry) {
      const slow = Number(settings.slow_mode_s) > 0;
      composer.showWait(slow ? 'Slow mode (one post every ' + settings.slow_mode_s + ' s):'
        : 'Too many posts at once:', entry.retry_at);
    },
    // Refused (e.g. invalid): say why next to the form, and give the text
    // back to edit when the box is free; otherwise it waits in the feed.
    onRejected: function (entry) {
      composer.showError(refusal(entry.code, entry.error));
      if (entry.code === 'closed') composer.setClosed(true);
      if (composer.isEmpty()) {
        composer.edit(entry.username, entry.message);
        outbox.discard(entry.client_id);
      }
    },
  });

  const sync = new WallSync({
    wall: wall,
    conn: conn,
    feed: feed,
    outbox: outbox,
    announcer: new Announcer($('announcer')),
    onOnline: function (count) {
      status.setOnline(count);
    },
    older: $('older'),
    olderError: $('older-error'),
    onSettings: function (next) {
      settings = next;
      showSettings(next, composer);
    },
    onAccepted: function (post) {
      mine.visible(post);
      popular.offer(post);
    },
    onRemoved: function (id) {
      mine.forget(id);
      popular.remove(id);
    },
    onRefused: function (ack) {
      if (ack.error !== 'forbidden') return;
      $('wall-body').hidden = true;
      unlock.show(joinedOnce);
    },
    onJoined: function () {
      joinedOnce = true;
      if (unlock.shown) {
        unlock.hide();
        $('wall-body').hidden = false;
        $('message').focus();
      }
      if (popular.shown) popular.refresh();
      if (checked) return;
      // After a reload: what became of our posts that were waiting?
      checked = true;
      mine.check(sync.postsUrl, function (post) {
        sync.accept(post, 'history');
      }, function (id) {
        sync.remove(id);
      });
    },
  });
  let checked = false;

  new Switcher({
    details: $('switcher'),
    form: $('switch-form'),
    name: $('switch-name'),
    error: $('switch-error'),
    list: $('wall-list'),
    status: $('wall-list-status'),
  }, wall);

  // Posts left unsent by an earlier visit (or another tab) show at once,
  // and so do ours that wait for an organiser's approval.
  outbox.list().forEach(function (entry) {
    feed.showPending(entry);
  });
  mine.held().forEach(function (post) {
    feed.merge(post);
  });
  status.show(conn.state);
}

// Our likes changed in another tab: every button says so.
function refreshLikeButtons(feed, likes) {
  feed.data.forEach(function (post, id) {
    const li = feed.posts.get(id);
    if (li) likes.update(li.querySelector('.like-button'), post);
  });
}

// The wall's title, description and rules, from its public settings.
function showSettings(settings, composer) {
  const title = $('wall-title');
  const description = $('wall-description');
  title.textContent = settings.title || '';
  title.hidden = !settings.title;
  description.textContent = settings.description || '';
  description.hidden = !settings.description;
  const rules = [];
  if (settings.moderation === 'approve') rules.push('Posts appear once an organiser approves them.');
  if (Number(settings.slow_mode_s) > 0) {
    rules.push('Slow mode: one post every ' + settings.slow_mode_s + ' s.');
  }
  $('wall-rules').textContent = rules.join(' ');
  composer.setClosed(settings.moderation === 'closed');
}

const root = document.getElementById('wall');
if (root) start(root);
