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


def add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="format", default=None,
                   help="output format: 'json', or a table (default)")


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
