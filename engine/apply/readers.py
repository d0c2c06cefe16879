"""kinds `exec` (container_exec), `info` (*_info, host_info) and `prune`."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from engine.errors import BerthError, InvalidArgument

if TYPE_CHECKING:
    from engine.context import Context


def _res(changed: bool, actions: list[str], resource: Any = None, **extra: Any) -> dict[str, Any]:
    return {"changed": changed, "actions": actions, "diff": {"before": {}, "after": {}},
            "resource": resource, "warnings": [], **extra}


def handle(ctx: Context, kind: str, spec: Any, state: str, check: bool, edge: Any = None) -> dict[str, Any]:
    if state != "present":
        raise InvalidArgument(f"state: kind {kind} takes no state (got {state!r})", field="state")
    if edge is None:
        from engine.apply.edge import ContainerEdge

        edge = ContainerEdge(ctx)
    if kind == "exec":
        return do_exec(edge, spec, check)
    if kind == "info":
        return do_info(ctx, edge, spec)
    return do_prune(ctx, edge, spec, check)


# ------------------------------------------------------------------------------------- exec
def do_exec(edge: Any, spec: Any, check: bool) -> dict[str, Any]:
    if (spec.command is None) == (spec.argv is None):
        raise InvalidArgument("spec.command: give exactly one of command and argv", field="spec.command")
    try:
        argv = shlex.split(spec.command) if spec.command is not None else list(spec.argv)
    except ValueError as e:
        raise InvalidArgument(f"spec.command: invalid value {spec.command!r}: {e}", field="spec.command") from None
    if not argv:
        raise InvalidArgument("spec.argv: the command is empty", field="spec.argv")
    data: bytes | None = None
    if spec.stdin is not None:
        if spec.detach:
            raise InvalidArgument("spec.stdin: cannot be given with detach: true", field="spec.stdin")
        if spec.tty:
            raise InvalidArgument("spec.stdin: cannot be given with tty: true", field="spec.stdin")
        text = spec.stdin + ("\n" if spec.stdin_add_newline else "")
        data = text.encode()
    live = edge.container(spec.container)
    if live is None:
        raise BerthError(f"spec.container: no such container {spec.container!r}", field="spec.container")
    if not (live.get("State") or {}).get("Running"):
        raise BerthError(f"spec.container: container {spec.container!r} is not running", field="spec.container")
    if check:
        return _res(True, ["executed"])
    env = [f"{k}={v}" for k, v in (spec.env or {}).items()]
    kw: dict[str, Any] = {"input": data} if data is not None else {}
    out = edge.exec_run(live["Id"], cmd=argv, env=env or None, user=spec.user, workdir=spec.chdir,
                        tty=spec.tty, detach=spec.detach, **kw)
    if spec.detach:
        exec_id = out.get("Id") if isinstance(out, dict) else out
        return _res(True, ["executed"], exec_id=exec_id)
    rc, stdout, stderr = _exec_output(out)
    if spec.strip_empty_ends:
        stdout, stderr = stdout.rstrip("\r\n"), stderr.rstrip("\r\n")
    return _res(True, ["executed"], rc=rc, stdout=stdout, stderr=stderr)


def _exec_output(out: Any) -> tuple[int, str, str]:
    def s(x: Any) -> str:
        return x.decode(errors="replace") if isinstance(x, bytes) else (x or "")

    if isinstance(out, dict):
        return int(out.get("ExitCode", out.get("rc", 0))), s(out.get("stdout")), s(out.get("stderr"))
    if isinstance(out, tuple | list):
        rc = int(out[0])
        return rc, s(out[1]) if len(out) > 1 else "", s(out[2]) if len(out) > 2 else ""
    return int(getattr(out, "exit_code", getattr(out, "returncode", 0))), s(getattr(out, "stdout", "")), \
        s(getattr(out, "stderr", ""))


# ------------------------------------------------------------------------------------- info
def do_info(ctx: Context, edge: Any, spec: Any) -> dict[str, Any]:
    t = spec.type
    if t in ("container", "network", "volume"):
        if not spec.name:
            raise InvalidArgument(f"spec.name: required for type {t}", field="spec.name")
        if t == "container":
            res = edge.container(spec.name)
        elif t == "network":
            from engine.apply.edge import NetworkEdge

            res = NetworkEdge(ctx).network(spec.name)
        else:
            from engine.apply.edge import VolumeEdge

            res = VolumeEdge(ctx).volume(spec.name)
        return _res(False, [], res, exists=res is not None)
    if t == "image":
        names = list(spec.names or []) + ([spec.name] if spec.name else [])
        images = []
        for name in names:
            img = edge.inspect(name)
            if img is not None:
                images.append(img)
        return _res(False, [], None, images=images)
    # host
    containers = edge.list_containers() if _has(ctx, "engine.containers.api") else []
    images = edge.list_all()
    host_info = _host_info(containers, images)
    extra: dict[str, Any] = {"host_info": host_info}
    if spec.containers:
        extra["containers"] = [c for c in containers
                               if spec.containers_all or (c.get("State") or {}).get("Running")]
    if spec.images:
        extra["images"] = images
    if spec.networks:
        from engine.apply.edge import NetworkEdge

        extra["networks"] = NetworkEdge(ctx).list_all()
    if spec.volumes:
        from engine.apply.edge import VolumeEdge

        extra["volumes"] = VolumeEdge(ctx).list_all()
    return _res(False, [], None, **extra)


def _has(ctx: Context, module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _host_info(containers: list[dict], images: list[dict]) -> dict[str, Any]:
    import os
    import platform

    from engine import __version__

    running = sum(1 for c in containers if (c.get("State") or {}).get("Running"))
    return {"Name": platform.node(), "ServerVersion": __version__, "Driver": "overlay",
            "Containers": len(containers), "ContainersRunning": running,
            "ContainersStopped": len(containers) - running, "Images": len(images),
            "OperatingSystem": _os_name(), "OSType": "linux", "Architecture": platform.machine(),
            "KernelVersion": platform.release(), "NCPU": os.cpu_count(), "LoggingDriver": "k8s-file",
            "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"}


def _os_name() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


# ------------------------------------------------------------------------------------- prune
def _label_filter(filters: dict[str, Any] | None, field: str) -> Any:
    flt = dict(filters or {})
    labels = flt.pop("label", None)
    dangling = flt.pop("dangling", None)
    if flt:
        k = sorted(flt)[0]
        raise InvalidArgument(f"{field}.{k}: filter {k!r} is not supported by Berth (label, dangling)",
                              field=f"{field}.{k}")
    want = [labels] if isinstance(labels, str) else list(labels or [])

    def ok(obj_labels: dict[str, str] | None) -> bool:
        obj_labels = obj_labels or {}
        for w in want:
            k, eq, v = str(w).partition("=")
            if k not in obj_labels or (eq and obj_labels[k] != v):
                return False
        return True

    return ok, dangling


def _predict_image_prune(imgs: list[dict[str, Any]], used: set[Any], all: bool, select: Any
                         ) -> tuple[list[str], int]:
    """What engine.images.api.prune would delete (check mode), by playing its steps on the
    image list: chosen images lose their tags; an image with no tags and no children left is
    deleted, then its untagged parents that nothing else builds on."""
    by_id = {i["Id"]: i for i in imgs}
    tags = {i["Id"]: set(i.get("RepoTags") or []) for i in imgs}
    children: dict[str, set[str]] = {}
    for i in imgs:
        if i.get("Parent"):
            children.setdefault(i["Parent"], set()).add(i["Id"])
    parents = set(children)
    chosen = [i for i in imgs if not (not i.get("RepoTags") and i["Id"] in parents)
              and (all or not i.get("RepoTags")) and i["Id"] not in used and select(i)]
    deleted: list[str] = []
    for img in chosen:
        if img["Id"] in deleted:
            continue
        tags[img["Id"]] = set()
        cur: dict[str, Any] | None = img
        while cur is not None and not tags[cur["Id"]] and not children.get(cur["Id"]) and cur["Id"] not in used \
                and (cur is img or not cur.get("RepoDigests")):
            deleted.append(cur["Id"])
            parent = cur.get("Parent") or ""
            if parent in children:
                children[parent].discard(cur["Id"])
            cur = by_id.get(parent)
    return deleted, sum(int(by_id[d].get("Size") or 0) for d in deleted)


def do_prune(ctx: Context, edge: Any, spec: Any, check: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    actions: list[str] = []
    if spec.containers:
        ok, _ = _label_filter(spec.containers_filters, "spec.containers_filters")
        gone = []
        for c in edge.list_containers():
            st = c.get("State") or {}
            if st.get("Running") or st.get("Status") in ("running", "paused", "restarting"):
                continue
            if not ok((c.get("Config") or {}).get("Labels")):
                continue
            gone.append(c["Id"])
            if not check:
                edge.remove(c["Id"], force=False, volumes=False)
        out["containers"] = gone
        out["containers_space_reclaimed"] = 0
    if spec.images:
        ok, dangling = _label_filter(spec.images_filters, "spec.images_filters")
        only_dangling = dangling is None or str(dangling).lower() in ("true", "1", "yes")
        used = {c.get("Image") for c in edge.list_containers()} if _has(ctx, "engine.containers.api") else set()

        def select(img: Any) -> bool:  # engine.images Image, or an inspect document
            cfg = img.get("Config") if isinstance(img, dict) else (img.config or {}).get("config")
            return ok((cfg or {}).get("Labels"))

        if check:
            gone, reclaimed = _predict_image_prune(edge.list_all_images(), used, not only_dangling, select)
        else:
            res = edge.prune_images(all=not only_dangling, select=select)
            gone = [e["Deleted"] for e in res.get("ImagesDeleted") or [] if "Deleted" in e]
            reclaimed = int(res.get("SpaceReclaimed") or 0)
        out["images"] = gone
        out["images_space_reclaimed"] = reclaimed
    if spec.networks:
        from engine.apply.edge import NetworkEdge

        ok, _ = _label_filter(spec.networks_filters, "spec.networks_filters")
        nedge = NetworkEdge(ctx)
        gone = []
        for net in nedge.list_all():
            if net.get("Name") in ("bridge", "host", "none") or net.get("Containers"):
                continue
            if not ok(net.get("Labels")):
                continue
            gone.append(net["Name"])
            if not check:
                nedge.remove(net["Name"])
        out["networks"] = gone
    if spec.volumes:
        from engine.apply.edge import VolumeEdge

        ok, _ = _label_filter(spec.volumes_filters, "spec.volumes_filters")
        vedge = VolumeEdge(ctx)
        in_use = set()
        for c in edge.list_containers() if _has(ctx, "engine.containers.api") else []:
            for m in c.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Name"):
                    in_use.add(m["Name"])
        gone = []
        for v in vedge.list_all():
            if v["Name"] in in_use or not ok(v.get("Labels")):
                continue
            # like `docker volume prune` without --all: anonymous volumes only
            if "com.docker.volume.anonymous" not in (v.get("Labels") or {}):
                continue
            gone.append(v["Name"])
            if not check:
                vedge.remove(v["Name"])
        out["volumes"] = gone
        out["volumes_space_reclaimed"] = 0
    if spec.builder_cache:
        out["builder_cache_space_reclaimed"] = 0
    removed = any(out.get(k) for k in ("containers", "images", "networks", "volumes"))
    if removed:
        actions.append("pruned")
    return _res(removed, actions, None, **out)
