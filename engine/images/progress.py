"""Pull/push progress: per-layer lines redrawn in place on a terminal; docker-like status
lines otherwise; nothing when quiet."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def _size(n: float) -> str:
    for u in ("B", "kB", "MB", "GB"):
        if n < 1000 or u == "GB":
            return f"{n:.3g}{u}" if u != "B" else f"{int(n)}B"
        n /= 1000.0
    return f"{n:.3g}GB"


class Progress:
    def __init__(self, quiet: bool = False, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.tty = (not quiet) and self.out.isatty()
        self.lock = threading.Lock()
        self.order: list[str] = []
        self.state: dict[str, str] = {}
        self.drawn = 0
        self.last = 0.0

    def line(self, text: str) -> None:
        """A line outside the per-layer block (e.g. 'Digest: ...')."""
        if self.quiet:
            return
        with self.lock:
            self._redraw(force=True)
            self.out.write(text + "\n")
            self.out.flush()
            self.order, self.state, self.drawn = [], {}, 0

    def update(self, key: str, status: str, done: int | None = None, total: int | None = None) -> None:
        if self.quiet:
            return
        with self.lock:
            if key not in self.state:
                self.order.append(key)
            text = status
            if done is not None and total:
                width = 30
                filled = min(width, int(width * done / total))
                text = f"{status} [{'=' * max(filled - 1, 0)}{'>' if filled else ''}{' ' * (width - filled)}] " \
                       f"{_size(done)}/{_size(total)}"
            changed = self.state.get(key, "").split(" [")[0] != status
            self.state[key] = text
            if self.tty:
                self._redraw(force=changed)
            elif changed and done is None:
                self.out.write(f"{key}: {status}\n")
                self.out.flush()

    def _redraw(self, force: bool = False) -> None:
        if not self.tty or not self.order:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        buf = []
        if self.drawn:
            buf.append(f"\x1b[{self.drawn}A")
        for k in self.order:
            buf.append(f"\x1b[2K{k}: {self.state[k]}\n")
        self.drawn = len(self.order)
        self.out.write("".join(buf))
        self.out.flush()
