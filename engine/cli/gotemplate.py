"""The part of Go's text/template that docker's `--format` users rely on.

- Field paths on the current object, the root or a variable: `{{.State.Status}}`,
  `{{.Config.Labels.tier}}`, `{{$.Name}}`, `{{$v.IPAddress}}`.
- The functions `json`, `index`, `join`, `len`, `upper` and `lower`.
- `{{range X}}...{{end}}`, also with `$v :=` or `$k, $v :=` and `{{else}}`; `{{if X}}...{{else}}...{{end}}`.
- `{{-`/`-}}` trimming, literal text and the `\\n`/`\\t` escapes.

Values print as Go's fmt would (`true`, `<nil>`, `map[k:v]`, `[a b]`); a map ranges in key order.
Anything else is an error that names the format, never a silent guess.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from engine.errors import InvalidArgument

# inspect fields that are Go maps (keys are data, not struct fields)
_MAPS = {"Labels", "Networks", "Ports", "Options", "Data", "Sysctls", "Tmpfs", "ExposedPorts", "Volumes",
         "StorageOpt", "Annotations", "EndpointsConfig"}
_ACTION = re.compile(r"{{(-\s)?\s*(.*?)\s*(\s-)?}}", re.S)
_RANGE_VARS = re.compile(r"^(\$\w+)\s*(?:,\s*(\$\w+)\s*)?:=\s*(.+)$", re.S)


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


def _bad(msg: str) -> InvalidArgument:
    return InvalidArgument(f"format: {msg}", field="format")


class _Scope:
    def __init__(self, fmt: str, root: Any) -> None:
        self.fmt = fmt
        self.vars: dict[str, Any] = {"$": root}


def _path(dot: Any, expr: str, sc: _Scope) -> Any:
    """The value of `.A.B`, `$.A`, `$v.A` or a quoted string."""
    if expr[:1] == '"' or expr[:1] == "'":
        return expr[1:-1]
    if expr.startswith("$"):
        name, _, rest = expr.partition(".")
        if name not in sc.vars:
            raise _bad(f"undefined variable {name} in {sc.fmt!r}")
        cur, parts = sc.vars[name], rest.split(".") if rest else []
    elif expr.startswith("."):
        cur, parts = dot, expr[1:].split(".") if expr != "." else []
    else:
        raise _bad(f"cannot evaluate {expr!r} in {sc.fmt!r}")
    parent = ""
    for part in parts:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, dict) and parent in _MAPS:
            return "<no value>"  # a missing map key (a label): Go prints <no value>
        else:
            raise _bad(f"template: can't evaluate field {part} in {sc.fmt!r}")
        parent = part
    return cur


def _value(dot: Any, action: str, sc: _Scope) -> Any:
    """The value of a pipeline without `|`: a path, or a function applied to paths."""
    try:
        words = shlex.split(action, posix=False)
    except ValueError:
        raise _bad(f"bad action {{{{{action}}}}} in {sc.fmt!r}") from None
    if not words:
        raise _bad(f"empty action in {sc.fmt!r}")
    fn, args = (words[0], words[1:]) if words[0][:1] not in ".$\"'" else ("", words)
    vals = [_path(dot, a, sc) for a in args]
    if fn == "" and callable(vals[0]):  # a method of the object, such as ps's {{.Label "k"}}
        try:
            return vals[0](*vals[1:])
        except TypeError:
            raise _bad(f"wrong number of arguments for {args[0]} in {sc.fmt!r}") from None
    if fn == "" and len(vals) == 1:
        return vals[0]
    if fn == "json" and len(vals) == 1:
        return json.dumps(vals[0], separators=(",", ":"))
    if fn in ("upper", "lower") and len(vals) == 1:
        s = go_str(vals[0])
        return s.upper() if fn == "upper" else s.lower()
    if fn == "len" and len(vals) == 1 and isinstance(vals[0], (list, dict, str)):
        return len(vals[0])
    if fn == "join" and len(vals) == 2 and isinstance(vals[0], list):
        return str(vals[1]).join(go_str(x) for x in vals[0])
    if fn == "index" and len(vals) >= 2:
        cur = vals[0]
        for key in vals[1:]:
            if isinstance(cur, list) and str(key).isdigit() and int(key) < len(cur):
                cur = cur[int(key)]
            elif isinstance(cur, dict):
                cur = cur.get(key, "<no value>")
            else:
                raise _bad(f"index of {args[0]} with {key!r} in {sc.fmt!r}")
        return cur
    raise _bad(f"unsupported action {{{{{action}}}}} in {sc.fmt!r} (supported: field paths, json, index, "
               "join, len, upper, lower, range, if, else, end)")


def _truthy(v: Any) -> bool:
    return v not in (None, False, 0, "", "<no value>") and not (isinstance(v, (list, dict)) and not v)


# A parsed template is a list of nodes: str (text), ("out", action),
# ("range", vars, action, body, else_body) and ("if", action, body, else_body).
def _unescape(fmt: str) -> str:
    return fmt.replace("\\n", "\n").replace("\\t", "\t")


def _parse(fmt: str) -> list[Any]:
    text = _unescape(fmt)
    tokens: list[tuple[str, str]] = []
    pos, trim = 0, False  # trim: the action before asked for `-}}`
    for m in [*_ACTION.finditer(text), None]:
        lit = text[pos:m.start() if m else len(text)]
        lit = lit.lstrip() if trim else lit
        lit = lit.rstrip() if m and m.group(1) else lit
        if lit:
            tokens.append(("text", lit))
        if m:
            tokens.append(("action", m.group(2)))
            pos, trim = m.end(), bool(m.group(3))
    nodes, i, end = _block(tokens, 0, fmt)
    if end is not None:
        raise _bad(f"unexpected {{{{{end}}}}} in {fmt!r}")
    return nodes


def _block(tokens: list[tuple[str, str]], i: int, fmt: str) -> tuple[list[Any], int, str | None]:
    """Nodes up to an `else` or `end` (returned as the third item) or the end of the tokens."""
    nodes: list[Any] = []
    while i < len(tokens):
        kind, s = tokens[i]
        i += 1
        if kind == "text":
            nodes.append(s)
            continue
        word = s.split(None, 1)[0] if s else ""
        if word in ("else", "end"):
            return nodes, i, word
        if word in ("range", "if"):
            rest = s[len(word):].strip()
            body, i, stop = _block(tokens, i, fmt)
            other: list[Any] = []
            if stop == "else":
                other, i, stop = _block(tokens, i, fmt)
            if stop != "end":
                raise _bad(f"{{{{{word}}}}} without {{{{end}}}} in {fmt!r}")
            if word == "if":
                nodes.append(("if", rest, body, other))
            else:
                m = _RANGE_VARS.match(rest)
                names = tuple(x for x in (m.group(1), m.group(2)) if x) if m else ()
                nodes.append(("range", names, m.group(3) if m else rest, body, other))
            continue
        nodes.append(("out", s))
    return nodes, i, None


def _exec(nodes: list[Any], dot: Any, sc: _Scope, out: list[str]) -> None:
    for n in nodes:
        if isinstance(n, str):
            out.append(n)
        elif n[0] == "out":
            v = _value(dot, n[1], sc)
            out.append(v if isinstance(v, str) else go_str(v))
        elif n[0] == "if":
            _exec(n[2] if _truthy(_value(dot, n[1], sc)) else n[3], dot, sc, out)
        else:
            _, names, action, body, other = n
            coll = _value(dot, action, sc)
            if isinstance(coll, dict):
                items = [(k, coll[k]) for k in sorted(coll)]
            elif isinstance(coll, list):
                items = list(enumerate(coll))
            elif coll is None or coll == "<no value>":
                items = []
            else:
                raise _bad(f"range can't iterate over {go_str(coll)} in {sc.fmt!r}")
            if not items:
                _exec(other, dot, sc, out)
            for k, v in items:
                if len(names) == 2:
                    sc.vars[names[0]], sc.vars[names[1]] = k, v
                elif names:
                    sc.vars[names[0]] = v
                _exec(body, v, sc, out)


def render(fmt: str, doc: Any) -> str:
    out: list[str] = []
    _exec(_parse(fmt), doc, _Scope(fmt, doc), out)
    return "".join(out)


def header(fmt: str, names: dict[str, str]) -> str:
    """The header line of docker's `--format 'table ...'`: each action becomes its column name
    (`{{.ID}}` of images is IMAGE ID), or its last field in capitals when no name is known."""
    text = _unescape(fmt)

    def name(m: re.Match[str]) -> str:
        fields = re.findall(r"\.(\w+)", m.group(2))
        if not fields:
            return ""
        return names.get(fields[0], fields[-1].upper()) if len(fields) == 1 else fields[-1].upper()

    return _ACTION.sub(name, text)
