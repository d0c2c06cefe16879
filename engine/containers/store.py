"""Container records on disk and their lookup.

`<containers_dir>/<id>/container.json` is the container's inspect document (Docker's field
names), plus two additions: `NetworkingConfig` (the create body's, read by the networks area)
and `_berth`, private supervision state that `inspect()` strips. Every read-modify-write of a
record happens under `locked(ctx, "container-<id>")`; name reservation under `container-names`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.util.fs import atomic_write_json, read_json
from engine.util.lock import locked

if TYPE_CHECKING:
    from engine.context import Context

ZERO_TIME = "0001-01-01T00:00:00Z"
RECORD = "container.json"


def now() -> str:
    """RFC 3339 UTC with nanoseconds, as Docker writes times (no datetime import: every run pays it)."""
    t = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 1_000_000_000)) + f".{t % 1_000_000_000:09d}Z"


def parse_time(s: str) -> float:
    """RFC 3339 (nanoseconds allowed) -> epoch seconds; 0 for Docker's zero time."""
    if not s or s.startswith("0001-"):
        return 0.0
    s = s.rstrip("Z")
    frac = ""
    if "." in s:
        s, frac = s.split(".", 1)
    import calendar

    t = calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac[:9]) if frac else 0.0)


def new_id() -> str:
    return os.urandom(32).hex()


def cdir(ctx: Context, cid: str) -> Path:
    return ctx.containers_dir / cid


def load(ctx: Context, cid: str) -> dict[str, Any]:
    rec = read_json(cdir(ctx, cid) / RECORD)
    if rec is None:
        raise NotFound(f"No such container: {cid}", field="container")
    return rec


def save(ctx: Context, rec: dict[str, Any]) -> None:
    # a container removed when it exits does not outlive a crash: no fsync on its record
    atomic_write_json(cdir(ctx, rec["Id"]) / RECORD, rec, durable=not (rec.get("HostConfig") or {}).get("AutoRemove"))


def ids(ctx: Context) -> list[str]:
    try:
        return [e.name for e in os.scandir(ctx.containers_dir)
                if e.is_dir() and len(e.name) == 64 and (Path(e.path) / RECORD).exists()]
    except FileNotFoundError:
        return []


def all_records(ctx: Context) -> list[dict[str, Any]]:
    out = []
    for cid in ids(ctx):
        rec = read_json(cdir(ctx, cid) / RECORD)
        if rec is not None:
            out.append(rec)
    return out


def resolve_id(ctx: Context, ref: str) -> str:
    """Full ID, then exact name, then unique ID prefix (Docker's order)."""
    if not ref:
        raise InvalidArgument("container: empty container name or ID", field="container")
    all_ids = ids(ctx)
    if ref in all_ids:
        return ref
    name = ref.lstrip("/")
    for cid in all_ids:
        rec = read_json(cdir(ctx, cid) / RECORD) or {}
        if rec.get("Name", "").lstrip("/") == name:
            return cid
    matches = [c for c in all_ids if c.startswith(ref.lower())] if all(ch in "0123456789abcdef" for ch in ref.lower()) else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise Conflict(f"container: multiple IDs found with provided prefix: {ref}", field="container")
    raise NotFound(f"No such container: {ref}", field="container")


@contextmanager
def locked_record(ctx: Context, cid: str) -> Iterator[dict[str, Any]]:
    """Hold the container's lock; yields the record, saves it on normal exit if changed."""
    with locked(ctx, f"container-{cid}"):
        rec = load(ctx, cid)
        before = repr(rec)
        yield rec
        if repr(rec) != before and (cdir(ctx, cid) / RECORD).exists():
            save(ctx, rec)


def modify(ctx: Context, cid: str, fn: Callable[[dict[str, Any]], Any]) -> Any:
    with locked_record(ctx, cid) as rec:
        return fn(rec)


def name_in_use(ctx: Context, name: str, exclude: str = "") -> str | None:
    for rec in all_records(ctx):
        if rec.get("Name", "").lstrip("/") == name and rec["Id"] != exclude:
            return rec["Id"]
    return None


def generate_name(ctx: Context) -> str:
    left = ["admiring", "bold", "brave", "calm", "eager", "focused", "gallant", "happy", "jolly", "keen",
            "loving", "nifty", "quirky", "serene", "stoic", "vibrant", "wizardly", "zealous"]
    right = ["babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler", "lovelace",
             "newton", "noether", "pascal", "ritchie", "shannon", "tesla", "turing", "wozniak", "yalow"]
    taken = {r.get("Name", "").lstrip("/") for r in all_records(ctx)}
    for i in range(1000):
        a, b = os.urandom(2)
        n = f"{left[a % len(left)]}_{right[b % len(right)]}" + (str(i) if i > 10 else "")
        if n not in taken:
            return n
    return "c_" + os.urandom(6).hex()
