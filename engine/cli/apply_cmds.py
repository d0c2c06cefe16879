"""`berth apply < request.json` and `berth schema KIND`.

apply: exit 0 with a result, 2 for an invalid request, 1 for a failed operation; errors are
`{"error": {"type", "message", "field"}}` on stdout (the front ends parse stdout only).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from engine.cli.common import Globals, parser
from engine.errors import BerthError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def _print(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()


def run(verb: str, argv: list[str], g: Globals) -> int:
    if verb == "schema":
        return _schema(argv)
    p = parser("apply", "Reconcile one resource with the JSON desired state read from stdin; "
               "print the JSON result (see docs/apply.md)")
    p.add_argument("--file", "-f", default="-", help="read the request from FILE instead of stdin")
    a = p.parse_args(argv)
    try:
        text = sys.stdin.read() if a.file == "-" else Path(a.file).read_text()
    except OSError as e:
        _print({"error": {"type": "invalid", "message": f"request: cannot read {a.file!r}: {e.strerror}",
                          "field": "request"}})
        return 2
    try:
        req = json.loads(text)
    except json.JSONDecodeError as e:
        _print({"error": {"type": "invalid", "message": f"request: not valid JSON: {e}", "field": "request"}})
        return 2
    try:
        from engine.apply.run import handle

        with _stdout_to_stderr():
            result = handle(g.ctx, req)
    except BerthError as e:
        if g.debug:
            import traceback

            traceback.print_exc()
        _print(e.to_json())
        return 2 if e.exit_code == 2 else 1
    except KeyboardInterrupt:
        raise
    except Exception as e:  # a bug or an unexpected OS error: still answer in the protocol
        import traceback

        traceback.print_exc()
        _print({"error": {"type": "error", "message": f"{type(e).__name__}: {e}"}})
        return 1
    _print(result)
    return 0


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """While the engine works, anything printed (by Python code or a child process) goes to
    stderr: stdout carries exactly one JSON document, which the front ends parse."""
    sys.stdout.flush()
    saved_obj = sys.stdout
    try:
        saved_fd = os.dup(1)
    except OSError:  # no fd 1 at all
        saved_fd = -1
    if saved_fd >= 0:
        os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stdout = saved_obj
        if saved_fd >= 0:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def _schema(argv: list[str]) -> int:
    p = parser("schema", "Print the JSON Schema of a kind's spec for berth apply")
    p.add_argument("kind", nargs="?", help="container, image, image_pull, ..., network, volume, login, "
                   "exec, info, prune (omit to list)")
    p.add_argument("--generate", metavar="DIR", help="(development) regenerate every schema into DIR")
    a = p.parse_args(argv)
    if a.generate:
        from engine.apply.schema import write_all

        for path in write_all(Path(a.generate)):
            print(path)
        return 0
    names = sorted(x.stem for x in SCHEMA_DIR.glob("*.json"))
    if not a.kind:
        print("\n".join(names))
        return 0
    path = SCHEMA_DIR / f"{a.kind}.json"
    if not path.exists():
        from engine.errors import InvalidArgument

        raise InvalidArgument(f"schema: unknown kind {a.kind!r} (known: {', '.join(names)})", field="kind")
    sys.stdout.write(path.read_text())
    return 0
