/*
 * The panel's lists that live only behind the API: bans (Lift), organiser
 * keys (add a co-organiser with a label, its key shown once with Copy;
 * revoke), the audit log (newest first) and the export (CSV, JSON), which
 * needs the key and so is fetched and saved as a file.
 */

import { auditLine, errorText } from './manage-rules.js';
import { copyText } from './copy.js';

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function when(ms) {
  const date = new Date(Number(ms));
  return Number.isFinite(date.getTime()) ? date.toLocaleString() : '';
}

function actionButton(label, onClick) {
  const b = element('button', 'button button-small button-secondary', label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

export class Bans {
  constructor(els, api) {
    this.els = els; // list, empty, count, result
    this.api = api;
  }

  load() {
    return this.api.get('/bans').then((data) => this.render(data.bans || []), (err) => {
      this.els.result.textContent = 'Could not load the bans: ' + errorText(err);
    });
  }

  render(bans) {
    const items = bans.map((ban) => {
      const li = element('li', 'admin-item');
      li.dataset.id = ban.id;
      const what = ban.scope === 'address' ? 'The whole address' : 'A browser';
      const text = element('span', 'admin-text', what + ' (author of post ' + ban.post_id + '), since '
        + when(ban.created));
      const lift = actionButton('Lift', () => {
        lift.disabled = true;
        this.api.call('DELETE', '/bans/' + encodeURIComponent(ban.id)).then(() => {
          this.els.result.textContent = 'Ban lifted: that author may post again.';
          return this.load();
        }, (err) => {
          lift.disabled = false;
          this.els.result.textContent = 'Not lifted: ' + errorText(err);
        });
      });
      li.append(text, ' ', lift);
      return li;
    });
    this.els.list.replaceChildren.apply(this.els.list, items);
    this.els.empty.hidden = bans.length > 0;
    this.els.count.textContent = String(bans.length);
  }
}

export class Keys {
  constructor(els, api) {
    this.els = els; // form, label, list, created, createdKey, copy, copyStatus, result
    this.api = api;
    this.newKey = null;
    els.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.add();
    });
    els.copy.addEventListener('click', () => {
      if (this.newKey) copyText(this.newKey, els.createdKey, els.copyStatus);
    });
  }

  load() {
    return this.api.get('/keys').then((data) => this.render(data.keys || []), (err) => {
      this.els.result.textContent = 'Could not load the keys: ' + errorText(err);
    });
  }

  add() {
    const label = this.els.label.value.trim();
    this.els.result.textContent = '';
    this.api.post('/keys', label ? { label: label } : {}).then((data) => {
      this.newKey = data.key.key;
      this.els.createdKey.textContent = data.key.key;
      this.els.copyStatus.textContent = '';
      this.els.created.hidden = false;
      this.els.label.value = '';
      this.els.createdKey.focus();
      return this.load();
    }, (err) => {
      this.els.result.textContent = 'No key added: ' + errorText(err);
    });
  }

  render(keys) {
    const items = keys.map((key) => {
      const li = element('li', 'admin-item');
      li.dataset.id = key.id;
      li.append(element('span', 'admin-text', (key.label || '(no label)') + ', added ' + when(key.created)));
      const revoke = actionButton('Revoke', () => {
        revoke.disabled = true;
        this.api.call('DELETE', '/keys/' + encodeURIComponent(key.id)).then(() => {
          this.els.result.textContent = 'Key “' + (key.label || key.id) + '” revoked.';
          return this.load();
        }, (err) => {
          revoke.disabled = false;
          this.els.result.textContent = 'Not revoked: ' + errorText(err);
        });
      });
      li.append(' ', revoke);
      return li;
    });
    this.els.list.replaceChildren.apply(this.els.list, items);
  }
}

export class Audit {
  constructor(els, api) {
    this.els = els; // list, refresh, result
    this.api = api;
    els.refresh.addEventListener('click', () => this.load());
  }

  load() {
    this.els.result.textContent = '';
    return this.api.get('/audit').then((data) => {
      const items = (data.entries || []).map((entry) => {
        const li = element('li', 'audit-item');
        const time = element('time', 'post-time', when(entry.at));
        time.dateTime = new Date(Number(entry.at)).toISOString();
        li.append(time, ' ', element('span', 'audit-text', auditLine(entry)));
        return li;
      });
      this.els.list.replaceChildren.apply(this.els.list, items);
      this.els.result.textContent = items.length ? '' : 'Nothing yet.';
    }, (err) => {
      this.els.result.textContent = 'Could not load the audit log: ' + errorText(err);
    });
  }
}

/** The export links: fetched with the key, saved through a Blob URL. */
export function exportLinks(links, api, result) {
  links.forEach((link) => {
    link.addEventListener('click', (event) => {
      event.preventDefault();
      result.textContent = 'Preparing the file…';
      api.download(link.dataset.format).then((name) => {
        result.textContent = 'Saved as ' + name + '.';
      }, (err) => {
        result.textContent = 'Export failed: ' + errorText(err);
      });
    });
  });
}
