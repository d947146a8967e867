"""``python app.py`` with an open-file limit of ``WALL_TEST_NOFILE`` (soft and hard).

Lowered before app.py runs, so that the server sees a limit it cannot raise,
as in a container that caps open files.
"""

import os
import resource
import runpy
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, ROOT)
limit = int(os.environ["WALL_TEST_NOFILE"])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
runpy.run_path(os.path.join(ROOT, "app.py"), run_name="__main__")
