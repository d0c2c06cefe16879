"""kind `network` (docker_network): compare what the user set with the live network; a
difference recreates it (re-connecting the containers asked for); `connected`/`appends`
manage membership in place."""

from __future__ import annotations

from typing import Any

from engine.apply.compare import DifferenceTracker, compare
from engine.apply.normalize import stringify
from engine.errors import Conflict, InvalidArgument


def _ipam(cfg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cfg.subnet:
        out["Subnet"] = cfg.subnet
    if cfg.gateway:
        out["Gateway"] = cfg.gateway
    if cfg.iprange:
        out["IPRange"] = cfg.iprange
    if cfg.aux_addresses:
        out["AuxiliaryAddresses"] = dict(cfg.aux_addresses)
    return out


def create_options(spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Driver": spec.driver or "bridge", "CheckDuplicate": True}
    if spec.internal is not None:
        body["Internal"] = spec.internal
    if spec.enable_ipv6 is not None:
        body["EnableIPv6"] = spec.enable_ipv6
    if spec.attachable is not None:
        body["Attachable"] = spec.attachable
    if spec.labels:
        body["Labels"] = {k: stringify(v) for k, v in spec.labels.items()}
    if spec.driver_options:
        body["Options"] = {k: stringify(v) for k, v in spec.driver_options.items()}
    ipam: dict[str, Any] = {"Driver": spec.ipam_driver or "default"}
    if spec.ipam_config:
        ipam["Config"] = [_ipam(c) for c in spec.ipam_config]
    if spec.ipam_driver_options:
        ipam["Options"] = {k: stringify(v) for k, v in spec.ipam_driver_options.items()}
    body["IPAM"] = ipam
    return body


def validate(spec: Any) -> None:
    if spec.driver not in (None, "bridge"):
        raise InvalidArgument(f"spec.driver: network driver {spec.driver!r} is not supported by Berth (bridge)",
                              field="spec.driver")
    if spec.enable_ipv6:
        raise InvalidArgument("spec.enable_ipv6: IPv6 networks are not supported by Berth (got true)",
                              field="spec.enable_ipv6")
    if spec.ipam_driver not in (None, "default"):
        raise InvalidArgument(f"spec.ipam_driver: IPAM driver {spec.ipam_driver!r} is not supported by Berth "
                              "(default)", field="spec.ipam_driver")
    import ipaddress

    for i, c in enumerate(spec.ipam_config or []):
        for key in ("subnet", "iprange"):
            v = getattr(c, key)
            if v:
                try:
                    ipaddress.ip_network(v, strict=False)
                except ValueError:
                    raise InvalidArgument(f"spec.ipam_config.{i}.{key}: invalid value {v!r}: not a CIDR subnet",
                                          field=f"spec.ipam_config.{i}.{key}") from None
        if c.gateway:
            try:
                ipaddress.ip_address(c.gateway)
            except ValueError:
                raise InvalidArgument(f"spec.ipam_config.{i}.gateway: invalid value {c.gateway!r}: not an IP "
                                      "address", field=f"spec.ipam_config.{i}.gateway") from None


def differences(spec: Any, live: dict) -> DifferenceTracker:
    d = DifferenceTracker()
    if spec.driver is not None and (live.get("Driver") or "bridge") != spec.driver:
        d.add("driver", live.get("Driver"), spec.driver)
    if spec.internal is not None and bool(live.get("Internal")) != spec.internal:
        d.add("internal", bool(live.get("Internal")), spec.internal)
    if spec.attachable is not None and bool(live.get("Attachable")) != spec.attachable:
        d.add("attachable", bool(live.get("Attachable")), spec.attachable)
    if spec.enable_ipv6 is not None and bool(live.get("EnableIPv6")) != spec.enable_ipv6:
        d.add("enable_ipv6", bool(live.get("EnableIPv6")), spec.enable_ipv6)
    if spec.labels is not None:
        want = {k: stringify(v) for k, v in spec.labels.items()}
        have = live.get("Labels") or {}
        if not compare(want, have, "allow_more_present", "dict"):
            d.add("labels", have, want)
    if spec.driver_options is not None:
        want = {k: stringify(v) for k, v in spec.driver_options.items()}
        have = live.get("Options") or {}
        if not compare(want, have, "allow_more_present", "dict"):
            d.add("driver_options", have, want)
    if spec.ipam_config is not None:
        have_cfg = (live.get("IPAM") or {}).get("Config") or []
        want_cfg = [_ipam(c) for c in spec.ipam_config]
        ok = len(have_cfg) == len(want_cfg) and all(
            all(h.get(k) == v for k, v in w.items()) for w, h in zip(want_cfg, have_cfg, strict=True))
        if not ok:
            d.add("ipam_config", have_cfg, want_cfg)
    return d


def _members(live: dict | None) -> dict[str, str]:
    """container name → id of the containers attached to a network."""
    out = {}
    for cid, c in ((live or {}).get("Containers") or {}).items():
        out[str((c or {}).get("Name") or cid).lstrip("/")] = cid
    return out


def reconcile(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    if state not in ("present", "absent"):
        raise InvalidArgument(f"state: invalid network state {state!r} (present, absent)", field="state")
    name = spec.name
    if name in ("bridge", "host", "none") and state == "absent":
        raise InvalidArgument(f"spec.name: the predefined network {name!r} cannot be removed", field="spec.name")
    validate(spec)
    live = edge.network(name)
    actions: list[str] = []
    diff = DifferenceTracker()
    members = _members(live)
    if state == "absent":
        if live:
            if members and not spec.force:
                raise Conflict(f"spec.name: network {name!r} is in use by container(s) "
                               f"{', '.join(sorted(members))}; set force: true to disconnect them",
                               field="spec.name")
            actions.append("removed")
            diff.add("state", "present", "absent")
            if not check:
                for cname in members:
                    edge.disconnect(cname, name, force=True)
                edge.remove(name)
        return _res(actions, diff, None)

    wanted = [str(c) for c in spec.connected] if spec.connected is not None else None
    if wanted is not None:
        for c in wanted:
            if edge.container(c) is None:
                raise InvalidArgument(f"spec.connected: no such container {c!r}", field="spec.connected")
    recreate = False
    if live is None:
        actions.append("created")
        diff.add("state", "absent", "present")
    else:
        d = differences(spec, live)
        if d:
            if members and not spec.force and (wanted is None or set(members) - set(wanted)):
                raise Conflict(f"network {name!r} must be recreated to change {', '.join(d.names)} but is in use "
                               f"by {', '.join(sorted(members))}; set force: true", field="spec.force")
            recreate = True
            actions.append("recreated")
            diff.merge(d)
    have = set() if (live is None or recreate) else set(members)
    keep_others = spec.appends or wanted is None
    to_connect = [c for c in (wanted or []) if c not in have]
    to_disconnect = [] if keep_others else sorted(set(members) - set(wanted or []))
    if recreate and keep_others:  # a recreated network gets its containers back
        to_connect += [c for c in members if c not in to_connect]
    for c in to_connect:
        if c not in members or recreate:
            actions.append(f"connected {c}")
    for c in to_disconnect:
        actions.append(f"disconnected {c}")
    if wanted is not None and (to_connect or to_disconnect):
        after = sorted((set(members) | set(to_connect)) - set(to_disconnect))
        diff.add("connected", sorted(members), after)
    if check:
        return _res(actions, diff, live)
    if recreate:
        for cname in members:
            edge.disconnect(cname, name, force=True)
        edge.remove(name)
    if live is None or recreate:
        edge.create(name, create_options(spec))
    for c in to_disconnect:
        edge.disconnect(c, name, force=spec.force)
    for c in to_connect:
        edge.connect(c, name)
    return _res(actions, diff, edge.network(name))


def _res(actions: list[str], diff: DifferenceTracker, resource: Any) -> dict[str, Any]:
    return {"changed": bool(actions), "actions": actions, "diff": diff.as_diff(), "resource": resource,
            "warnings": []}
