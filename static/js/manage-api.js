/*
 * The organiser's HTTP API (docs/protocol.md, "Running a wall"), with the
 * key as `Authorization: Bearer`. Every call resolves with the JSON body
 * or rejects with an ApiError {status, error, message, retry_after}
 * (status 0: no answer). The export is fetched with the key too and saved
 * as a file through a Blob object URL and an <a download>.
 */

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || 'HTTP ' + status);
    this.status = status;
    this.error = (body && body.error) || (status ? 'http_' + status : 'offline');
    this.retry_after = body && body.retry_after;
  }
}

function fileName(disposition, fallback) {
  const m = /filename="?([^";]+)"?/i.exec(disposition || '');
  return m ? m[1] : fallback;
}

export class Api {
  constructor(wall, key) {
    this.wall = wall;
    this.key = key;
    this.base = '/api/walls/' + encodeURIComponent(wall);
  }

  headers(extra) {
    return Object.assign({ Accept: 'application/json', Authorization: 'Bearer ' + this.key }, extra);
  }

  /** `method` on `path` (under /api/walls/<wall>), with an optional JSON body. */
  call(method, path, body) {
    const init = { method: method, headers: this.headers() };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init).then((resp) => {
      return resp.json().catch(() => null).then((data) => {
        if (!resp.ok) throw new ApiError(resp.status, data);
        return data;
      });
    }, () => {
      throw new ApiError(0, { message: 'Could not reach the server.' });
    });
  }

  get(path) {
    return this.call('GET', path);
  }

  post(path, body) {
    return this.call('POST', path, body === undefined ? {} : body);
  }

  moderate(id, action) {
    return this.post('/posts/' + encodeURIComponent(id) + '/' + action);
  }

  /** Fetch the export and hand it to the browser as a download. */
  download(format) {
    return fetch(this.base + '/export?format=' + format, { headers: this.headers({ Accept: '*/*' }) })
      .then((resp) => {
        if (!resp.ok) return resp.json().catch(() => null).then((d) => { throw new ApiError(resp.status, d); });
        const name = fileName(resp.headers.get('Content-Disposition'), 'wall-' + this.wall + '.' + format);
        return resp.blob().then((blob) => {
          const url = URL.createObjectURL(blob);
          const a = document.createElement('a');
          a.href = url;
          a.download = name;
          a.hidden = true;
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60000);
          return name;
        });
      }, () => {
        throw new ApiError(0, { message: 'Could not reach the server.' });
      });
  }
}
