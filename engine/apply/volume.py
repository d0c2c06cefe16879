"""kind `volume` (docker_volume)."""

from __future__ import annotations

from typing import Any

from engine.apply.compare import DifferenceTracker
from engine.apply.normalize import stringify
from engine.errors import InvalidArgument


def differences(spec: Any, live: dict) -> DifferenceTracker:
    d = DifferenceTracker()
    if spec.driver is not None and (live.get("Driver") or "local") != spec.driver:
        d.add("driver", live.get("Driver"), spec.driver)
    if spec.driver_options is not None:
        want = {k: stringify(v) for k, v in spec.driver_options.items()}
        have = live.get("Options") or {}
        if want != have:
            d.add("driver_options", have, want)
    if spec.labels is not None:
        want = {k: stringify(v) for k, v in spec.labels.items()}
        have = live.get("Labels") or {}
        if any(have.get(k) != v for k, v in want.items()):
            d.add("labels", have, want)
    return d


def reconcile(edge: Any, spec: Any, state: str, check: bool) -> dict[str, Any]:
    if state not in ("present", "absent"):
        raise InvalidArgument(f"state: invalid volume state {state!r} (present, absent)", field="state")
    name = spec.volume_name or spec.name
    if not name:
        raise InvalidArgument("spec.volume_name: required option 'volume_name' is missing", field="spec.volume_name")
    if spec.volume_name and spec.name and spec.volume_name != spec.name:
        raise InvalidArgument(f"spec.name: {spec.name!r} contradicts volume_name {spec.volume_name!r}",
                              field="spec.name")
    if spec.driver not in (None, "local"):
        raise InvalidArgument(f"spec.driver: volume driver {spec.driver!r} is not supported by Berth (local)",
                              field="spec.driver")
    unknown = set(spec.driver_options or {}) - {"type", "o", "device"}
    if unknown:
        k = sorted(unknown)[0]
        raise InvalidArgument(f"spec.driver_options.{k}: unknown local driver option {k!r} (type, o, device)",
                              field=f"spec.driver_options.{k}")
    live = edge.volume(name)
    actions: list[str] = []
    diff = DifferenceTracker()
    warnings: list[str] = []
    if state == "absent":
        if live:
            actions.append("removed")
            diff.add("state", "present", "absent")
            if not check:
                edge.remove(name)
        return _res(actions, diff, None, warnings)
    recreate = False
    if live is None:
        actions.append("created")
        diff.add("state", "absent", "present")
    else:
        d = differences(spec, live)
        if spec.recreate == "always" or (d and spec.recreate == "options-changed"):
            recreate = True
            actions.append("recreated")
            diff.merge(d)
        elif d:
            warnings.append(f"volume {name!r} differs in {', '.join(d.names)}; not recreated "
                            "(recreate: never)")
    if check:
        return _res(actions, diff, live, warnings)
    if recreate:
        edge.remove(name)
    if live is None or recreate:
        edge.create(name, spec.driver or "local",
                    {k: stringify(v) for k, v in (spec.driver_options or {}).items()},
                    {k: stringify(v) for k, v in (spec.labels or {}).items()})
    return _res(actions, diff, edge.volume(name), warnings)


def _res(actions: list[str], diff: DifferenceTracker, resource: Any, warnings: list[str]) -> dict[str, Any]:
    return {"changed": bool(actions), "actions": actions, "diff": diff.as_diff(), "resource": resource,
            "warnings": warnings}
