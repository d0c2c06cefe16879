"""Shared base of the dynamic providers: check through the engine, one diff helper, transactional
create, in-place update, read of live state, idempotent delete, and `adopt`.

A provider instance holds no state at all (it is pickled into the Pulumi state by reference to
this installed module); everything it needs comes from the resource's properties. Pulumi passes
the old *outputs* as ``olds`` to diff/update/delete/read, so outputs always carry the inputs too,
plus the computed values listed in ``OUTPUTS``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from . import _diff
from ._engine import Engine, EngineError
from ._ssh import ConnectionError_

# engine error types that mean "the request itself is wrong" (check failures); any other failure
# in check (a network or image that a later step of the same deployment creates) is not
CHECK_FAILURE_TYPES = frozenset({"invalid", "api_mismatch"})


def spec_field_to_property(field: str | None, default: str) -> str:
    """`spec.published_ports.1` -> `published_ports`; `api` -> `engine`."""
    if not field:
        return default
    parts = field.split(".")
    if parts[0] == "spec" and len(parts) > 1:
        return parts[1]
    if parts[0] in ("api", "kind"):
        return "engine"
    return parts[0] if parts[0] != "spec" else default


class BerthProvider(ResourceProvider):
    """Base for every Berth resource provider. Subclasses set the class attributes and may
    override the ``_``-prefixed hooks."""

    KIND: ClassVar[str] = ""
    DEFAULT_STATE: ClassVar[str] = "present"
    NAME_KEY: ClassVar[str] = "name"
    # spec keys the engine changes in place (no new object); every other spec key replaces
    IN_PLACE: ClassVar[frozenset[str]] = frozenset()
    # spec keys never compared (secrets, behaviour-only knobs handled elsewhere)
    IGNORED: ClassVar[frozenset[str]] = frozenset()
    # inputs that are not sent to the engine as spec
    NON_SPEC: ClassVar[frozenset[str]] = frozenset()
    # inputs whose change needs no engine call (only the state takes the new value)
    STATE_ONLY: ClassVar[frozenset[str]] = frozenset()
    # computed outputs (never compared as inputs)
    OUTPUTS: ClassVar[frozenset[str]] = frozenset()
    # delete the old object before creating its replacement (its name or host port is fixed)
    DELETE_BEFORE_REPLACE: ClassVar[bool] = True

    def __getstate__(self) -> dict[str, Any]:
        return {}  # stateless: nothing but the class path goes into the Pulumi state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    # ---- helpers -------------------------------------------------------------------------
    @staticmethod
    def _engine(props: dict[str, Any]) -> Engine:
        return Engine(props.get("connection"), props.get("engine"))

    def _name(self, props: dict[str, Any]) -> str:
        return str(props.get(self.NAME_KEY) or props.get("name") or "")

    def _input_keys(self, props: dict[str, Any]) -> set[str]:
        return {k for k in props if k not in self.OUTPUTS and k != "__provider"}

    def _inputs(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k in self._input_keys(props)}

    def _state(self, props: dict[str, Any]) -> str:
        return self.DEFAULT_STATE

    def _spec(self, props: dict[str, Any]) -> dict[str, Any]:
        skip = _diff.CONTROL_KEYS | self.NON_SPEC | self.OUTPUTS | {"__provider", "state"}
        return {k: v for k, v in props.items() if k not in skip and v is not None}

    def _apply(self, eng: Engine, props: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
        return eng.apply(self.KIND, self._spec(props), state=self._state(props), check=check)

    def _absent(self, eng: Engine, props: dict[str, Any]) -> dict[str, Any]:
        return eng.apply(self.KIND, {self.NAME_KEY: self._name(props)}, state="absent")

    def _inspect(self, eng: Engine, props: dict[str, Any]) -> dict[str, Any] | None:
        return eng.inspect(self.KIND, self._name(props))

    def _outputs(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any]:
        """Computed outputs from the engine's facts (Docker inspect shape)."""
        return {}

    def _id(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> str:
        return str((resource or {}).get("Id") or self._name(props))

    def _live_inputs(self, resource: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
        """Input values read back from the live object, for drift shown by refresh. Only keys
        the user set are returned (an unset option is never compared)."""
        return {}

    def _prepare(self, news: dict[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
        """Per-kind normalisation in check (defaults, computed inputs such as a context hash)."""
        return news, []

    def _validate_remote(self, eng: Engine, news: dict[str, Any]) -> None:
        """Validate through the engine: the same request create would send, in check mode."""
        self._apply(eng, news, check=True)

    # ---- ResourceProvider ----------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = {k: v for k, v in news.items() if k != "__provider" and k not in self.OUTPUTS}
        failures: list[CheckFailure] = []
        conn = news.get("connection")
        if not isinstance(conn, dict) or not conn.get("host"):
            failures.append(CheckFailure("connection", "connection.host is required"))
        if not news.get(self.NAME_KEY) and not news.get("name"):
            failures.append(CheckFailure(self.NAME_KEY, f"{self.NAME_KEY} is required"))
        if failures:
            return CheckResult(news, failures)
        news, more = self._prepare(news)
        if more:
            return CheckResult(news, more)
        old_inputs = {k: v for k, v in (olds or {}).items() if k != "__provider"}
        # Inputs already validated by the engine in an earlier check need no second round trip.
        if _diff.equal(self._spec(old_inputs), self._spec(news)) and olds:
            return CheckResult(news, [])
        # Values unknown during preview (outputs of resources not made yet) cannot be validated:
        # the rest is, and a failure naming an unknown property (e.g. "image is required") is not one.
        unknown = {k for k, v in news.items() if _diff.has_unknown(v)}
        if unknown & (_diff.CONTROL_KEYS | {self.NAME_KEY, "name"}):
            return CheckResult(news, [])
        known = {k: v for k, v in news.items() if k not in unknown}
        try:
            self._validate_remote(self._engine(news), known)
        except EngineError as e:
            prop = spec_field_to_property(e.field, self.NAME_KEY)
            if (e.type in CHECK_FAILURE_TYPES or e.rc == 2 and not e.type) and prop not in unknown:
                failures.append(CheckFailure(prop, str(e)))
        except ConnectionError_ as e:
            failures.append(CheckFailure("connection", str(e)))
        return CheckResult(news, failures)

    def _plan(self, olds: dict[str, Any], news: dict[str, Any]) -> _diff.Plan:
        news = {k: v for k, v in news.items() if k not in self.OUTPUTS}
        return _diff.plan(olds, news, input_keys=self._input_keys(olds), in_place=self.IN_PLACE,
                          ignored=self.IGNORED)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        p = self._plan(olds, news)
        return DiffResult(changes=p.changes, replaces=p.replaces, stables=p.stables,
                          delete_before_replace=bool(p.replaces) and self.DELETE_BEFORE_REPLACE)

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = {k: v for k, v in props.items() if k != "__provider" and k not in self.OUTPUTS}
        eng = self._engine(props)
        existed = self._inspect(eng, props)
        if existed is not None and not props.get("adopt"):
            raise EngineError(
                f"{self.KIND} {self._name(props)!r} already exists on {eng.conn.label}: set adopt=True to take "
                f"it over, or remove it, or choose another {self.NAME_KEY}")
        try:
            result = self._create(eng, props)
        except BaseException:
            if existed is None:  # transactional: leave nothing behind
                try:
                    self._absent(eng, props)
                except Exception:  # noqa: BLE001 - best effort; the original error matters
                    pass
            raise
        resource = result.get("resource")
        return CreateResult(self._id(resource, props), {**props, **self._outputs(resource, props)})

    def _create(self, eng: Engine, props: dict[str, Any]) -> dict[str, Any]:
        return self._apply(eng, props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = {k: v for k, v in news.items() if k != "__provider" and k not in self.OUTPUTS}
        p = self._plan(olds, news)
        if p.replaces:  # never a silent delete-and-create: diff routes these to a replacement
            raise EngineError(f"{self.KIND} {self._name(news)!r}: {', '.join(p.replaces)} cannot change in place")
        host_changes = [k for k in p.in_place if k not in _diff.CONTROL_KEYS and k not in self.STATE_ONLY]
        if not p.changes:  # the provider's diff saw a change on the host itself (e.g. a new digest)
            host_changes = ["live state"]
        if host_changes:
            result = self._update(self._engine(news), olds, news)
            resource = result.get("resource")
            if "recreated" in (result.get("actions") or []):
                import pulumi

                pulumi.log.warn(f"{self.KIND} {self._name(news)!r}: the engine recreated it to apply "
                                f"{', '.join(host_changes)} (expected an in-place update)")
        else:  # only state-side inputs changed (a rotated key, adopt): nothing to do on the host
            resource = None
        outs = {k: olds[k] for k in self.OUTPUTS if k in olds}
        if resource is not None:
            outs.update(self._outputs(resource, news))
        return UpdateResult({**news, **outs})

    def _update(self, eng: Engine, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        return self._apply(eng, news)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = {k: v for k, v in props.items() if k != "__provider"}
        eng = self._engine(props)
        resource = self._inspect(eng, props)
        if resource is None:
            return ReadResult("", {})
        inputs = self._inputs(props)
        live = {k: v for k, v in self._live_inputs(resource, props).items() if k in inputs}
        new_inputs = {**inputs, **live}
        outs = {**props, **live, **self._outputs(resource, props)}
        return ReadResult(self._id(resource, props), outs, new_inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = {k: v for k, v in props.items() if k != "__provider"}
        eng = self._engine(props)
        try:
            self._absent(eng, props)
        except EngineError as e:
            if e.type == "not_found" or e.rc == 3:
                return  # already gone
            raise
