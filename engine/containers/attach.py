"""Foreground `run`: stream the container's stdout and stderr (kept apart) from conmon's
attach socket, forward our stdin when asked, and proxy signals to the container.

conmon's attach socket is SOCK_SEQPACKET; each packet from conmon starts with one byte naming
the stream (2 stdout, 3 stderr); what we write is the container's stdin."""

from __future__ import annotations

import os
import select
import socket
import sys
from pathlib import Path

STDOUT, STDERR = 2, 3


def connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # the path can be longer than sun_path; connect through /proc/self/fd of the directory
    dfd = os.open(str(path.parent), os.O_PATH)
    try:
        s.connect(f"/proc/self/fd/{dfd}/{path.name}")
    finally:
        os.close(dfd)
    return s


def pump(sock: socket.socket, stdin: bool, tty: bool) -> None:
    """Copy until conmon closes the socket (the container exited)."""
    out = sys.stdout.buffer
    err = sys.stderr.buffer
    fds = [sock.fileno()]
    in_fd = sys.stdin.fileno() if stdin else -1
    if in_fd >= 0:
        fds.append(in_fd)
    old_tty = None
    if tty and stdin and os.isatty(in_fd):
        import termios
        import tty as ttymod

        old_tty = termios.tcgetattr(in_fd)
        ttymod.setraw(in_fd)
    try:
        while True:
            r, _, _ = select.select(fds, [], [])
            if sock.fileno() in r:
                try:
                    data = sock.recv(8193)
                except ConnectionResetError:
                    data = b""
                if not data:
                    return
                target = err if data[0] == STDERR else out
                target.write(data[1:])
                target.flush()
            if in_fd >= 0 and in_fd in r:
                chunk = os.read(in_fd, 8192)
                if not chunk:
                    fds.remove(in_fd)
                    in_fd = -1
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                sock.sendall(chunk)
    finally:
        if old_tty is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, old_tty)
