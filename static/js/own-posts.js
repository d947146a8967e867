/*
 * Delete on one's own posts: shown for 15 minutes after posting (the
 * author key from the post's ack, kept by mine.js), asked once more before
 * it goes, and sent as DELETE /api/walls/<wall>/posts/<id> with
 * X-Author-Key. The server's refusal (too late, not found) is shown on the
 * post.
 */

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function button(label, action, extra) {
  const b = element('button', 'link-button' + (extra ? ' ' + extra : ''), label);
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

export class OwnPosts {
  /**
   * @param {object} options  wall, mine (MyPosts), feed (Feed), remove(id):
   *   take a deleted post off the page
   */
  constructor(options) {
    Object.assign(this, options);
  }

  /** The buttons for a post of ours (Feed's `decorate`), or null. */
  decorate(post) {
    if (!this.mine.canDelete(post.id)) return null;
    const actions = element('div', 'post-actions own-actions');
    actions.append(button('Delete', 'delete'));
    return actions;
  }

  /** A click on one of those buttons (Feed's `onPostAction`). */
  act(action, id, target) {
    const actions = target.closest('.post-actions');
    if (action === 'delete') {
      if (!this.mine.canDelete(id)) {
        this.feed.refresh(id);
        return;
      }
      const yes = button('Yes, delete it', 'delete-confirm', 'danger');
      actions.replaceChildren(element('span', 'confirm-text', 'Delete this post?'), ' ',
        yes, ' ', button('Keep it', 'delete-cancel'));
      yes.focus();
    } else if (action === 'delete-cancel') {
      this.feed.refresh(id);
      const again = this.feed.posts.get(id);
      const first = again && again.querySelector('button[data-action="delete"]');
      if (first) first.focus();
    } else if (action === 'delete-confirm') {
      target.disabled = true;
      this.send(id, actions);
    }
  }

  send(id, actions) {
    const key = this.mine.authorKey(id);
    const url = '/api/walls/' + encodeURIComponent(this.wall) + '/posts/' + encodeURIComponent(id);
    fetch(url, { method: 'DELETE', headers: { 'X-Author-Key': key || '', Accept: 'application/json' } })
      .then((resp) => resp.json().catch(() => ({})).then((body) => ({ status: resp.status, body: body })))
      .then((reply) => {
        if (reply.status === 200 || reply.status === 404) {
          this.mine.forget(id);
          this.remove(id);
          return;
        }
        if (reply.status === 403) this.mine.forget(id); // too late now
        this.fail(id, (reply.body && reply.body.message) || 'The post could not be deleted.');
      }, () => {
        this.fail(id, 'Could not reach the server. Try again.');
      });
  }

  fail(id, message) {
    this.feed.refresh(id);
    const li = this.feed.posts.get(id);
    if (!li) return;
    const error = element('p', 'post-error', message);
    error.setAttribute('role', 'alert');
    li.append(error);
  }
}
