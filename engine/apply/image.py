"""kind `image`: docker_image (operation `present`) and the single-purpose docker_image_*
operations. Each plans from the local store first and acts only outside check mode."""

from __future__ import annotations

import os
from typing import Any

from engine.apply.compare import DifferenceTracker
from engine.errors import BerthError, InvalidArgument


def _ref(name: str, tag: str | None, field: str = "spec.name") -> str:
    """name[:tag] → normalised reference; `tag` applies only when name carries none."""
    from engine.images import reference as refmod

    try:
        r = refmod.parse(name, default_tag=False)
        if not r.tag and not r.digest:
            r = r.with_tag(tag or "latest")
        return str(r)
    except InvalidArgument as e:
        raise InvalidArgument(f"{field}: invalid value {name!r}: {e.message}", field=field) from None


def _target(repo: str, tag: str | None, field: str) -> str:
    return _ref(repo, tag, field)


def _result(actions: list[str], diff: DifferenceTracker, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"changed": bool(actions), "actions": actions, "diff": diff.as_diff(), "resource": resource,
            "warnings": [], **extra}


def archive_entries(path: str) -> list[tuple[str, list[str]]] | None:
    """(image id, repo tags) of each image in a docker-save archive, from its manifest.json;
    None when the file is missing or not such an archive."""
    import json
    import tarfile

    try:
        with tarfile.open(path) as tf:
            f = tf.extractfile("manifest.json")
            manifest = json.load(f) if f else None
    except (OSError, KeyError, tarfile.TarError, ValueError):
        return None
    if not isinstance(manifest, list):
        return None
    out = []
    for m in manifest:
        cfg = str((m or {}).get("Config", ""))
        hexpart = cfg.rsplit("/", 1)[-1].removesuffix(".json")
        out.append(("sha256:" + hexpart, [str(t) for t in (m.get("RepoTags") or [])]))
    return out


def archive_ids(path: str) -> list[str] | None:
    entries = archive_entries(path)
    return None if entries is None else [i for i, _tags in entries]


def load_would_change(edge: Any, path: str) -> bool:
    """Whether loading the archive adds an image or moves a tag (unknown archive: yes)."""
    entries = archive_entries(path)
    if not entries:
        return True
    for image_id, tags in entries:
        if edge.image(image_id) is None:
            return True
        for t in tags:
            cur = edge.image(t)
            if cur is None or cur["Id"] != image_id:
                return True
    return False


def _build_kwargs(spec: Any, ref: str, b: Any, field: str = "spec.build") -> dict[str, Any]:
    path = b.path
    if not os.path.isdir(path):
        raise InvalidArgument(f"{field}.path: {path!r} is not a directory", field=f"{field}.path")
    dockerfile = os.path.join(path, b.dockerfile or "Dockerfile")
    if not os.path.isfile(dockerfile):
        raise InvalidArgument(f"{field}.dockerfile: {dockerfile!r} does not exist", field=f"{field}.dockerfile")
    kw: dict[str, Any] = {"context": path, "tags": [ref]}
    for key, arg in (("dockerfile", "dockerfile"), ("args", "build_args"), ("target", "target"),
                     ("nocache", "nocache"), ("pull", "pull"), ("labels", "labels"), ("network", "network"),
                     ("etc_hosts", "extra_hosts"), ("shm_size", "shm_size"), ("cache_from", "cache_from"),
                     ("platform", "platform")):
        v = getattr(b, key, None)
        if v is not None:
            kw[arg] = {k: str(x) for k, x in v.items()} if key in ("args", "labels") else v
    return kw


def reconcile(edge: Any, op: str, spec: Any, state: str, check: bool) -> dict[str, Any]:
    fn = _OPS[op]
    if op == "present":
        if state not in ("present", "absent"):
            raise InvalidArgument(f"state: invalid image state {state!r} (present, absent)", field="state")
    elif state != "present":
        raise InvalidArgument(f"state: operation {op} takes no state (got {state!r})", field="state")
    return fn(edge, spec, state, check)


