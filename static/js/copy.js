/*
 * Copying a secret (an organiser link or key) to the clipboard: with
 * navigator.clipboard where the browser allows it, else by selecting the
 * text so the person can press Ctrl+C (or Cmd+C) themselves.
 */

function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = self.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/**
 * Copy `text`, shown in element `shown`; `status` says what happened.
 * Resolves with true when it is on the clipboard.
 */
export function copyText(text, shown, status) {
  const fallback = function () {
    selectText(shown);
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch (e) {
      copied = false;
    }
    status.textContent = copied ? 'Copied.' : 'The link is selected: press Ctrl+C (or ⌘C) to copy it.';
    return copied;
  };
  if (!navigator.clipboard || typeof navigator.clipboard.writeText !== 'function') {
    return Promise.resolve(fallback());
  }
  return navigator.clipboard.writeText(text).then(function () {
    status.textContent = 'Copied to the clipboard.';
    return true;
  }, fallback);
}
