/*
 * The wall's settings form in the moderation panel: moderation (open,
 * approve, closed), the word filter (one entry a line) and what it does
 * (hold, reject), slow mode, title and description. Saved with PATCH
 * .../settings, sending only what changed; the answer (all the settings)
 * fills the form again. A change by another organiser (`wall updated`)
 * fills the public fields unless the form has unsaved edits.
 */

import { blocklistText, blocklistFrom, settingsChanges, errorText } from './manage-rules.js';

export class SettingsForm {
  /**
   * @param {object} els  form, moderation (radios' container), blocklist,
   *   action, slow, title, description, save, result
   * @param {object} api  manage-api.js
   * @param {function} onSaved(settings)
   */
  constructor(els, api, onSaved) {
    this.els = els;
    this.api = api;
    this.onSaved = onSaved || function () {};
    this.current = {};
    this.dirty = false;
    els.form.addEventListener('input', () => {
      this.dirty = true;
      this.say('', false);
    });
    els.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
  }

  load() {
    return this.api.get('/settings').then((settings) => this.fill(settings), (err) => {
      this.say('Could not load the settings: ' + errorText(err), true);
    });
  }

  fill(settings) {
    this.current = Object.assign({}, this.current, settings);
    const s = this.current;
    const radio = this.els.form.querySelector('input[name="moderation"][value="' + s.moderation + '"]');
    if (radio) radio.checked = true;
    if (s.blocklist !== undefined) this.els.blocklist.value = blocklistText(s.blocklist);
    if (s.blocklist_action) this.els.action.value = s.blocklist_action;
    this.els.slow.value = String(s.slow_mode_s || 0);
    this.els.title.value = s.title || '';
    this.els.description.value = s.description || '';
    this.dirty = false;
  }

  /** Public settings changed elsewhere (`wall updated`). */
  update(settings) {
    if (this.dirty) {
      this.current = Object.assign({}, this.current, settings);
    } else {
      this.fill(settings);
    }
  }

  read() {
    const checked = this.els.form.querySelector('input[name="moderation"]:checked');
    return {
      moderation: checked ? checked.value : this.current.moderation,
      blocklist: blocklistFrom(this.els.blocklist.value),
      blocklist_action: this.els.action.value,
      slow_mode_s: this.els.slow.value === '' ? 0 : Number(this.els.slow.value),
      title: this.els.title.value.trim(),
      description: this.els.description.value.trim(),
    };
  }

  save() {
    const form = this.read();
    if (!Number.isInteger(form.slow_mode_s) || form.slow_mode_s < 0 || form.slow_mode_s > 3600) {
      this.say('Slow mode is a whole number of seconds from 0 to 3600.', true);
      this.els.slow.focus();
      return;
    }
    const changes = settingsChanges(this.current, form);
    if (Object.keys(changes).length === 0) {
      this.say('Nothing changed.', false);
      return;
    }
    this.els.save.disabled = true;
    this.say('Saving…', false);
    this.api.call('PATCH', '/settings', changes).then((settings) => {
      this.fill(settings);
      this.say('Saved. Every page of the wall shows the change.', false);
      this.onSaved(settings);
    }, (err) => {
      this.say('Not saved: ' + errorText(err), true);
    }).then(() => {
      this.els.save.disabled = false;
    });
  }

  say(text, isError) {
    this.els.result.textContent = text;
    this.els.result.classList.toggle('is-error', Boolean(isError));
    this.els.result.classList.toggle('is-ok', Boolean(text) && !isError);
  }
}
