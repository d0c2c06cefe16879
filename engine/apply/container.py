"""Reconcile one container with its spec: plan first (pure, from the live record), then act
unless in check mode, so check mode reports exactly what a real run reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.apply import container_options as co
from engine.apply import normalize as n
from engine.apply.compare import MODES, DifferenceTracker, compare
from engine.errors import BerthError, InvalidArgument, NotFound

UPDATE_KEYS = {"RestartPolicy"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # HostConfig.RestartPolicy.* -> update body "RestartPolicy"


@dataclass
class Plan:
    actions: list[str] = field(default_factory=list)
    diff: DifferenceTracker = field(default_factory=DifferenceTracker)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def _mode_for(name: str, comparisons: dict[str, str], default: str) -> str:
    return comparisons.get(name) or comparisons.get("*") or default


def desired_values(spec: Any) -> dict[str, Any]:
    """The API value of every option the user set, validated (InvalidArgument names the field)."""
    out: dict[str, Any] = {}
    data = spec.model_dump(exclude_none=True, exclude_unset=False)
    env_file = data.get("env_file")
    if env_file is not None:
        try:
            with open(env_file, encoding="utf-8") as f:
                file_env = n.parse_env_file(f.read())
        except OSError as e:
            raise InvalidArgument(f"spec.env_file: cannot read {env_file!r}: {e.strerror}",
                                  field="spec.env_file") from None
        except ValueError as e:
            raise InvalidArgument(f"spec.env_file: {env_file!r}: {e}", field="spec.env_file") from None
        data["env"] = {**file_env, **data.get("env", {})}
    for opt in co.OPTIONS:
        if opt.name not in data:
            continue
        value = data[opt.name]
        try:
            out[opt.name] = opt.convert(value)
        except (ValueError, TypeError) as e:
            raise InvalidArgument(f"spec.{opt.name}: invalid value {value!r}: {e}",
                                  field=f"spec.{opt.name}") from None
    policy = data.get("restart_policy")
    if data.get("restart_retries") and policy is not None and policy != "on-failure":
        raise InvalidArgument(f"spec.restart_retries: {data['restart_retries']!r} needs restart_policy "
                              f"'on-failure' (got {policy!r})", field="spec.restart_retries")
    if out.get("published_ports") == {"all": True}:
        if data.get("publish_all_ports") is False:
            raise InvalidArgument("spec.published_ports: 'all' contradicts publish_all_ports: false",
                                  field="spec.published_ports")
        del out["published_ports"]
        out["publish_all_ports"] = True
    return out


def check_comparisons(comparisons: dict[str, str]) -> None:
    for key, mode in comparisons.items():
        if key not in co.BY_NAME and key not in ("*", "image"):
            raise InvalidArgument(f"spec.comparisons.{key}: unknown option {key!r} to compare",
                                  field=f"spec.comparisons.{key}")
        if mode not in MODES or (key == "image" and mode == "allow_more_present"):
            raise InvalidArgument(f"spec.comparisons.{key}: invalid comparison {mode!r}",
                                  field=f"spec.comparisons.{key}")


def create_body(image: str, desired: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"Image": image, "HostConfig": {}}
    for name, value in desired.items():
        co.BY_NAME[name].body(value, body)
    return body


def differences(desired: dict[str, Any], live: dict, image_config: dict,
                comparisons: dict[str, str]) -> DifferenceTracker:
    """Options the user set whose live value does not satisfy them."""
    diff = DifferenceTracker()
    for name, want_api in desired.items():
        opt = co.BY_NAME[name]
        mode = _mode_for(name, comparisons, opt.comparison)
        if mode == "ignore":
            continue
        have_api = opt.live(live)
        if name in co.IMAGE_MERGED and mode == "strict":
            base = opt.canon(image_config.get(co.IMAGE_MERGED[name]) or [], image_config)
            if name == "env" and "PATH" not in base:
                base["PATH"] = DEFAULT_PATH  # the engine (like Docker) adds it when the image has none
            want = {**base, **opt.canon(want_api, image_config)}
        else:
            want = opt.canon(want_api, image_config)
        have = opt.canon(have_api, image_config)
        ok = opt.matches(want, have, mode) if opt.matches else compare(want, have, mode, opt.datatype)
        if not ok:
            diff.add(name, have, want)
    return diff


def update_body(desired: dict[str, Any], names: list[str], live: dict) -> dict[str, Any]:
    """Docker's update body for the in-place options among `names`."""
    body: dict[str, Any] = {}
    for name in names:
        opt = co.BY_NAME[name]
        key = opt.path.split(".")[1]  # HostConfig.<Key>[.<Sub>]
        if key in UPDATE_KEYS:
            cur = dict(co.get_path(live, f"HostConfig.{key}") or {})
            cur.update(body.get(key, {}))
            sub = opt.path.split(".")[2]
            cur[sub] = desired[name]
            if cur.get("Name") not in (None, "", "on-failure"):
                cur["MaximumRetryCount"] = 0  # Docker refuses a retry count with other policies
            body[key] = cur
        else:
            body[key] = desired[name]
    return body


