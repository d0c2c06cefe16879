"""One comparator and one difference tracker for every kind (after community.docker's
`compare_generic` and `DifferenceTracker`, written afresh).

Comparison modes:
    strict              desired == live (None and empty are equal)
    ignore              never different
    allow_more_present  everything desired is present in live; live may hold more
Data types: "value" (scalars; allow_more_present acts as strict), "list" (order matters under
strict), "set" (order never matters), "dict".
"""

from __future__ import annotations

from typing import Any

MODES = ("strict", "ignore", "allow_more_present")


def _empty(v: Any) -> bool:
    return v is None or v == [] or v == {} or v == ""


def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, list | tuple):
        return tuple(_hashable(x) for x in v)
    return v


def compare(desired: Any, live: Any, mode: str = "strict", datatype: str = "value") -> bool:
    """True when `live` satisfies `desired`."""
    if mode == "ignore":
        return True
    if _empty(desired) and _empty(live):
        return True
    if datatype == "value" or desired is None or live is None:
        if mode == "allow_more_present" and _empty(desired):
            return True
        return desired == live
    if datatype == "dict":
        if not isinstance(desired, dict) or not isinstance(live, dict):
            return desired == live
        if mode == "strict":
            return desired == live
        return all(k in live and live[k] == v for k, v in desired.items())
    if datatype == "list":
        if mode == "strict":
            return list(desired) == list(live)
        lv = [_hashable(x) for x in live]
        return all(_hashable(x) in lv for x in desired)
    if datatype == "set":
        d = {_hashable(x) for x in desired}
        ll = {_hashable(x) for x in live}
        return d == ll if mode == "strict" else d <= ll
    raise ValueError(f"unknown datatype {datatype!r}")


class DifferenceTracker:
    """Collects differences keyed by option name; yields Ansible's {before, after}."""

    def __init__(self) -> None:
        self._diffs: dict[str, tuple[Any, Any]] = {}

    def add(self, name: str, before: Any, after: Any) -> None:
        self._diffs[name] = (before, after)

    def __bool__(self) -> bool:
        return bool(self._diffs)

    def __contains__(self, name: str) -> bool:
        return name in self._diffs

    @property
    def names(self) -> list[str]:
        return list(self._diffs)

    def merge(self, other: DifferenceTracker) -> None:
        self._diffs.update(other._diffs)

    def as_diff(self) -> dict[str, dict[str, Any]]:
        return {"before": {k: b for k, (b, _a) in self._diffs.items()},
                "after": {k: a for k, (_b, a) in self._diffs.items()}}
