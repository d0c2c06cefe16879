"""File locks (flock) under <runroot>/locks. Concurrent `berth` invocations on one host are
normal (Pulumi runs resources in parallel): every read-modify-write of shared state happens
under the lock named after what it protects."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.context import Context


@contextmanager
def locked(ctx: Context, name: str, shared: bool = False) -> Iterator[None]:
    """Hold the lock `name` (e.g. "images", "container-<id>", "network-ipam")."""
    path = ctx.locks_dir / (name.replace("/", "_") + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
