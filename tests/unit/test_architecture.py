"""The layers of wall/ (docs/architecture.md) and where private patches may live.

- The top of ``wall/`` (settings, protocol, errors, validation, metrics,
  serve) imports no layer, except ``__init__`` (the factory) and ``serve``.
- ``storage`` and ``drivers`` import no other layer; ``domain`` only
  ``storage``; ``realtime`` not ``web``; nothing imports ``web`` but the factory.
- Only ``wall/drivers/`` names a private attribute a driver patch targets,
  and only ``wall/drivers/`` imports eventlet or gevent.
"""

import ast
import os
import re

from wall import drivers

WALL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "wall")
LAYERS = ("web", "realtime", "domain", "storage", "drivers")
# layer -> the layers it may import
ALLOWED = {
    "storage": set(),
    "domain": {"storage"},
    "realtime": {"domain", "storage", "drivers"},
    "web": {"domain", "storage", "realtime", "drivers"},
    "drivers": set(),
    "top": set(),
}


def modules():
    for base, _, names in os.walk(WALL):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(base, name)
                rel = os.path.relpath(path, WALL)
                yield rel, path


def layer_of(rel):
    first = rel.split(os.sep)[0]
    return first if first in LAYERS else "top"


def imported_layers(rel, path):
    """The wall layers a module imports (absolute or relative)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    package = ["wall"] + rel.split(os.sep)[:-1]
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] + ["%s.%s" % (module, a.name) for a in node.names]
            else:
                names = [node.module or ""]
        for name in names:
            parts = name.split(".")
            if parts[0] == "wall" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def test_layers_import_only_what_they_may():
    problems = []
    for rel, path in modules():
        layer = layer_of(rel)
        if rel in ("__init__.py", "serve.py", "cli.py"):
            continue  # the factory, the server and the CLI: the composition root
        allowed = ALLOWED[layer] | {layer}
        bad = imported_layers(rel, path) - allowed
        if bad:
            problems.append("%s (%s) imports %s" % (rel, layer, ", ".join(sorted(bad))))
    assert not problems, "\n".join(problems)


def test_at_most_ten_modules_at_the_top():
    top = [n for n in os.listdir(WALL) if n.endswith(".py")]
    assert len(top) <= 10, top


def private_names():
    drivers.status()  # loads every driver
    names = set()
    for patch in drivers.PATCHES.values():
        for target in patch.targets:
            names.update(
                p for p in target.path.split(".") if p.startswith("_") and not p.startswith("__")
            )
            names.update(a for a in target.sets if a.startswith("_"))
    return names


def test_only_the_drivers_name_private_library_attributes():
    names = private_names()
    assert "_send_eio_packet" in names and "_sendlock" in names  # the check checks something
    pattern = re.compile(r"\b(%s)\b" % "|".join(sorted(map(re.escape, names))))
    problems = []
    for rel, path in modules():
        if layer_of(rel) == "drivers":
            continue
        with open(path) as f:
            for number, line in enumerate(f, 1):
                code = line.split("#", 1)[0]  # a comment may point at the driver
                for match in pattern.finditer(code):
                    problems.append("%s:%d names %s" % (rel, number, match.group(1)))
    assert not problems, "\n".join(problems)


def test_only_the_drivers_import_an_async_library():
    problems = []
    for rel, path in modules():
        if layer_of(rel) == "drivers":
            continue
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for name in names:
                    if name.split(".")[0] in ("eventlet", "gevent", "greenlet"):
                        problems.append("%s imports %s" % (rel, name))
    assert not problems, "\n".join(problems)
