/*
 * Share: the wall's address, a Copy button and its QR code, in a <dialog>.
 *
 * The address is this page's own origin and /w/<wall>, which is what the
 * server's QR code (/w/<wall>/qr.svg) encodes too, behind a proxy as well:
 * both are the address as the browser sees it. The QR image is fetched
 * only when the dialog first opens.
 */

import { copyText } from './copy.js';

export class Share {
  /**
   * @param {object} els  open (button), dialog, url (the link), copy
   *   (button), status, qr (img)
   * @param {string} wall
   */
  constructor(els, wall) {
    const path = '/w/' + encodeURIComponent(wall);
    const address = self.location.origin + path;
    els.url.href = path;
    els.url.textContent = address;
    els.open.addEventListener('click', () => {
      if (!els.qr.getAttribute('src')) els.qr.src = path + '/qr.svg';
      els.status.textContent = '';
      els.dialog.showModal();
    });
    els.copy.addEventListener('click', () => {
      copyText(address, els.url, els.status);
    });
  }
}
