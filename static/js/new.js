/*
 * The page that creates a wall (/new): POST /api/walls, then the organiser
 * link, shown once, with a Copy button. The entry module of templates/new.html.
 */

import { wallName } from './post-text.js';
import { copyText } from './copy.js';
import { createError } from './manage-rules.js';

function $(id) {
  return document.getElementById(id);
}

function start(root) {
  const form = $('create-form');
  const name = $('wall-name');
  const error = $('create-error');
  const submit = $('create');
  const preview = $('wall-url-preview');

  const showPreview = function () {
    const folded = wallName(name.value);
    preview.textContent = location.origin + '/w/' + (folded || '…');
    error.textContent = '';
    name.removeAttribute('aria-invalid');
  };
  name.addEventListener('input', showPreview);
  showPreview();

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    const wall = wallName(name.value);
    if (wall === null) {
      error.textContent = 'A wall name is 1 to ' + (root.dataset.maxWall || 40)
        + ' letters a-z, digits or dashes (no spaces).';
      name.setAttribute('aria-invalid', 'true');
      name.focus();
      return;
    }
    const body = { wall: wall };
    const title = $('wall-title-input').value.trim();
    const description = $('wall-description-input').value.trim();
    if (title) body.title = title;
    if (description) body.description = description;
    submit.disabled = true;
    error.textContent = '';
    fetch('/api/walls', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    }).then(function (resp) {
      return resp.json().catch(() => ({})).then((data) => ({ status: resp.status, data: data }));
    }).then(function (reply) {
      submit.disabled = false;
      if (reply.status === 201) {
        created(reply.data);
      } else {
        error.textContent = createError(reply.status, reply.data, wall);
        if (reply.status === 409 || reply.status === 403) name.setAttribute('aria-invalid', 'true');
        name.focus();
      }
    }, function () {
      submit.disabled = false;
      error.textContent = createError(0, null, wall);
    });
  });
}

function created(data) {
  const link = location.origin + data.organizer_url;
  $('created-name').textContent = '#' + data.wall;
  $('organizer-link').textContent = link;
  $('open-manage').href = data.organizer_url;
  $('open-wall').href = '/w/' + encodeURIComponent(data.wall);
  $('create-form').hidden = true;
  const section = $('created');
  section.hidden = false;
  $('copy-link').addEventListener('click', function () {
    copyText(link, $('organizer-link'), $('copy-status'));
  });
  $('created-title').focus();
}

const root = document.getElementById('new-wall');
if (root) start(root);