def network_changes(desired: dict[str, dict], live: dict, mode: str) -> list[tuple[str, str, dict]] | None:
    """Connect/disconnect steps that bring a container's networks in line without recreating it,
    or None when only a recreate can (the primary network changes, or host/none/container: mode)."""
    opt = co.BY_NAME["networks"]
    primary = co.get_path(live, "HostConfig.NetworkMode") or "bridge"
    if primary in ("host", "none") or primary.startswith("container:"):
        return None
    have_api = opt.live(live)
    have = opt.canon(have_api, {})
    want = opt.canon(desired, {})
    ops: list[tuple[str, str, dict]] = []
    for name, ep in desired.items():
        if name not in have:
            ops.append(("connect", name, ep))
        elif not opt.matches({name: want[name]}, {name: have[name]}, "allow_more_present"):
            if name == primary:
                return None
            ops += [("disconnect", name, {}), ("connect", name, ep)]
    if mode == "strict":
        for name in have:
            if name not in desired:
                if name == primary:
                    return None
                ops.append(("disconnect", name, {}))
    return ops


def _status(live: dict | None) -> str:
    if not live:
        return "absent"
    st = live.get("State") or {}
    return st.get("Status") or ("running" if st.get("Running") else "created")


def _is_image_id(s: str) -> bool:
    h = s.removeprefix("sha256:")
    return (s.startswith("sha256:") or len(h) == 64) and 12 <= len(h) <= 64 and \
        all(c in "0123456789abcdef" for c in h)


def _pull_policy(p: Any) -> str:
    if p is True:
        return "always"
    if p is False or p is None:
        return "missing"
    return p


