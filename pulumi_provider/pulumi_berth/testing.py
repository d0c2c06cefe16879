"""Run a real Pulumi program without the Pulumi CLI: the SDK's mock mode, with mocks that act
like the Pulumi engine for dynamic providers.

For each registered resource the mocks take the dynamic provider from the ``__provider`` input
(base64 of a dill pickle, wrapped as a secret), then call ``check``, ``diff`` and ``create`` /
``update`` / replace (``delete_before_replace`` honoured) exactly as the engine would, and keep
the state (id, inputs, outputs) between runs. Resources missing from a later run are deleted in
reverse creation order (so are the old halves of create-before-delete replacements), ``refresh`` calls ``read`` and drops what is gone, ``destroy`` deletes
everything. Simplifications: dependents of a delete-before-replace resource are not replaced
first; no parallelism limit.

    dep = Deployment()
    summary = dep.up(program)          # program: a callable creating resources
    summary.ops                        # [("create", "web"), ...]
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dill
import pulumi
from pulumi.dynamic import ResourceProvider
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from . import _ssh
from ._diff import UNKNOWN

PROVIDER_KEY = "__provider"


class CheckFailed(Exception):
    def __init__(self, resource: str, failures: list[tuple[str, str]]) -> None:
        self.resource = resource
        self.failures = failures
        super().__init__(f"{resource}: " + "; ".join(f"{p}: {r}" for p, r in failures))


@dataclass
class ResourceState:
    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str  # the serialised provider, as stored in the state
    secret_inputs: set[str] = field(default_factory=set)

    def wire_outputs(self) -> dict[str, Any]:
        """The outputs as the engine hands them to the provider: with the serialised provider."""
        return _wire(self.outputs, self.provider)


@dataclass
class Summary:
    ops: list[tuple[str, str]] = field(default_factory=list)
    diffs: dict[str, Any] = field(default_factory=dict)
    ssh_execs: int = 0
    ssh_connects: int = 0

    def count(self, op: str) -> int:
        return sum(1 for o, _ in self.ops if o == op)

    def of(self, name: str) -> list[str]:
        return [o for o, n in self.ops if n == name]


def unwrap_secrets(value: Any) -> tuple[Any, bool]:
    """Remove Pulumi's secret wrappers (dynamic providers do not accept secrets: the engine
    unwraps them) and say whether any was present."""
    if rpc.is_rpc_secret(value):
        inner, _ = unwrap_secrets(rpc.unwrap_rpc_secret(value))
        return inner, True
    if isinstance(value, dict):
        out, secret = {}, False
        for k, v in value.items():
            out[k], s = unwrap_secrets(v)
            secret = secret or s
        return out, secret
    if isinstance(value, list):
        items, secret = [], False
        for v in value:
            u, s = unwrap_secrets(v)
            items.append(u)
            secret = secret or s
        return items, secret
    return value, False


def _wire(props: dict[str, Any], provider: str) -> dict[str, Any]:
    """Properties as the dynamic provider server passes them: ``__provider`` included."""
    return {**props, PROVIDER_KEY: provider}


def _outs(props: dict[str, Any] | None) -> dict[str, Any]:
    """What the provider returned, as stored (the server adds ``__provider`` back itself)."""
    return {k: v for k, v in (props or {}).items() if k != PROVIDER_KEY}


_PROVIDERS: dict[str, ResourceProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def load_provider(serialised: str) -> ResourceProvider:
    """What pulumi.dynamic.__main__.get_provider does: base64 → dill.loads, cached."""
    with _PROVIDERS_LOCK:
        prov = _PROVIDERS.get(serialised)
        if prov is None:
            prov = dill.loads(base64.b64decode(serialised))
            _PROVIDERS[serialised] = prov
        return prov


class _EngineMocks(Mocks):
    def __init__(self, dep: Deployment, preview: bool, summary: Summary) -> None:
        self.dep = dep
        self.preview = preview
        self.summary = summary
        self.lock = threading.Lock()
        self.registered: set[str] = set()
        self.pending_deletes: list[ResourceState] = []

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return {}, None

    def _record(self, op: str, name: str) -> None:
        with self.lock:
            self.summary.ops.append((op, name))

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        urn = f"{args.typ}::{args.name}"
        raw = dict(args.inputs)
        if PROVIDER_KEY not in raw:  # not a dynamic resource: echo the inputs
            return f"{args.name}-id", raw
        prov_raw = raw.pop(PROVIDER_KEY)
        prov_str, prov_secret = unwrap_secrets(prov_raw)
        if not prov_secret:
            raise AssertionError("the serialised provider must be a secret")
        secret_inputs = set()
        news: dict[str, Any] = {}
        for k, v in raw.items():
            news[k], s = unwrap_secrets(v)
            if s:
                secret_inputs.add(k)
        provider = load_provider(prov_str)
        with self.lock:
            self.registered.add(urn)
            old = self.dep.state.get(urn)
        chk = provider.check(_wire(old.inputs, old.provider) if old else {}, _wire(news, prov_str))
        if chk.failures:
            raise CheckFailed(args.name, [(f.property, f.reason) for f in chk.failures])
        news = dict(chk.inputs)
        news.pop(PROVIDER_KEY, None)
        outputs_keys = getattr(provider, "OUTPUTS", frozenset())

        if old is None:
            if self.preview:
                self._record("create", args.name)
                return "", {**news, **{k: UNKNOWN for k in outputs_keys}}
            res = provider.create(_wire(news, prov_str))
            self._store(ResourceState(urn, args.typ, args.name, res.id, news, _outs(res.outs), prov_str,
                                      secret_inputs), new=True)
            self._record("create", args.name)
            return res.id, _outs(res.outs)

        d = provider.diff(old.id, old.wire_outputs(), _wire(news, prov_str))
        with self.lock:
            self.summary.diffs[args.name] = d
        if not d.changes:
            self._record("same", args.name)
            with self.lock:
                old.inputs = news
            return old.id, old.outputs
        if d.replaces:
            self._record("replace", args.name)
            if self.preview:
                return "", {**news, **{k: UNKNOWN for k in outputs_keys}}
            old_provider = load_provider(old.provider)
            if d.delete_before_replace:
                old_provider.delete(old.id, old.wire_outputs())
                with self.lock:
                    self.dep.state.pop(urn, None)
                res = provider.create(_wire(news, prov_str))
            else:  # create-before-delete: the old one goes at the end of the deployment, like Pulumi
                res = provider.create(_wire(news, prov_str))
                with self.lock:
                    self.pending_deletes.append(old)
            self._store(ResourceState(urn, args.typ, args.name, res.id, news, _outs(res.outs), prov_str,
                                      secret_inputs), new=d.delete_before_replace)
            return res.id, _outs(res.outs)
        self._record("update", args.name)
        if self.preview:  # like the engine: computed outputs of an update are unknown until it runs
            return old.id, {**news, **{k: UNKNOWN for k in outputs_keys}}
        upd = provider.update(old.id, old.wire_outputs(), _wire(news, prov_str))
        self._store(ResourceState(urn, args.typ, args.name, old.id, news, _outs(upd.outs), prov_str,
                                  secret_inputs))
        return old.id, _outs(upd.outs)

    def _store(self, rs: ResourceState, new: bool = False) -> None:
        with self.lock:
            if new:
                self.dep.state.pop(rs.urn, None)
            self.dep.state[rs.urn] = rs


class Deployment:
    """A stack's state kept in memory across `up`, `refresh` and `destroy`."""

    def __init__(self, project: str = "berth", stack: str = "test") -> None:
        self.project = project
        self.stack = stack
        self.state: dict[str, ResourceState] = {}  # insertion order = creation order

    def _run(self, program: Callable[[], Any], preview: bool, summary: Summary) -> _EngineMocks:
        mocks = _EngineMocks(self, preview, summary)
        pulumi.runtime.settings.ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project=self.project, stack=self.stack, preview=preview)
        settings = pulumi.runtime.settings.SETTINGS
        settings.rpc_manager.clear()
        settings.outputs.clear()
        _sync_await(run_pulumi_func(program))
        return mocks

    def up(self, program: Callable[[], Any], preview: bool = False) -> Summary:
        summary = Summary()
        before = dict(_ssh.STATS)
        mocks = self._run(program, preview, summary)
        for old in reversed(mocks.pending_deletes):
            load_provider(old.provider).delete(old.id, old.wire_outputs())
        # whatever the program no longer declares is deleted, newest first
        for urn in reversed([u for u in self.state if u not in mocks.registered]):
            rs = self.state[urn]
            summary.ops.append(("delete", rs.name))
            if not preview:
                load_provider(rs.provider).delete(rs.id, rs.wire_outputs())
                del self.state[urn]
        summary.ssh_execs = _ssh.STATS["exec"] - before["exec"]
        summary.ssh_connects = _ssh.STATS["connect"] - before["connect"]
        return summary

    def preview(self, program: Callable[[], Any]) -> Summary:
        return self.up(program, preview=True)

    def refresh(self) -> Summary:
        summary = Summary()
        for urn in list(self.state):
            rs = self.state[urn]
            res = load_provider(rs.provider).read(rs.id, rs.wire_outputs())
            if not res.id:
                summary.ops.append(("gone", rs.name))
                del self.state[urn]
                continue
            changed = _outs(res.outs) != rs.outputs
            rs.id = res.id
            rs.outputs = _outs(res.outs)
            if res.inputs is not None:
                rs.inputs = _outs(res.inputs)
            summary.ops.append(("drift" if changed else "same", rs.name))
        return summary

    def destroy(self) -> Summary:
        summary = Summary()
        for urn in reversed(list(self.state)):
            rs = self.state[urn]
            load_provider(rs.provider).delete(rs.id, rs.wire_outputs())
            summary.ops.append(("delete", rs.name))
            del self.state[urn]
        return summary

    def save(self, path: str) -> None:
        """Write the state to a file (mode 0600: like a Pulumi state file it holds secrets)."""
        import json
        import os

        data = [{**rs.__dict__, "secret_inputs": sorted(rs.secret_inputs)} for rs in self.state.values()]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)

    @classmethod
    def load(cls, path: str, project: str = "berth", stack: str = "test") -> Deployment:
        import json
        import os

        dep = cls(project, stack)
        if os.path.exists(path):
            with open(path) as f:
                for d in json.load(f):
                    rs = ResourceState(**{**d, "secret_inputs": set(d["secret_inputs"])})
                    dep.state[rs.urn] = rs
        return dep

    def resource(self, name: str) -> ResourceState:
        for rs in self.state.values():
            if rs.name == name:
                return rs
        raise KeyError(name)
