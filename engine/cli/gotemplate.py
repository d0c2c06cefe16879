"""The part of Go's text/template that `docker inspect --format` users rely on: field paths
(`{{.State.Status}}`, `{{.Config.Labels.tier}}`), `{{json .X}}`, `{{index .X "key"}}`,
`{{upper ...}}`/`{{lower ...}}`, literal text and `\\n`/`\\t` escapes. Values print as Go's fmt
would (`true`, `<nil>`, `map[k:v]`, `[a b]`)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from engine.errors import InvalidArgument

# inspect fields that are Go maps (keys are data, not struct fields)
_MAPS = {"Labels", "Networks", "Ports", "Options", "Data", "Sysctls", "Tmpfs", "ExposedPorts", "Volumes",
         "StorageOpt", "Annotations", "EndpointsConfig"}
_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)


def go_str(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _path(doc: Any, expr: str, fmt: str) -> Any:
    if expr == ".":
        return doc
    if not expr.startswith("."):
        raise InvalidArgument(f"format: cannot evaluate {expr!r} in {fmt!r}", field="format")
    cur = doc
    parent = ""
    for part in expr[1:].split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, dict) and parent in _MAPS:
            return "<no value>"  # a missing map key (a label): Go prints <no value>
        else:
            raise InvalidArgument(f"format: template: can't evaluate field {part} in {fmt!r}", field="format")
        parent = part
    return cur


def _eval(doc: Any, action: str, fmt: str) -> str:
    try:
        words = shlex.split(action)
    except ValueError:
        raise InvalidArgument(f"format: bad action {{{{{action}}}}} in {fmt!r}", field="format") from None
    if not words:
        return ""
    fn, args = (words[0], words[1:]) if not words[0].startswith(".") else ("", words)
    if fn == "":
        if len(args) != 1:
            raise InvalidArgument(f"format: cannot evaluate {{{{{action}}}}}", field="format")
        return go_str(_path(doc, args[0], fmt))
    if fn == "json" and len(args) == 1:
        return json.dumps(_path(doc, args[0], fmt), separators=(",", ":"))
    if fn in ("upper", "lower") and len(args) == 1:
        s = go_str(_path(doc, args[0], fmt))
        return s.upper() if fn == "upper" else s.lower()
    if fn == "index" and len(args) >= 2:
        cur = _path(doc, args[0], fmt)
        for key in args[1:]:
            if isinstance(cur, list) and key.isdigit() and int(key) < len(cur):
                cur = cur[int(key)]
            elif isinstance(cur, dict):
                cur = cur.get(key)
            else:
                raise InvalidArgument(f"format: index of {args[0]} with {key!r} in {fmt!r}", field="format")
        return go_str(cur) if cur is not None else "<no value>"
    raise InvalidArgument(f"format: unsupported function {fn!r} in {fmt!r} (supported: field paths, json, index, "
                          "upper, lower)", field="format")


def render(fmt: str, doc: Any) -> str:
    text = fmt.replace("\\n", "\n").replace("\\t", "\t")
    return _ACTION.sub(lambda m: _eval(doc, m.group(1), fmt), text)