def _present(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    ref = _ref(spec.name, spec.tag)
    actions: list[str] = []
    diff = DifferenceTracker()
    have = edge.image(ref)
    if state == "absent":
        if have:
            actions.append(f"removed {ref}")
            diff.add("state", "present", "absent")
            if not check:
                edge.remove_image(ref, force=spec.force_absent)
        return _result(actions, diff, None)

    source = spec.source
    if source is None:
        if have is None:
            raise InvalidArgument(f"spec.source: image {ref!r} is not present; set source "
                                  "(pull, build, load or local)", field="spec.source")
        source = "local"
    if source == "build" and spec.build is None:
        raise InvalidArgument("spec.build: required when source is 'build'", field="spec.build")
    if source == "load" and not spec.load_path:
        raise InvalidArgument("spec.load_path: required when source is 'load'", field="spec.load_path")
    need = have is None or spec.force_source
    existed = have is not None
    if source == "local" and have is None:
        raise BerthError(f"spec.name: image {ref!r} is not present locally (source: local)", field="spec.name")
    if need and source == "pull":
        platform = (spec.pull or {}).get("platform")
        if check:
            if have is None or edge.remote_id(ref, platform) not in (None, have["Id"]):
                actions.append(f"pulled {ref}")
        else:
            new = edge.pull(ref, platform)
            if have is None or new["Id"] != have["Id"]:
                actions.append(f"pulled {ref}")
            have = new
    elif need and source == "build":
        kw = _build_kwargs(spec, ref, spec.build)
        # Reported whenever it runs (a forced rebuild too, even from cache): check mode cannot
        # know a build's result without building, and must report what the real run will.
        actions.append(f"built {ref}")
        if not check:
            new = edge.build(**kw)
            have = edge.image(ref) or new
    elif need and source == "load":
        if not os.path.exists(spec.load_path):
            raise InvalidArgument(f"spec.load_path: {spec.load_path!r} does not exist", field="spec.load_path")
        if not load_would_change(edge, spec.load_path):
            pass
        elif check:
            actions.append(f"loaded {spec.load_path}")
        else:
            actions.append(f"loaded {spec.load_path}")
            edge.load(spec.load_path)
            new = edge.image(ref)
            if new is None:
                raise BerthError(f"spec.load_path: {spec.load_path!r} does not contain {ref!r}",
                                 field="spec.load_path")
            have = new
    if actions and not existed:
        diff.add("state", "absent", "present")
    if spec.repository:
        target = _target(spec.repository, spec.tag, "spec.repository")
        cur = edge.image(target)
        # docker_image: an existing tag is moved only with force_tag
        if cur is None or (spec.force_tag and (have is None or cur["Id"] != have["Id"])):
            actions.append(f"tagged {target}")
            if not check:
                edge.tag(ref, target)
        if spec.push:
            _push_if_needed(edge, target, (have or {}).get("Id"), actions, check)
    elif spec.push:
        _push_if_needed(edge, ref, (have or {}).get("Id"), actions, check)
    if spec.archive_path:
        if have is None or archive_ids(spec.archive_path) != [have["Id"]]:
            actions.append(f"exported {spec.archive_path}")
            if not check:
                edge.save([ref], spec.archive_path)
    resource = None if check and have is None else edge.inspect(ref)
    return _result(actions, diff, resource)


def _pull(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    ref = _ref(spec.name, spec.tag)
    actions: list[str] = []
    diff = DifferenceTracker()
    have = edge.image(ref)
    if have is None:
        diff.add("state", "absent", "present")
    if have is None or spec.pull == "always":
        if check:
            if have is None or edge.remote_id(ref, spec.platform) not in (None, have["Id"]):
                actions.append(f"pulled {ref}")
        else:
            new = edge.pull(ref, spec.platform)
            if have is None or new["Id"] != have["Id"]:
                actions.append(f"pulled {ref}")
    return _result(actions, diff, edge.inspect(ref))


def _push_if_needed(edge: Any, ref: str, image_id: str | None, actions: list[str], check: bool) -> None:
    """Push unless the registry's tag already names this very image (same config digest)."""
    if image_id is not None and edge.remote_id(ref, push=True) == image_id:
        return
    actions.append(f"pushed {ref}")
    if not check:
        edge.push(ref)


def _push(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    ref = _ref(spec.name, spec.tag)
    have = edge.image(ref)
    if have is None:
        raise BerthError(f"spec.name: image {ref!r} is not present locally", field="spec.name")
    actions: list[str] = []
    _push_if_needed(edge, ref, have["Id"], actions, check)
    return _result(actions, DifferenceTracker(), edge.inspect(ref))


def _tag(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    ref = _ref(spec.name, spec.tag)
    have = edge.image(ref)
    if have is None:
        raise BerthError(f"spec.name: image {ref!r} is not present locally", field="spec.name")
    actions: list[str] = []
    diff = DifferenceTracker()
    for i, repo in enumerate(spec.repository):
        target = _target(repo, spec.tag, f"spec.repository.{i}")
        cur = edge.image(target)
        if cur is not None and (cur["Id"] == have["Id"] or spec.existing_tags == "keep"):
            continue
        actions.append(f"tagged {target}")
        diff.add(target, cur["Id"] if cur else None, have["Id"])
        if not check:
            edge.tag(ref, target)
    return _result(actions, diff, edge.inspect(ref), tagged_images=[a.split(" ", 1)[1] for a in actions])


def _remove(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    ref = _ref(spec.name, spec.tag) if not spec.name.startswith("sha256:") else spec.name
    have = edge.image(ref)
    actions: list[str] = []
    diff = DifferenceTracker()
    events: list[dict[str, str]] = []
    if have is not None:
        actions.append(f"removed {ref}")
        diff.add("exists", True, False)
        if not check:
            events = edge.remove_image(ref, force=spec.force, prune=spec.prune) or []
    return _result(actions, diff, None,
                   untagged=[e["Untagged"] for e in events if "Untagged" in e],
                   deleted=[e["Deleted"] for e in events if "Deleted" in e])


def _build(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    ref = _ref(spec.name, spec.tag)
    have = edge.image(ref)
    actions: list[str] = []
    diff = DifferenceTracker()
    if have is None:
        diff.add("state", "absent", "present")
    kw = _build_kwargs(spec, ref, spec, field="spec")
    if have is None or spec.rebuild == "always":
        actions.append(f"built {ref}")  # whenever it runs: check mode cannot know a cached result
        if not check:
            edge.build(**kw)
    return _result(actions, diff, None if check and have is None else edge.inspect(ref))


def _load(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    if not os.path.exists(spec.path):
        raise InvalidArgument(f"spec.path: {spec.path!r} does not exist", field="spec.path")
    entries = archive_entries(spec.path) or []
    names = [t for _i, tags in entries for t in tags] or [i for i, _tags in entries]
    if not load_would_change(edge, spec.path):
        return _result([], DifferenceTracker(), None, image_names=names)
    if not check:
        names = edge.load(spec.path)
    return _result([f"loaded {spec.path}"], DifferenceTracker(), None, image_names=names)


def _export(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    refs = [_ref(x, spec.tag, f"spec.names.{i}") for i, x in enumerate(spec.names)]
    ids = []
    for i, r in enumerate(refs):
        img = edge.image(r)
        if img is None:
            raise BerthError(f"spec.names.{i}: image {r!r} is not present locally", field=f"spec.names.{i}")
        ids.append(img["Id"])
    actions: list[str] = []
    if spec.force or sorted(archive_ids(spec.path) or []) != sorted(ids):
        actions.append(f"exported {spec.path}")
        if not check:
            edge.save(refs, spec.path)
    return _result(actions, DifferenceTracker(), None, images=[{"Id": i, "Name": r} for i, r in zip(ids, refs,
                                                                                                 strict=True)])


_OPS = {"present": _present, "pull": _pull, "push": _push, "tag": _tag, "remove": _remove, "build": _build,
        "load": _load, "export": _export}
