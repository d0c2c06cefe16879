"""Atomic file writes. Readers never see a half-written file: write a temp file in the same
directory, fsync it, rename it over the target."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike[str], data: bytes | str, mode: int = 0o644, durable: bool = True) -> None:
    """`durable=False` skips the fsync (still atomic for readers; after a power loss the file may
    be empty): for state that is worthless after a crash anyway."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    # a unique name beside the target (what tempfile.mkstemp does, without importing it)
    tmp = str(path.parent / f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: str | os.PathLike[str], obj: Any, mode: int = 0o644, durable: bool = True) -> None:
    atomic_write(path, json.dumps(obj, indent=1, sort_keys=True) + "\n", mode, durable)


def read_json(path: str | os.PathLike[str], default: Any = None) -> Any:
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except FileNotFoundError:
        return default
