"""Reading conmon's k8s-file logs: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>` per line,
`P` marking a partial line continued by the next entry of the same stream."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from engine.errors import InvalidArgument


@dataclass
class Entry:
    time: str  # as written by conmon
    stream: str  # stdout | stderr
    data: bytes  # including the trailing newline for full lines

    @property
    def epoch(self) -> float:
        return parse_ts(self.time)


def parse_ts(s: str) -> float:
    """RFC 3339 with nanoseconds and a numeric or Z offset -> epoch seconds."""
    main, frac, rest = s, "", ""
    if "." in s:
        main, tail = s.split(".", 1)
        i = 0
        while i < len(tail) and tail[i].isdigit():
            i += 1
        frac, rest = tail[:i], tail[i:]
    else:
        main, rest = s[:19], s[19:]
    rest = rest or "Z"
    if rest == "Z":
        rest = "+00:00"
    dt = datetime.fromisoformat(main + rest)
    return dt.timestamp() + (float("0." + frac) if frac else 0.0)


def docker_ts(s: str) -> str:
    """conmon's local time -> Docker's `-t` format (UTC, nanoseconds, Z)."""
    from datetime import UTC

    t = parse_ts(s)
    frac = s.split(".", 1)[1][:9] if "." in s else "0"
    frac = "".join(c for c in frac if c.isdigit()).ljust(9, "0")
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


def parse_line(line: bytes) -> tuple[str, str, bool, bytes] | None:
    parts = line.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3:
        return None
    ts, stream, tag = parts[0].decode(errors="replace"), parts[1].decode(errors="replace"), parts[2]
    text = parts[3] if len(parts) > 3 else b""
    return ts, stream, tag.startswith(b"P"), text


def entries(lines: Iterator[bytes]) -> Iterator[Entry]:
    pending: dict[str, tuple[str, bytes]] = {}
    for line in lines:
        p = parse_line(line)
        if p is None:
            continue
        ts, stream, partial, text = p
        if stream not in ("stdout", "stderr"):
            continue
        if partial:
            t0, acc = pending.get(stream, (ts, b""))
            pending[stream] = (t0, acc + text)
            continue
        t0, acc = pending.pop(stream, (ts, b""))
        yield Entry(t0, stream, acc + text + b"\n")


def parse_since(s: str | None, field: str) -> float | None:
    """Docker's --since/--until: a timestamp, a Unix time, or a duration ago (10m, 1h30m)."""
    if not s:
        return None
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        pass
    try:
        from engine.containers.units import duration_ns

        return time.time() - duration_ns(s, field) / 1e9
    except InvalidArgument:
        pass
    try:
        if "T" not in s:
            s = s + "T00:00:00"
        return parse_ts(s)
    except ValueError:
        raise InvalidArgument(f"{field}: invalid time {s!r} (use a timestamp, a Unix time or a duration "
                              "like 10m)", field=field) from None


def read(path: str, *, tail: int | None = None, since: float | None = None, until: float | None = None,
         timestamps: bool = False, follow: bool = False, still_running: Callable[[], bool] | None = None,
         out: Callable[[str, bytes], None] | None = None) -> None:
    if out is None:
        def out(stream: str, data: bytes) -> None:
            f = sys.stdout.buffer if stream == "stdout" else sys.stderr.buffer
            f.write(data)
            f.flush()

    def emit(e: Entry) -> None:
        if since is not None and e.epoch < since:
            return
        if until is not None and e.epoch > until:
            return
        out(e.stream, (docker_ts(e.time).encode() + b" " if timestamps else b"") + e.data)

    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        data = f.read()
        pos = data.rfind(b"\n") + 1
        complete = data[:pos].splitlines(keepends=True)
        ents = list(entries(iter(complete)))
        if tail is not None and tail >= 0:
            ents = ents[-tail:] if tail else []
        for e in ents:
            emit(e)
        if not follow:
            return
        f.seek(pos)
        buf = b""
        idle = 0
        while True:
            chunk = f.read()
            if chunk:
                buf += chunk
                idle = 0
                *lines, buf = buf.split(b"\n")
                for e in entries(iter(ln + b"\n" for ln in lines)):
                    emit(e)
                continue
            if still_running is not None and not still_running():
                idle += 1
                if idle > 2:
                    return
            time.sleep(0.1)
            if os.path.getsize(path) < f.tell():  # rotated/truncated
                f.seek(0)