def reconcile(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    if state not in ("absent", "present", "stopped", "started", "healthy"):
        raise InvalidArgument(f"state: invalid container state {state!r} "
                              "(absent, present, stopped, started, healthy)", field="state")
    name = spec.name
    comparisons = dict(spec.comparisons or {})
    check_comparisons(comparisons)
    desired = desired_values(spec)
    plan = Plan()
    live = edge.container(name)
    before_status = _status(live)

    if state == "absent":
        if live:
            plan.actions.append("removed")
            plan.diff.add("state", before_status, "absent")
            if not check:
                _stop(edge, live, spec)
                edge.remove(live["Id"], force=True, volumes=spec.keep_volumes is False)
        return _result(plan, None)

    # ---- the image
    image_ref = None
    image = None
    by_id = spec.image is not None and _is_image_id(spec.image)
    if spec.image is not None and not by_id:
        try:
            image_ref = n.image_ref(spec.image)
        except ValueError as e:
            raise InvalidArgument(f"spec.image: invalid value {spec.image!r}: {e}", field="spec.image") \
                from None
    elif by_id:
        image_ref = spec.image
    elif live is None:
        raise InvalidArgument(f"spec.image: required to create container {name!r}", field="spec.image")
    if image_ref is not None:
        image = edge.image(image_ref)
        policy = "never" if by_id else _pull_policy(spec.pull)
        if image is None and policy == "never":
            raise BerthError(f"spec.image: image {image_ref!r} is not present"
                             + ("" if by_id else " and pull is 'never'"), field="spec.image")
        if image is None or policy == "always":
            if check:
                remote = edge.remote_id(image_ref)
                if image is None or (remote is not None and remote != image["Id"]):
                    plan.actions.append(f"pulled {image_ref}")
                    # what the real run will compare with (unknown when the registry is unreachable)
                    image = {**(image or {}), "Id": remote} if remote else None
            else:
                pulled = edge.pull(image_ref)
                if image is None or pulled["Id"] != image["Id"]:
                    plan.actions.append(f"pulled {image_ref}")
                image = pulled

    # ---- compare
    recreate = False
    update_names: list[str] = []
    net_ops: list[tuple[str, str, dict]] | None = None
    if live is not None:
        if spec.image_comparison == "current-image":
            cur = edge.image(live.get("Image") or "")
            image_config = (cur or {}).get("Config") or {}
        else:
            image_config = (image or {}).get("Config") or {}
        diff = differences(desired, live, image_config, comparisons)
        if image_ref is not None and comparisons.get("image", "strict") != "ignore":
            live_name = (live.get("Config") or {}).get("Image") or ""
            try:
                live_ref = n.image_ref(live_name)
            except ValueError:
                live_ref = live_name
            live_id = live.get("Image") or ""
            if image is None or image["Id"] != live_id:
                diff.add("image", f"{live_ref} ({live_id})",
                         f"{image_ref} ({image['Id'] if image else 'to be pulled'})")
            elif live_ref != image_ref and not by_id and spec.image_name_mismatch != "ignore":
                diff.add("image", f"{live_ref} ({live_id})", f"{image_ref} ({image['Id']})")
        plan.diff.merge(diff)
        in_place = [x for x in diff.names if x in co.BY_NAME and co.BY_NAME[x].updatable]
        if "networks" in diff.names:
            net_ops = network_changes(desired["networks"], live,
                                      _mode_for("networks", comparisons, co.BY_NAME["networks"].comparison))
            if net_ops is not None:
                in_place.append("networks")
        recreate = bool(spec.recreate) or any(x not in in_place for x in diff.names)
        if not recreate:
            update_names = in_place

    was_running = before_status in ("running", "restarting", "paused")
    if live is None:
        plan.actions.append("created")
    elif recreate:
        plan.actions.append("recreated")
    elif update_names:
        plan.actions.append("updated")

    fresh = live is None or recreate
    running_now = was_running and not fresh
    want_run = state in ("started", "healthy") or (state == "present" and recreate and was_running)
    start = want_run and not running_now
    restart = (state in ("started", "healthy") and bool(spec.restart) and running_now)
    stop = state == "stopped" and running_now
    if start:
        plan.actions.append("started")
    elif restart:
        plan.actions.append("restarted")
    elif stop:
        plan.actions.append("killed" if spec.force_kill else "stopped")
    will_run = start or restart or (running_now and not stop)
    is_paused = before_status == "paused" and running_now and not restart
    pause = bool(spec.paused) and will_run and not is_paused and spec.detach is not False
    unpause = spec.paused is False and is_paused and will_run
    if pause:
        plan.actions.append("paused")
    elif unpause:
        plan.actions.append("unpaused")
    after_status = "running" if will_run else ("exited" if stop else ("created" if fresh else before_status))
    if pause or (is_paused and will_run and not unpause):
        after_status = "paused"
    if spec.detach is False and start:
        after_status = "exited"
    if after_status != before_status:
        plan.diff.add("state", before_status, after_status)

    # ---- the engine's own checks, before anything is touched (and in check mode too)
    body = None
    if fresh:
        body = create_body(spec.image if spec.image is not None else live["Config"]["Image"], desired)
        if image is not None or not check:
            _engine_check(lambda: edge.validate_body(body, (image or {}).get("Config") or {}, check), desired)
    elif update_names and any(x != "networks" for x in update_names):
        changes = update_body(desired, [x for x in update_names if x != "networks"], live)
        _engine_check(lambda: edge.validate_update(live, changes), desired)

    result_extra: dict[str, Any] = {}
    if check:
        return _result(plan, live, result_extra)

    # ---- act
    cid = live["Id"] if live else None
    if fresh:
        if live is not None:
            _stop(edge, live, spec)
            edge.remove(live["Id"], force=True, volumes=spec.keep_volumes is False)
        cid = edge.create(name, body)
    elif update_names:
        resources = [x for x in update_names if x != "networks"]
        if resources:
            plan.warnings.extend(edge.update(cid, update_body(desired, resources, live)))
        for op, net, ep in net_ops or []:
            if op == "disconnect":
                edge.disconnect(cid, net)
            else:
                edge.connect(cid, net, ep)
    if start:
        edge.start(cid)
    elif restart:
        edge.restart(cid, spec.stop_timeout)
    elif stop:
        _stop(edge, edge.container(cid) or live, spec)
    if pause:
        edge.pause(cid)
    elif unpause:
        edge.unpause(cid)
    if state == "healthy" and (start or restart or running_now) and not pause and after_status != "paused":
        _wait_healthy(edge, cid, spec.healthy_wait_timeout or 300.0)
    if spec.detach is False and start:
        try:
            status: int | None = edge.wait(cid)
        except NotFound:  # auto_remove took it away before we saw the exit
            status = None
        result_extra["status"] = status
        final = edge.container(cid)
        logs = edge.logs(cid) if final is not None and spec.output_logs is not False else None
        if final is not None and logs is not None:
            final["Output"] = logs
        if spec.cleanup and final is not None:
            edge.remove(cid, force=True, volumes=spec.keep_volumes is False)
        if status:
            raise BerthError(f"container {name!r} exited with status {status}"
                             + (f"; output: {logs[-2000:]}" if logs else ""), field="spec.detach")
        return _result(plan, final, result_extra)
    return _result(plan, edge.container(cid), result_extra)


def _api_field_to_option() -> dict[str, str]:
    out = {"PortBindings": "published_ports", "PublishAllPorts": "publish_all_ports", "Binds": "volumes",
           "Volumes": "volumes", "Mounts": "mounts", "EndpointsConfig": "networks", "Image": "image"}
    for o in co.OPTIONS:
        if o.path:
            parts = o.path.split(".")
            rest = parts[1:] if parts[0] == "HostConfig" else parts
            out.setdefault(rest[0], o.name)
            out.setdefault(".".join(rest), o.name)
    return out


def _engine_check(fn: Any, desired: dict[str, Any]) -> None:
    """Re-label an engine validation error with the spec option it comes from (a reference to
    something missing, like an unknown network, is invalid input too)."""
    try:
        fn()
    except (InvalidArgument, NotFound) as e:
        f = (e.field or "").removeprefix("HostConfig.")
        if f in ("network", "container"):
            f = "networks" if "networks" in desired else "network_mode"
        opt = f if f in co.BY_NAME else _api_field_to_option().get(f) or _api_field_to_option().get(
            f.split(".")[0])
        if opt is None:
            raise
        if opt == "restart_policy" and "restart_policy" not in desired and "restart_retries" in desired:
            opt = "restart_retries"  # the retry count the user set, against the default policy
        raise InvalidArgument(f"spec.{opt}: {e.message}", field=f"spec.{opt}") from None


def _stop(edge: Any, live: dict, spec: Any) -> None:
    if _status(live) not in ("running", "restarting", "paused"):
        return
    if spec.force_kill:
        edge.kill(live["Id"], n.signal_name(spec.kill_signal or "SIGKILL"))
    else:
        edge.stop(live["Id"], spec.stop_timeout)


def _wait_healthy(edge: Any, cid: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        live = edge.container(cid) or {}
        st = live.get("State") or {}
        health = (st.get("Health") or {}).get("Status")
        if health is None or health == "healthy":
            return
        if not st.get("Running"):
            raise BerthError(f"container {cid[:12]} stopped before it became healthy",
                             field="spec.healthy_wait_timeout")
        if time.monotonic() > deadline:
            raise BerthError(f"container {cid[:12]} not healthy after {timeout}s "
                             f"(health {health!r})", field="spec.healthy_wait_timeout")
        time.sleep(0.2)


def _result(plan: Plan, resource: dict | None, extra: dict | None = None) -> dict[str, Any]:
    return {"changed": plan.changed, "actions": plan.actions, "diff": plan.diff.as_diff(),
            "resource": resource, "warnings": plan.warnings, **(extra or {})}
