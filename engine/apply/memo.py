"""The no-op memo: a steady-state rerun of `berth apply` without the reconciler.

A reconcile is a function of the request and of what it reads from the host through its edge
(engine.apply.edge: the only place apply touches the host). When a real (non-check) run only
read — every call it made on the edge was one of READS — and changed nothing, its result is kept
in a memo under the runroot, next to the digests of what each read returned. The next apply of
the same resource with a byte-identical request, the same engine code and the same config file
replays those reads against the host: if every one returns what it returned then, the reconciler
would decide the same again, so the kept result is the answer. Any difference (the container
stopped, its record rewritten, the tag moved to another image, the network recreated, the spec
edited) and the full reconcile runs, as without a memo.

What this saves is the pydantic import and model validation (most of a no-op apply's time); the
replayed reads are the same engine calls the reconciler would make. Memos live in the runroot
(cleared at boot), one file per resource, root-only, and are written under the resource's apply
lock. Check mode neither reads nor writes them. Requests that read something outside the edge
(a container's `env_file` on the host) are never memoised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.context import Context

KINDS = ("container", "network", "volume")
# edge methods that only read; a call to anything else makes the run unfit for a memo
READS = frozenset({"container", "image", "network", "volume"})
FORMAT = 1


def _digest(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _engine_stamp(ctx: Context) -> list[Any]:
    """What else decides a reconcile: the engine's code and the host's config file."""
    import engine

    apply_dir = Path(__file__).parent
    stamp: list[Any] = [engine.__version__, str(ctx.root), str(apply_dir)]
    for p in sorted(apply_dir.glob("*.py")):
        st = p.stat()
        stamp.append([p.name, st.st_mtime_ns, st.st_size])
    try:
        st = os.stat(ctx.config_path)
        stamp.append([str(ctx.config_path), st.st_mtime_ns, st.st_size, st.st_ino])
    except OSError:
        stamp.append([str(ctx.config_path), None])
    return stamp


def eligible(env: dict[str, Any]) -> bool:
    if env["check"] or env["kind"] not in KINDS:
        return False
    return not (env["kind"] == "container" and env["spec"].get("env_file") is not None)


class Recorder:
    """Wraps an edge: passes every call through and notes each read and its result's digest."""

    def __init__(self, edge: Any) -> None:
        self._edge = edge
        self.reads: list[list[Any]] = []
        self.pure = True

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._edge, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kw: Any) -> Any:
            if name not in READS:
                self.pure = False
                return attr(*args, **kw)
            out = attr(*args, **kw)
            if self.pure:
                self.reads.append([name, list(args), kw, _digest(out)])
            return out

        return call


class Memo:
    def __init__(self, ctx: Context, lock_name: str, req: dict[str, Any]) -> None:
        self.path = ctx.runroot / "apply-memo" / f"{lock_name}.json"
        self.key = _digest({"format": FORMAT, "request": req, "engine": _engine_stamp(ctx)})

    def lookup(self, edge: Any) -> dict[str, Any] | None:
        """The kept result when the request and every read are as they were; else None."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != self.key:
            return None
        seen: dict[str, str] = {}  # one read per distinct call: the replay is one snapshot
        for name, args, kw, digest in data.get("reads") or []:
            if name not in READS:
                return None
            call = json.dumps([name, args, kw], sort_keys=True)
            if call not in seen:
                seen[call] = _digest(getattr(edge, name)(*args, **kw))
            if seen[call] != digest:
                return None
        result = data.get("result")
        return result if isinstance(result, dict) else None

    def keep(self, rec: Recorder, result: dict[str, Any]) -> None:
        """Keep the result of a full reconcile that only read; otherwise drop the memo."""
        if not rec.pure or result.get("changed") or not rec.reads:
            self.forget()
            return
        from engine.util.fs import atomic_write

        try:
            text = json.dumps({"key": self.key, "reads": rec.reads, "result": result}, default=str)
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write(self.path, text, mode=0o600, durable=False)
        except (OSError, TypeError, ValueError):
            pass  # a memo is only a shortcut

    def forget(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass
