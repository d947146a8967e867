"""``GET /api/openapi.json``: every HTTP route of the app as an OpenAPI 3.1 document.

The document is built here, from the same constants the routes use, and
served as JSON. It lists every URL rule of the app except ``/static/...``
(files) and ``/socket.io/`` (Socket.IO's own transport, docs/protocol.md):
the pages, ``/healthz`` and ``/metrics``, the JSON API and, unless
``WALL_SPEED_TEST=off``, the speed test. ``HEAD`` and ``OPTIONS``, which
Flask answers on every rule, are not listed. tests/unit/web/test_openapi.py
holds the document and the app's URL map together and validates it, and it
and test_openapi_walls.py hold real replies to it.

The parts: :mod:`openapi_common` (helpers, named errors, shared
parameters), :mod:`openapi_schemas` (component schemas) and one
``openapi_paths_*`` module per group of paths.
"""

import copy

from flask import Blueprint, current_app, jsonify

from .. import protocol
from .. import settings as settings_module
from . import (
    openapi_paths_ops,
    openapi_paths_organizers,
    openapi_paths_pages,
    openapi_paths_posts,
)
from .openapi_common import SECURITY_SCHEMES, error_responses
from .openapi_paths_ops import OPENAPI_VERSION, PATH
from .openapi_schemas import SCHEMAS

bp = Blueprint("openapi", __name__)


@bp.get(PATH)
def openapi_document():
    """This document."""
    return jsonify(document(settings_module.get(current_app)))


def _paths(speed_test):
    paths = {
        **openapi_paths_pages.PATHS,
        **openapi_paths_posts.PATHS,
        **openapi_paths_organizers.PATHS,
        **openapi_paths_ops.PATHS,
    }
    if speed_test:
        paths.update(openapi_paths_ops.SPEED_TEST_PATHS)
    # A copy: a caller that changes its document changes no other.
    return copy.deepcopy(paths)


def document(settings):
    """The OpenAPI document of an app with these :class:`wall.settings.Settings`."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "wall",
            "version": "1",
            "description": "A live message wall. Live posts travel over Socket.IO "
            "(namespace %s at /socket.io/), which this document does not describe; "
            "docs/protocol.md is the whole wire contract." % protocol.NAMESPACE,
        },
        "paths": _paths(settings.speed_test),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": error_responses(),
            "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        },
    }
