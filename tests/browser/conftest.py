"""Browser fixtures from tests/support/browser.py, imported here so that the
package-scoped Chromium (see there) closes when the last browser test is done."""

from ..support.browser import *  # noqa: F401,F403
