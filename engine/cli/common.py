"""Shared plumbing for verb modules: global options, error reporting, output helpers."""

from __future__ import annotations

import importlib
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from engine.context import Context


class Globals:
    def __init__(self, root: str | None = None, runroot: str | None = None, config: str | None = None,
                 debug: bool = False) -> None:
        self.root = root
        self.runroot = runroot
        self.config = config
        self.debug = debug
        self._ctx: Context | None = None

    @property
    def ctx(self) -> Context:
        if self._ctx is None:
            from engine.context import Context

            self._ctx = Context.from_env(self.root, self.runroot, self.config)
        return self._ctx


def run_verb(module: str, verb: str, argv: list[str], g: Globals) -> int:
    from engine.errors import BerthError

    try:
        mod = importlib.import_module(module)
        return int(mod.run(verb, argv, g) or 0)
    except BerthError as e:
        if g.debug:
            raise
        print(f"Error: {e.message}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


def parser(verb: str, description: str | None = None, usage: str | None = None) -> argparse.ArgumentParser:
    import argparse

    return argparse.ArgumentParser(prog=f"berth {verb}", description=description, usage=usage)


def add_format(p: argparse.ArgumentParser, inspect: bool = False) -> None:
    """--format as docker has it: an inspect verb takes it also as -f (where ls verbs filter)."""
    flags = ("-f", "--format") if inspect else ("--format",)
    p.add_argument(*flags, dest="format", default=None,
                   help="'json', a Go template such as '{{.Name}}', or (ls) 'table TEMPLATE'")


def go_json(obj: Any) -> str:
    """json.Marshal's output: compact, sorted keys, <, > and & escaped."""
    s = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def emit_inspect(docs: list[Any], fmt: str | None) -> None:
    """An inspect verb's output: a JSON array (the default), or a Go template per object."""
    if fmt in (None, "", "json"):
        emit_json(docs)
        return
    from engine.cli.gotemplate import render

    for d in docs:
        sys.stdout.write(render(fmt, d) + "\n")


def emit_rows(fmt: str | None, rows: list[dict[str, str]], columns: list[tuple[str, str]], default: int) -> None:
    """An ls verb's output, as docker's --format gives it: the default table of the first
    `default` of `columns` ((field, HEADER) pairs); `json`, one JSON object per row;
    `table TEMPLATE`, a header line and a row per object, tab-separated cells aligned; any
    other Go template, a line per row."""
    if fmt in (None, "", "table"):
        shown = columns[:default]
        emit_table([h for _, h in shown], [[r[f] for f, _ in shown] for r in rows])
        return
    if fmt in ("json", "{{json .}}"):
        for r in rows:
            sys.stdout.write(go_json(r) + "\n")
        return
    from engine.cli.gotemplate import header, render

    table = fmt.startswith("table")
    tmpl = fmt[5:].lstrip() if table else fmt
    lines = [render(tmpl, r) for r in rows]
    if table:
        head = header(tmpl, dict(columns))
        cells = [line.split("\t") for line in lines]
        if "\t" in head and all(len(c) == head.count("\t") + 1 for c in cells):
            emit_table(head.split("\t"), cells)
            return
        lines.insert(0, head)
    for line in lines:
        sys.stdout.write(line + "\n")


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def emit_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print columns like docker does: padded with at least three spaces between them."""
    cells = [headers] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for r in cells:
        line = "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
        sys.stdout.write(line.rstrip() + "\n")
