/*
 * The published posts in the moderation panel: the wall's feed (feed.js,
 * kept complete by sync.js) with an organiser's buttons on every post:
 * Hide (restorable), Pin or Unpin, Delete (for good, asked once more) and
 * Ban author: by this browser by default, or, as a separate choice, the
 * whole address, which warns first that it bans everyone behind it.
 */

import { errorText } from './manage-rules.js';

// The server's own words (its answer to an address ban carries them too).
export const ADDRESS_WARNING =
  'This bans everyone behind that address: on conference Wi-Fi, a whole hall.';

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function button(label, action, className) {
  const b = element('button', className || 'link-button', label);
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

let banNo = 0;

export class ManageFeed {
  /**
   * @param {object} options  api (manage-api.js), feed (feed.js),
   *   onHidden(post), onBanned(reply), say(text): the panel's status line
   */
  constructor(options) {
    Object.assign(this, options);
  }

  /** The organiser's buttons on a post (Feed's `decorate`). */
  decorate(post) {
    const actions = element('div', 'post-actions mod-post-actions');
    actions.append(
      button('Hide', 'hide'),
      button(post.pinned ? 'Unpin' : 'Pin', post.pinned ? 'unpin' : 'pin'),
      button('Delete', 'delete'),
      button('Ban author…', 'ban'),
    );
    return actions;
  }

  /** A click on one of them (Feed's `onPostAction`). */
  act(action, id, target) {
    const li = this.feed.posts.get(id);
    if (!li) return;
    const actions = target.closest('.post-actions');
    if (action === 'hide' || action === 'pin' || action === 'unpin') {
      this.run(id, this.api.moderate(id, action).then((reply) => {
        if (action === 'hide') {
          this.feed.remove(id);
          this.onHidden(reply.post);
          this.say('Hidden: it is in the hidden list, where it can be restored.');
        } else {
          this.feed.merge(reply.post, { revive: true });
          this.say(action === 'pin' ? 'Pinned: it shows first on every page.' : 'Unpinned.');
        }
      }));
    } else if (action === 'delete') {
      const yes = button('Delete for good', 'delete-confirm', 'link-button danger');
      actions.replaceChildren(element('span', 'confirm-text', 'Delete this post for everyone?'), ' ',
        yes, ' ', button('Cancel', 'cancel'));
      yes.focus();
    } else if (action === 'delete-confirm') {
      this.run(id, this.api.call('DELETE', '/posts/' + encodeURIComponent(id)).then(() => {
        this.feed.remove(id);
        this.say('Deleted.');
      }));
    } else if (action === 'ban') {
      actions.replaceChildren(this.banForm());
      actions.querySelector('input').focus();
    } else if (action === 'ban-confirm') {
      const scope = actions.querySelector('input[value="address"]').checked ? 'address' : null;
      const body = scope ? { post_id: id, scope: scope } : { post_id: id };
      this.run(id, this.api.post('/bans', body).then((reply) => {
        this.onBanned(reply);
        this.say((scope ? 'The whole address is banned. ' + (reply.warning || ADDRESS_WARNING)
          : 'This author’s browser is banned from posting here.') + ' Lift it in the banned list.');
        this.feed.refresh(id);
      }));
    } else if (action === 'cancel') {
      this.feed.refresh(id);
      const first = this.feed.posts.get(id).querySelector('button[data-action]');
      if (first) first.focus();
    }
  }

  banForm() {
    banNo += 1;
    const name = 'ban-scope-' + banNo;
    const box = element('fieldset', 'ban-form');
    box.append(element('legend', null, 'Ban the author from posting here'));
    const option = (value, label, checked) => {
      const wrap = element('label', 'ban-option');
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = name;
      input.value = value;
      input.checked = checked;
      wrap.append(input, ' ', label);
      return wrap;
    };
    const warning = element('p', 'warning ban-warning', ADDRESS_WARNING);
    warning.hidden = true;
    box.append(option('client', 'Their browser (recommended)', true),
      option('address', 'The whole address', false), warning);
    box.addEventListener('change', () => {
      warning.hidden = !box.querySelector('input[value="address"]').checked;
    });
    const row = element('div', 'ban-buttons');
    row.append(button('Ban', 'ban-confirm', 'button button-small danger-button'), ' ',
      button('Cancel', 'cancel'));
    box.append(row);
    return box;
  }

  // Wait for an action; on failure say why on the post.
  run(id, promise) {
    const li = this.feed.posts.get(id);
    if (li) li.querySelectorAll('.post-actions button').forEach((b) => { b.disabled = true; });
    promise.catch((err) => {
      this.feed.refresh(id);
      const again = this.feed.posts.get(id);
      if (!again) {
        this.say(errorText(err));
        return;
      }
      const p = element('p', 'post-error', errorText(err));
      p.setAttribute('role', 'alert');
      again.append(p);
    });
  }
}
