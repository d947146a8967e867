/*
 * The wall switcher: go to a wall by name, or pick one of the walls that
 * have posts (GET /api/walls), listed each time the switcher is opened.
 */

import { wallName } from './post-text.js';

export class Switcher {
  /**
   * @param {object} els  details, form, name, error, list, status
   * @param {string} current  the wall this page shows
   */
  constructor(els, current) {
    this.els = els;
    this.current = current;
    this.loading = false;

    els.details.addEventListener('toggle', () => {
      if (els.details.open) {
        this.refresh();
        els.name.focus();
      }
    });
    els.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = wallName(els.name.value);
      if (name === null) {
        els.error.textContent = 'A wall name is 1 to 40 letters a-z, digits or dashes.';
        els.name.setAttribute('aria-invalid', 'true');
        els.name.focus();
        return;
      }
      self.location.assign('/w/' + encodeURIComponent(name));
    });
    els.name.addEventListener('input', () => {
      els.error.textContent = '';
      els.name.removeAttribute('aria-invalid');
    });
    // Escape closes the panel and gives focus back to its summary.
    els.details.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && els.details.open) {
        els.details.open = false;
        els.details.querySelector('summary').focus();
      }
    });
  }

  refresh() {
    if (this.loading) return;
    this.loading = true;
    this.els.status.textContent = 'Loading walls…';
    fetch('/api/walls', { headers: { Accept: 'application/json' } })
      .then(function (resp) {
        if (!resp.ok) throw new Error('HTTP ' + resp.status);
        return resp.json();
      })
      .then((data) => {
        const walls = data && Array.isArray(data.walls) ? data.walls : [];
        this.render(walls);
        this.els.status.textContent = walls.length ? '' : 'No wall has posts yet.';
      }, () => {
        this.els.status.textContent = 'Could not load the list of walls.';
      })
      .then(() => {
        this.loading = false;
      });
  }

  render(walls) {
    const items = walls.map((wall) => {
      const name = String(wall.name);
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = '/w/' + encodeURIComponent(name);
      a.textContent = '#' + name;
      if (name === this.current) a.setAttribute('aria-current', 'page');
      const info = document.createElement('span');
      info.className = 'wall-info';
      info.textContent = plural(wall.posts, 'post') + ' · ' + wall.online + ' online';
      li.append(a, document.createTextNode(' '), info);
      return li;
    });
    this.els.list.replaceChildren.apply(this.els.list, items);
  }
}

function plural(n, word) {
  return n + ' ' + word + (n === 1 ? '' : 's');
}
