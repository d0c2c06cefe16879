"""Build steps: one process on a throwaway overlay of given layers, runc in the foreground (no
conmon, no record), output streamed, everything unmounted afterwards. The spec is the same
secure default as `berth run`'s (capabilities, masked paths, seccomp)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.containers import deps, rootfs, runtime, spec, users
from engine.errors import BerthError, InvalidArgument
from engine.util.fs import atomic_write, atomic_write_json

if TYPE_CHECKING:
    from engine.context import Context

# mount points runc may have to create in the rootfs; removed from the upper dir afterwards
_MOUNT_POINTS = ["proc", "dev", "sys", "etc", "etc/hosts", "etc/resolv.conf", "etc/hostname"]


def run_step(ctx: Context, *, lower_dirs: list[Path], upper_dir: Path, args: list[str], env: list[str], cwd: str,
             user: str, network_mode: str, shell_out: IO[str] | None = None,
             extra_hosts: list[tuple[str, str]] | None = None) -> int:
    """`extra_hosts`: (name, ip) lines added to the step's /etc/hosts (`build --add-host`)."""
    if not args:
        raise InvalidArgument("RUN: no command given", field="Cmd")
    if network_mode in ("", "default"):
        network_mode = "bridge"
    base = upper_dir.parent
    work = base / "work"
    merged = base / "merged"
    sid = "build-" + secrets.token_hex(12)
    rec: dict[str, Any] = {
        "Id": sid, "Name": "/" + sid, "Path": args[0], "Args": args[1:],
        "Config": {"Hostname": "buildkitsandbox", "Domainname": "", "Env": list(env), "WorkingDir": cwd or "/",
                   "Tty": False, "ExposedPorts": None},
        "HostConfig": {"NetworkMode": network_mode, "PortBindings": {}, "PublishAllPorts": False,
                       "ExtraHosts": [f"{name}:{ip}" for name, ip in extra_hosts or []]},
        "NetworkingConfig": {"EndpointsConfig": {}},
    }
    netdir = ctx.containers_dir / sid
    made: list[str] = []
    rootfs.mount_overlay([str(p) for p in lower_dirs], upper_dir, work, merged)
    net_done = False
    try:
        for rel in _MOUNT_POINTS:
            if not os.path.lexists(merged / rel):
                made.append(rel)
        u = users.resolve(merged, user or "")
        if cwd:
            from engine.containers.paths import secure_join

            wd = secure_join(merged, cwd)
            if not wd.exists():
                wd.mkdir(parents=True, exist_ok=True)
        netdir.mkdir(parents=True, exist_ok=True)
        atomic_write(netdir / "hostname", "buildkitsandbox\n")
        if network_mode == "host":
            netns: str | None = None
            settings: dict[str, Any] = {}
            shutil.copyfile("/etc/hosts", netdir / "hosts")
            if extra_hosts:
                with open(netdir / "hosts", "a") as f:
                    f.write("".join(f"{ip}\t{name}\n" for name, ip in extra_hosts))
            shutil.copyfile("/etc/resolv.conf", netdir / "resolv.conf")
        else:
            settings = deps.network_setup(ctx, rec)
            net_done = True
            netns = settings.get("SandboxKey") or ""
        facts = spec.HostFacts(cgroup_v2=os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
                               seccomp_profile=ctx.config.seccomp_profile)
        inp = spec.SpecInputs(record=rec, rootfs=str(merged), user=u, netns=netns,
                              hostname_file=str(netdir / "hostname"),
                              hosts_file=str(netdir / "hosts") if (netdir / "hosts").exists() else None,
                              resolv_file=str(netdir / "resolv.conf") if (netdir / "resolv.conf").exists() else None,
                              cgroups_path=f"/berth/{sid}")
        s = spec.build(inp, facts, [])
        atomic_write_json(netdir / "config.json", s)
        ctx.runc_root.mkdir(parents=True, exist_ok=True)
        out = shell_out if shell_out is not None else sys.stdout
        p = subprocess.Popen([*runtime.runc_argv(ctx), "run", "--bundle", str(netdir), sid],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert p.stdout is not None
            for chunk in iter(lambda: p.stdout.read1(65536), b""):  # type: ignore[union-attr]
                out.write(chunk.decode(errors="replace"))
                out.flush()
            rc = p.wait()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            runtime.delete(ctx, sid)
    finally:
        if net_done:
            try:
                deps.network_teardown(ctx, rec)
            except BerthError:
                pass
        rootfs.umount(merged)
        shutil.rmtree(netdir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        _drop_mount_points(upper_dir, made)
    return rc


def _drop_mount_points(upper: Path, made: list[str]) -> None:
    """Remove the mount points runc created, and parents overlay copied up only for them."""
    parents = {os.path.dirname(r) for r in made if "/" in r}
    for rel in sorted(set(made) | parents, key=lambda r: -r.count("/")):
        if rel in parents and rel not in made:
            try:
                if os.getxattr(upper / rel, "trusted.overlay.opaque") == b"y":
                    continue
            except OSError:
                pass
        p = upper / rel
        try:
            if p.is_dir() and not p.is_symlink():
                if not any(p.iterdir()):
                    p.rmdir()
            elif p.exists() and p.stat().st_size == 0:
                p.unlink()
        except OSError:
            pass
