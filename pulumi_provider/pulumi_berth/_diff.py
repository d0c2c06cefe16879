"""The one diff helper every provider uses: which input changes replace the object and which the
engine changes in place (the same split as `berth apply`), compared on the user's inputs only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Pulumi's marker for a value not known during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# Inputs of every resource that are not part of the engine spec.
CONTROL_KEYS = frozenset({"connection", "engine", "adopt"})
# connection/engine fields whose change means "another object": the host, the engine's store
CONNECTION_REPLACE = frozenset({"host"})
ENGINE_REPLACE = frozenset({"root"})


def has_unknown(value: Any) -> bool:
    """True when a value holds something Pulumi does not know yet (preview): the SDK hands
    dynamic providers `pulumi.output.Unknown` objects, the wire form is the UNKNOWN string."""
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_unknown(v) for v in value)
    return False


def _norm(value: Any) -> Any:
    """None and empty containers are equal (an unset option is never compared); tuples are lists."""
    if isinstance(value, dict):
        out = {k: _norm(v) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not None}
        return out or None
    if isinstance(value, list | tuple):
        items = [_norm(v) for v in value]
        return items or None
    return value


def equal(a: Any, b: Any) -> bool:
    if has_unknown(a) or has_unknown(b):
        return False
    return _norm(a) == _norm(b)


@dataclass
class Plan:
    changed: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)
    stables: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.changed)


def plan(olds: dict[str, Any], news: dict[str, Any], *, input_keys: Iterable[str], in_place: Iterable[str],
         ignored: Iterable[str] = (), replace_anyway: Iterable[str] = ()) -> Plan:
    """Compare old and new inputs.

    ``input_keys``: the keys that were inputs in ``olds`` (olds are the old outputs, which also
    hold computed values that must never be compared). ``in_place``: spec keys the engine
    changes without recreating. ``ignored``: never compared (secrets like registry credentials,
    behaviour-only options). Every other spec key replaces. ``connection`` and ``engine``
    replace only when the host or the engine's root changes; their other fields are state-only
    updates (a rotated key must reach the state without touching the object).
    """
    p = Plan()
    in_place = set(in_place)
    ignored = set(ignored)
    replace_anyway = set(replace_anyway)
    keys = sorted((set(input_keys) | set(news)) - {"__provider"})
    for key in keys:
        old, new = olds.get(key), news.get(key)
        if key in ignored:
            continue
        if key in ("connection", "engine"):
            rkeys = CONNECTION_REPLACE if key == "connection" else ENGINE_REPLACE
            o, n = old or {}, new or {}
            if any(not equal(o.get(k), n.get(k)) for k in rkeys):
                p.changed.append(key)
                p.replaces.append(key)
            elif not equal(o, n):
                p.changed.append(key)
                p.in_place.append(key)
            else:
                p.stables.append(key)
            continue
        if equal(old, new):
            p.stables.append(key)
            continue
        p.changed.append(key)
        if key in replace_anyway or (key not in in_place and key not in CONTROL_KEYS):
            p.replaces.append(key)
        else:
            p.in_place.append(key)
    return p
