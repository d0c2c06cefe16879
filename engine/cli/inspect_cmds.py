"""`berth inspect [KIND] NAME...` and `berth ls KIND --json`.

Each domain package exposes the same two read functions, the facts in Docker's inspect shape:
    engine.<domain>.api.inspect(ctx, name) -> dict   (raises NotFound)
    engine.<domain>.api.list_all(ctx) -> list[dict]
"""

from __future__ import annotations

import importlib
import sys

from engine.cli.common import Globals, emit_json, parser
from engine.errors import NotFound

KINDS = {
    "container": "engine.containers.api",
    "image": "engine.images.api",
    "network": "engine.networks.api",
    "volume": "engine.volumes.api",
    "login": "engine.apply.login",  # registry and user of each stored login (never the password)
}
# Without a kind, a name is looked up as Docker does: container first, then image.
SEARCH_ORDER = ("container", "image", "network", "volume")


def _api(kind: str):
    return importlib.import_module(KINDS[kind])


def run(verb: str, argv: list[str], g: Globals) -> int:
    if verb == "ls":
        p = parser("ls", "List objects of a kind as JSON")
        p.add_argument("kind", choices=sorted(KINDS))
        p.add_argument("--json", action="store_true", help="JSON output (the default)")
        a = p.parse_args(argv)
        emit_json(_api(a.kind).list_all(g.ctx))
        return 0

    p = parser("inspect", "Show low-level facts of objects as JSON")
    p.add_argument("--type", choices=sorted(KINDS), help="only look for this kind")
    p.add_argument("--json", action="store_true", help="JSON output (the default)")
    p.add_argument("-f", "--format", default=None,
                   help="'json' (the default), or a Go template like docker's: '{{.State.Status}}'")
    p.add_argument("names", nargs="+", metavar="[KIND] NAME")
    a = p.parse_args(argv)
    names: list[str] = a.names
    kind = a.type
    if kind is None and len(names) >= 2 and names[0] in KINDS:
        kind, names = names[0], names[1:]
    template = a.format if a.format not in (None, "json") else None
    out, missing = [], []
    for name in names:
        for k in (kind,) if kind else SEARCH_ORDER:
            try:
                out.append(_api(k).inspect(g.ctx, name))
                break
            except NotFound:
                continue
            except ModuleNotFoundError:
                continue
        else:
            missing.append(name)
    if template is not None:
        from engine.cli.gotemplate import render

        for doc in out:
            print(render(template, doc))
    else:
        emit_json(out)
    for name in missing:
        print(f"Error: no such {kind or 'object'}: {name}", file=sys.stderr)
    return 3 if missing else 0
