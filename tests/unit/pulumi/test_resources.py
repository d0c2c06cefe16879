"""Resource classes: secrets marked secret, the provider serialised as a secret, typed outputs
registered; engine command line and error mapping."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_berth as berth
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from pulumi_berth import _ssh
from pulumi_berth._base import spec_field_to_property
from pulumi_berth._engine import Engine, EngineError, EngineSpec

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretstuff\n-----END OPENSSH PRIVATE KEY-----\n"
CONN = {"host": "192.0.2.1", "private_key": KEY, "password": "hunter2", "host_key": "ssh-ed25519 AAAA"}


class Recorder(Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def call(self, args: MockCallArgs):
        return {}, None

    def new_resource(self, args: MockResourceArgs):
        self.inputs[args.name] = dict(args.inputs)
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        return f"{args.name}-id", outs


def _run(program) -> Recorder:
    rec = Recorder()
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(rec, preview=False)
    _sync_await(run_pulumi_func(program))
    return rec


def test_secrets_and_provider_are_secret() -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        c = berth.Container("web", connection=CONN, image="busybox", restart_policy="always")
        r = berth.RemoteImage("img", connection=CONN, name="busybox",
                              registry_auth={"username": "u", "password": "p4ss"})
        seen["c"], seen["r"] = c, r

    rec = _run(program)
    web = rec.inputs["web"]
    assert rpc.is_rpc_secret(web["__provider"])
    # a secret field makes the SDK send the whole connection object as a secret
    assert rpc.is_rpc_secret(web["connection"])
    assert rpc.unwrap_rpc_secret(web["connection"])["private_key"] == KEY
    assert not rpc.is_rpc_secret(web["image"])
    assert web["name"] == "web" and web["image"] == "busybox"
    assert all(isinstance(getattr(seen["c"], o), pulumi.Output) for o in berth.container.OUTPUTS)
    assert rpc.is_rpc_secret(rec.inputs["img"]["registry_auth"])


def test_connection_output_is_secret() -> None:
    got: dict[str, bool] = {}

    async def program() -> None:
        v = berth.Volume("v", connection=CONN)
        got["connection"] = await v.connection.is_secret()
        got["mountpoint"] = await v.mountpoint.is_secret()

    _run(program)
    assert got == {"connection": True, "mountpoint": False}


def test_engine_command_line() -> None:
    assert EngineSpec().argv("apply") == "/opt/berth/bin/berth apply"
    spec = EngineSpec.from_input({"command": "python3 /x/berth", "root": "/r oot", "runroot": "/run/b", "sudo": True})
    assert spec.argv("inspect", "container", "a;b") == \
        "sudo -n python3 /x/berth --root '/r oot' --runroot /run/b inspect container 'a;b'"


@pytest.mark.parametrize(("field", "prop"), [
    ("spec.published_ports.1", "published_ports"), ("spec.memory", "memory"), ("api", "engine"),
    (None, "name"), ("spec", "name"),
])
def test_field_to_property(field, prop) -> None:
    assert spec_field_to_property(field, "name") == prop


def test_check_maps_engine_errors(monkeypatch) -> None:
    def invalid(self, kind, spec, **kw):
        raise EngineError("spec.memory: invalid size '12x'", type_="invalid", field="spec.memory", rc=2)

    monkeypatch.setattr(Engine, "apply", invalid)
    res = berth.ContainerProvider().check({}, {"connection": CONN, "name": "a", "image": "b", "memory": "12x"})
    assert [(f.property, f.reason) for f in res.failures] == [("memory", "spec.memory: invalid size '12x'")]

    def missing_net(self, kind, spec, **kw):  # created later in the same deployment: not a failure
        raise EngineError("no such network 'n'", type_="not_found", field="spec.networks.0.name", rc=1)

    monkeypatch.setattr(Engine, "apply", missing_net)
    res = berth.ContainerProvider().check({}, {"connection": CONN, "name": "a", "image": "b"})
    assert res.failures == []


def test_check_without_connection_or_name() -> None:
    res = berth.NetworkProvider().check({}, {"name": "n"})
    assert [f.property for f in res.failures] == ["connection"]
    res = berth.VolumeProvider().check({}, {"connection": CONN})
    assert [f.property for f in res.failures] == ["volume_name"]


def test_secrets_never_in_reprs() -> None:
    spec = _ssh.ConnSpec.from_input(CONN)
    assert "secretstuff" not in repr(spec) and "hunter2" not in str(spec)
    assert "secretstuff" not in str(spec.cache_key()) and "hunter2" not in str(spec.cache_key())


def test_secret_outputs_are_declared(monkeypatch) -> None:
    """The Pulumi engine keeps outputs named in additionalSecretOutputs encrypted in the state:
    every resource declares its connection (and images their registry credentials)."""
    from pulumi.runtime.mocks import MockMonitor

    declared: dict[str, set[str]] = {}
    original = MockMonitor.RegisterResource

    def spy(self, request):
        declared[request.name] = set(request.additionalSecretOutputs)
        return original(self, request)

    monkeypatch.setattr(MockMonitor, "RegisterResource", spy)
    auth = {"username": "u", "password": "p4ss"}

    def program() -> None:
        berth.Container("c", connection=CONN, image="busybox")
        berth.Network("n", connection=CONN)
        berth.Volume("v", connection=CONN)
        berth.RemoteImage("r", connection=CONN, name="busybox", registry_auth=auth)
        berth.Image("i", connection=CONN, name="app", path="/src", registry_auth=auth,
                    opts=pulumi.ResourceOptions(additional_secret_outputs=["args"]))

    _run(program)
    assert all("connection" in declared[n] for n in "cnvri"), declared
    assert "registry_auth" in declared["r"] and {"registry_auth", "args"} <= declared["i"]


def test_check_in_preview_validates_what_is_known(monkeypatch) -> None:
    """Inputs unknown during preview are left out of the engine's validation, and a failure naming
    one of them (image required) is not reported; the known rest is validated."""
    from pulumi_berth._diff import UNKNOWN

    sent: list[dict] = []

    def engine(message: str, field: str):
        def apply(self, kind, spec, **kw):
            sent.append(spec)
            raise EngineError(message, type_="invalid", field=field, rc=2)
        return apply

    props = {"connection": CONN, "name": "a", "image": UNKNOWN, "memory": "12x"}
    monkeypatch.setattr(Engine, "apply", engine("spec.memory: invalid size '12x'", "spec.memory"))
    res = berth.ContainerProvider().check({}, props)
    assert [f.property for f in res.failures] == ["memory"] and "image" not in sent[-1]
    monkeypatch.setattr(Engine, "apply", engine("spec.image: required to create container 'a'", "spec.image"))
    assert berth.ContainerProvider().check({}, {**props, "memory": "12m"}).failures == []
    n = len(sent)  # an unknown connection or name: nothing can be asked yet
    assert berth.ContainerProvider().check({}, {**props, "name": UNKNOWN}).failures == []
    assert berth.ContainerProvider().check({}, {**props, "connection": {**CONN, "host": UNKNOWN}}).failures == []
    assert len(sent) == n
