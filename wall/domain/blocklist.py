"""The word filter: words and phrases matched case- and accent-insensitively,
on whole words, after NFKC case folding.

Both the list and the text are folded the same way: Unicode NFKC (so that
full-width and other compatibility look-alikes become plain letters), case
folding, and accents dropped (NFD, then no combining marks). A word matches
only where it is not part of a longer word; a phrase's spaces match any run
of white space.
"""

import re
import unicodedata

MAX_ENTRIES = 500
MAX_ENTRY = 100


def fold(text):
    """``text`` as the filter compares it."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Blocklist:
    """A compiled list; ``match(text)`` returns the first entry found, or None."""

    def __init__(self, entries):
        self.entries = list(entries)
        folded = sorted(
            {fold(e).strip() for e in self.entries if fold(e).strip()}, key=len, reverse=True
        )
        if not folded:
            self._pattern = None
            return
        alternatives = ["\\s+".join(map(re.escape, phrase.split())) for phrase in folded]
        self._pattern = re.compile(r"(?<!\w)(?:%s)(?!\w)" % "|".join(alternatives))

    def match(self, *texts):
        if self._pattern is None:
            return None
        for text in texts:
            found = self._pattern.search(fold(text))
            if found:
                return found.group(0)
        return None
