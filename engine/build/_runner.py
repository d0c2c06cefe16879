"""How a RUN step executes.

`run(...)` uses the containers area's `engine.containers.oneshot.run_step`: the same runtime
path as `berth run` (its OCI spec with Docker's capabilities and seccomp profile, the network
set up by the networks area: bridge by default, `none`, `host`; `--add-host` entries).
`_fallback_run_step` below is a minimal stand-in kept only for an engine without that module
(or BERTH_BUILD_OWN_RUNNER=1 when debugging): runc in the foreground on an overlay, `none` or
`host` networking, Docker's default capabilities, no seccomp profile.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING

from engine.build.fsutil import lookup_user, mounted_overlay
from engine.errors import InvalidArgument, RuntimeFailure

if TYPE_CHECKING:
    from engine.context import Context

DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def run(ctx: Context, *, lower_dirs: list[Path], upper_dir: Path, args: list[str], env: list[str], cwd: str,
        user: str, network_mode: str, shell_out: IO[str] | None,
        extra_hosts: list[tuple[str, str]] | None = None) -> int:
    if not lower_dirs:  # FROM scratch: overlay needs one lower dir
        empty = upper_dir.parent / "empty-lower"
        empty.mkdir(exist_ok=True)
        lower_dirs = [empty]
    try:
        from engine.containers.oneshot import run_step  # type: ignore[import-not-found]
    except ImportError:
        run_step = None
    if run_step is not None and extra_hosts and "extra_hosts" not in inspect.signature(run_step).parameters:
        run_step = None  # only the stand-in can add /etc/hosts entries (etc_hosts of berth apply)
    if run_step is not None and not os.environ.get("BERTH_BUILD_OWN_RUNNER"):
        if network_mode == "default":
            network_mode = "bridge"  # what `docker build` does
        kw = {"extra_hosts": extra_hosts} if extra_hosts else {}
        return int(run_step(ctx, lower_dirs=lower_dirs, upper_dir=upper_dir, args=args, env=env, cwd=cwd,
                            user=user, network_mode=network_mode, shell_out=shell_out, **kw))
    if network_mode == "default":
        network_mode = "host"  # the stand-in has no bridge: see the module docstring
    return _fallback_run_step(ctx, lower_dirs=lower_dirs, upper_dir=upper_dir, args=args, env=env, cwd=cwd,
                              user=user, network_mode=network_mode, shell_out=shell_out,
                              extra_hosts=extra_hosts or [])


def _spec(rootfs: Path, args: list[str], env: list[str], cwd: str, uid: int, gid: int, network_mode: str,
          hosts: Path, resolv: Path) -> dict:
    ns = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if network_mode != "host":
        ns.append({"type": "network"})
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/etc/hosts", "type": "bind", "source": str(hosts), "options": ["rbind", "ro"]},
        {"destination": "/etc/resolv.conf", "type": "bind", "source": str(resolv), "options": ["rbind", "ro"]},
    ]
    return {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": uid, "gid": gid}, "args": args, "env": env,
                    "cwd": cwd or "/", "noNewPrivileges": False,
                    "capabilities": {k: DEFAULT_CAPS for k in ("bounding", "effective", "permitted")},
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024 * 16, "soft": 1024 * 16}]},
        "root": {"path": str(rootfs), "readonly": False},
        "hostname": "buildkitsandbox",
        "mounts": mounts,
        "linux": {"namespaces": ns,
                  "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
                  "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]},
    }


def _fallback_run_step(ctx: Context, *, lower_dirs: list[Path], upper_dir: Path, args: list[str], env: list[str],
                       cwd: str, user: str, network_mode: str, shell_out: IO[str] | None,
                       extra_hosts: list[tuple[str, str]]) -> int:
    """TO BE REPLACED by engine.containers.oneshot.run_step (see the module docstring)."""
    if network_mode not in ("none", "host"):
        raise InvalidArgument(f"--network={network_mode!r}: this build runner supports none and host",
                              field="network")
    base = upper_dir.parent
    with mounted_overlay(lower_dirs, base) as ov:
        if ov.upper != upper_dir:
            raise RuntimeFailure("build runner: the upper dir must be <base>/upper")
        uid, gid, _home = lookup_user(ov.merged, user) if user else (0, 0, "/")
        hosts, resolv = base / "hosts", base / "resolv.conf"
        hosts.write_text("127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                         + "".join(f"{ip}\t{name}\n" for name, ip in extra_hosts))
        try:
            resolv.write_bytes(Path("/etc/resolv.conf").read_bytes() if network_mode == "host" else b"")
        except OSError:
            resolv.write_text("")
        # runc needs the mount points; note which ones we add so they do not end up in the layer
        made: list[Path] = []
        for rel, is_dir in (("proc", True), ("dev", True), ("sys", True), ("etc", True),
                            ("etc/hosts", False), ("etc/resolv.conf", False)):
            p = ov.merged / rel
            if not os.path.lexists(p):
                (p.mkdir if is_dir else p.touch)()
                made.append(Path(rel))
        bundle = base / "bundle"
        bundle.mkdir(exist_ok=True)
        spec = _spec(ov.merged, args, env, cwd, uid, gid, network_mode, hosts, resolv)
        (bundle / "config.json").write_text(json.dumps(spec))
        cid = "berth-build-" + uuid.uuid4().hex[:12]
        runc_root = ctx.runroot / "runc"
        runc_root.mkdir(parents=True, exist_ok=True)
        cmd = [ctx.config.runtime, "--root", str(runc_root), "run", "--bundle", str(bundle), cid]
        out = shell_out if shell_out is not None else sys.stdout
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            assert p.stdout is not None
            for chunk in iter(lambda: p.stdout.read1(65536), b""):  # type: ignore[union-attr]
                out.write(chunk.decode(errors="replace"))
                out.flush()
            rc = p.wait()
        finally:
            subprocess.run([ctx.config.runtime, "--root", str(runc_root), "delete", "-f", cid],
                           capture_output=True)
    _drop_mount_points(upper_dir, made)
    return rc


def _drop_mount_points(upper: Path, made: list[Path]) -> None:
    """Remove the mount points runc needed from the upper dir, and parent dirs that overlay only
    copied up because of them (empty, not opaque)."""
    parents = set()
    for rel in reversed(made):
        p = upper / rel
        try:
            if p.is_dir() and not p.is_symlink():
                p.rmdir()
            else:
                p.unlink()
        except OSError:
            pass
        if rel.parent != Path("."):
            parents.add(rel.parent)
    for rel in sorted(parents, key=lambda r: -len(r.parts)):
        p = upper / rel
        try:
            if p.is_dir() and not any(p.iterdir()) and not _opaque(p):
                p.rmdir()
        except OSError:
            pass


def _opaque(p: Path) -> bool:
    try:
        return os.getxattr(p, "trusted.overlay.opaque") == b"y"
    except OSError:
        return False
