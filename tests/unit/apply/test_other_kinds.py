"""network, volume, login, image and the read kinds against fake edges."""

import base64
import copy
import json
from types import SimpleNamespace

import pytest

from engine.apply import image, login, models, network, readers, volume
from engine.errors import Conflict, InvalidArgument

from .fakes import BUSYBOX, FakeEdge, image_id


class FakeNetEdge:
    def __init__(self):
        self.nets = {}
        self.members = {"web": "c1", "db": "c2"}
        self.calls = []

    def network(self, name):
        return copy.deepcopy(self.nets.get(name))

    def create(self, name, options):
        self.calls.append(("create", name))
        ipam = copy.deepcopy(options["IPAM"])
        for c in ipam.get("Config") or [{}]:
            c.setdefault("Subnet", "172.30.0.0/16")
            c.setdefault("Gateway", "172.30.0.1")
        ipam.setdefault("Config", [{"Subnet": "172.30.0.0/16", "Gateway": "172.30.0.1"}])
        self.nets[name] = {"Name": name, "Id": name * 2, "Driver": options["Driver"],
                           "Internal": options.get("Internal", False), "EnableIPv6": False, "IPAM": ipam,
                           "Labels": options.get("Labels", {}), "Options": options.get("Options", {}),
                           "Containers": {}}
        return name * 2

    def remove(self, name):
        self.calls.append(("remove", name))
        del self.nets[name]

    def connect(self, container, net):
        self.calls.append(("connect", container))
        self.nets[net]["Containers"][self.members[container]] = {"Name": container}

    def disconnect(self, container, net, force=False):
        self.calls.append(("disconnect", container))
        self.nets[net]["Containers"].pop(self.members[container], None)

    def container(self, ref):
        return {"Id": self.members[ref]} if ref in self.members else None


def twice(fn, edge, spec_model, spec, state="present"):
    """check, real, real again: check predicts the real run, the rerun changes nothing."""
    s = models.validate(spec_model, spec)
    shadow = copy.deepcopy(edge)
    predicted = fn(shadow, s, state, True)
    real = fn(edge, s, state, False)
    assert {k: predicted[k] for k in ("changed", "actions", "diff")} == \
        {k: real[k] for k in ("changed", "actions", "diff")}
    again = fn(edge, s, state, False)
    assert not again["changed"], again
    return real


def test_network_lifecycle():
    edge = FakeNetEdge()
    spec = {"name": "n", "ipam_config": [{"subnet": "10.5.0.0/24"}], "labels": {"a": 1}, "connected": ["web"]}
    r = twice(network.reconcile, edge, "network", spec)
    assert r["actions"] == ["created", "connected web"]
    r = twice(network.reconcile, edge, "network", {**spec, "connected": ["db"], "appends": True})
    assert r["actions"] == ["connected db"]
    r = twice(network.reconcile, edge, "network", {**spec, "connected": ["db"]})
    assert r["actions"] == ["disconnected web"]
    with pytest.raises(Conflict, match="force"):
        network.reconcile(edge, models.validate("network", {**spec, "internal": True, "connected": []}),
                          "present", False)
    r = twice(network.reconcile, edge, "network", {**spec, "internal": True, "connected": ["db"], "force": True})
    assert r["actions"] == ["recreated", "connected db"] and r["diff"]["after"]["internal"] is True
    # without `connected`, a forced recreate reconnects the containers it had
    r = twice(network.reconcile, edge, "network", {"name": "n", "labels": {"a": "2"}, "force": True})
    assert r["actions"] == ["recreated", "connected db"] and list(edge.nets["n"]["Containers"]) == ["c2"]
    with pytest.raises(Conflict):
        network.reconcile(edge, models.validate("network", {"name": "n"}), "absent", False)
    r = twice(network.reconcile, edge, "network", {"name": "n", "force": True}, "absent")
    assert r["actions"] == ["removed"] and "n" not in edge.nets


@pytest.mark.parametrize("spec,field", [
    ({"name": "n", "enable_ipv6": True}, "spec.enable_ipv6"),
    ({"name": "n", "driver": "overlay"}, "spec.driver"),
    ({"name": "n", "ipam_config": [{"subnet": "nope"}]}, "spec.ipam_config.0.subnet"),
    ({"name": "n", "connected": ["ghost"]}, "spec.connected"),
])
def test_network_bad_input(spec, field):
    edge = FakeNetEdge()
    with pytest.raises(InvalidArgument) as e:
        network.reconcile(edge, models.validate("network", spec), "present", False)
    assert e.value.field == field and edge.calls == []


class FakeVolEdge:
    def __init__(self):
        self.vols = {}

    def volume(self, name):
        return copy.deepcopy(self.vols.get(name))

    def create(self, name, driver, driver_opts, labels):
        self.vols[name] = {"Name": name, "Driver": driver, "Options": driver_opts, "Labels": labels}

    def remove(self, name, force=False):
        del self.vols[name]


def test_volume_lifecycle():
    edge = FakeVolEdge()
    assert twice(volume.reconcile, edge, "volume", {"volume_name": "v", "labels": {"a": "1"}})["actions"] == \
        ["created"]
    r = twice(volume.reconcile, edge, "volume", {"volume_name": "v", "labels": {"a": "2"}})
    assert not r["changed"] and r["warnings"]
    r = twice(volume.reconcile, edge, "volume", {"volume_name": "v", "labels": {"a": "2"},
                                                 "recreate": "options-changed"})
    assert r["actions"] == ["recreated"] and edge.vols["v"]["Labels"] == {"a": "2"}
    assert twice(volume.reconcile, edge, "volume", {"volume_name": "v"}, "absent")["actions"] == ["removed"]
    with pytest.raises(InvalidArgument, match="spec.driver_options.size"):
        volume.reconcile(edge, models.validate("volume", {"volume_name": "v", "driver_options": {"size": 1}}),
                         "present", False)


class FakeLoginEdge:
    def __init__(self, ctx):
        self.ctx = ctx

    def login(self, host, user, pw):
        auths = {host: {"auth": base64.b64encode(f"{user}:{pw}".encode()).decode()}}
        self.ctx.auth_file.write_text(json.dumps({"auths": auths}))

    def logout(self, host):
        self.ctx.auth_file.write_text(json.dumps({"auths": {}}))


def test_login_never_echoes_password(tmp_path):
    ctx = SimpleNamespace(auth_file=tmp_path / "auth.json")
    edge = FakeLoginEdge(ctx)

    def fn(e, s, state, check):
        return login.reconcile(ctx, s, state, check, edge=e)

    spec = {"registry_url": "http://127.0.0.1:5000/", "username": "u", "password": "s3cr3t"}
    r = twice(fn, edge, "login", spec)
    assert r["actions"] == ["logged in 127.0.0.1:5000"] and "s3cr3t" not in json.dumps(r)
    r = twice(fn, edge, "login", {**spec, "password": "other-s3cr3t"})
    assert r["changed"] and "s3cr3t" not in json.dumps(r)
    assert twice(fn, edge, "login", spec, "absent")["actions"] == ["logged out 127.0.0.1:5000"]
    assert login.registry_host("https://index.docker.io/v1/") == "docker.io"


class FakeImageEdge(FakeEdge):
    def __init__(self):
        super().__init__()
        self.saved = []

    def tag(self, ref, target):
        self.images[target] = copy.deepcopy(self.images[ref])

    def remove_image(self, ref, force=False, prune=True):
        del self.images[ref]
        return [{"Untagged": ref}]

    def push(self, ref):
        self.calls.append(("push", ref))
        self.registry[ref] = copy.deepcopy(self.images[ref])


def test_image_kinds():
    edge = FakeImageEdge()
    edge.registry["docker.io/library/alpine:3"] = {"Id": image_id("alpine"), "Config": {}}

    def fn(op):
        return lambda e, s, state, check: image.reconcile(e, op, s, state, check)

    r = twice(fn("present"), edge, "image", {"name": "alpine", "tag": "3", "source": "pull"})
    assert r["actions"] == ["pulled docker.io/library/alpine:3"]
    r = twice(fn("tag"), edge, "image_tag", {"name": "alpine:3", "repository": ["127.0.0.1:5000/alpine"]})
    assert r["actions"] == ["tagged 127.0.0.1:5000/alpine:latest"]
    r = twice(fn("present"), edge, "image", {"name": "busybox", "repository": "local/bb:1"})
    assert r["actions"] == ["tagged docker.io/local/bb:1"]
    # an existing tag naming another image moves only with force_tag
    r = twice(fn("present"), edge, "image", {"name": "alpine", "tag": "3", "repository": "local/bb:1"})
    assert r["actions"] == []
    r = twice(fn("present"), edge, "image", {"name": "alpine", "tag": "3", "repository": "local/bb:1",
                                             "force_tag": True})
    assert r["actions"] == ["tagged docker.io/local/bb:1"]
    twice(fn("present"), edge, "image", {"name": "busybox", "repository": "local/bb:1", "force_tag": True})
    r = twice(fn("push"), edge, "image_push", {"name": "local/bb", "tag": "1"})
    assert r["actions"] == ["pushed docker.io/local/bb:1"]
    # a newer image in the registry: check mode predicts the pull
    edge.registry["docker.io/library/alpine:3"] = {"Id": image_id("alpine-2"), "Config": {}}
    r = twice(fn("pull"), edge, "image_pull", {"name": "alpine", "tag": "3"})
    assert r["actions"] == ["pulled docker.io/library/alpine:3"]
    r = twice(fn("remove"), edge, "image_remove", {"name": "local/bb", "tag": "1"})
    assert r["actions"] == ["removed docker.io/local/bb:1"]
    r = twice(fn("present"), edge, "image", {"name": "busybox"}, "absent")
    assert r["actions"] == [f"removed {BUSYBOX}"]
    with pytest.raises(InvalidArgument, match="spec.source"):
        image.reconcile(edge, "present", models.validate("image", {"name": "ghost"}), "present", False)
    with pytest.raises(InvalidArgument, match="spec.name"):
        image.reconcile(edge, "pull", models.validate("image_pull", {"name": "UPPER"}), "present", False)


def test_prune_and_info_read_only():
    edge = FakeEdge()
    cid = edge.create("old", {"Image": BUSYBOX})
    edge.list_containers = lambda: [edge.container(cid)]
    s = models.validate("prune", {"containers": True})
    r = readers.do_prune(None, edge, s, True)
    assert r["changed"] and r["containers"] == [cid] and edge.containers
    r = readers.do_prune(None, edge, s, False)
    assert r["containers"] == [cid] and not edge.containers
    edge2 = FakeEdge()
    edge2.create("web", {"Image": BUSYBOX})
    r = readers.do_info(None, edge2, models.validate("info", {"type": "container", "name": "web"}))
    assert r["exists"] and not r["changed"] and r["resource"]["Name"] == "/web"
    r = readers.do_info(None, edge2, models.validate("info", {"type": "container", "name": "nope"}))
    assert r["exists"] is False and r["resource"] is None


def test_exec_check_mode_runs_nothing():
    edge = FakeEdge()
    cid = edge.create("web", {"Image": BUSYBOX})
    edge.start(cid)
    edge.exec_run = lambda *a, **k: pytest.fail("exec in check mode")
    r = readers.do_exec(edge, models.validate("exec", {"container": "web", "command": "echo hi"}), True)
    assert r["changed"] and r["actions"] == ["executed"]
    with pytest.raises(InvalidArgument):
        readers.do_exec(edge, models.validate("exec", {"container": "web"}), True)


def test_image_prune_prediction_plays_the_engine_steps():
    base = {"Id": "b", "RepoTags": ["base:1"], "Parent": "", "Size": 10}
    step = {"Id": "s", "RepoTags": [], "Parent": "b", "Size": 1}
    child = {"Id": "c", "RepoTags": ["app:1"], "Parent": "s", "Size": 2}
    leaf = {"Id": "d", "RepoTags": [], "Parent": "", "Size": 4}
    imgs = [base, step, child, leaf]
    everything = lambda i: True  # noqa: E731
    # every unused image: the base (with builds on top) is untagged, then goes with its last child
    assert readers._predict_image_prune(imgs, set(), True, everything) == (["c", "s", "b", "d"], 17)
    # dangling only: the untagged leaf; the build step stays with the tagged image it leads to
    assert readers._predict_image_prune(imgs, set(), False, everything) == (["d"], 4)
    # a container on the child keeps the whole chain
    assert readers._predict_image_prune(imgs, {"c"}, True, everything) == (["d"], 4)


def test_forced_build_reports_what_check_mode_predicts(tmp_path):
    """force_source rebuilds an image that is there; check mode cannot know the build's result
    (a cache hit gives the same id), so both report the build."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    edge = FakeImageEdge()
    edge.images["docker.io/local/app:1"] = {"Id": image_id("app"), "Config": {}}
    builds = []

    def build(**kw):
        builds.append(kw)
        return edge.images["docker.io/local/app:1"]  # from cache: the same image

    edge.build = build
    edge.inspect = edge.image
    spec = models.validate("image", {"name": "local/app", "tag": "1", "source": "build", "force_source": True,
                                     "build": {"path": str(tmp_path)}})
    shadow = copy.deepcopy(edge)
    predicted = image.reconcile(shadow, "present", spec, "present", True)
    real = image.reconcile(edge, "present", spec, "present", False)
    assert predicted["actions"] == real["actions"] == ["built docker.io/local/app:1"]
    assert len(builds) == 1
    # without force_source, an image that is there is not rebuilt
    spec = models.validate("image", {"name": "local/app", "tag": "1", "source": "build",
                                     "build": {"path": str(tmp_path)}})
    assert image.reconcile(edge, "present", spec, "present", False)["actions"] == [] and len(builds) == 1


def test_rebuild_always_reports_what_check_mode_predicts(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    edge = FakeImageEdge()
    edge.images["docker.io/local/app:1"] = {"Id": image_id("app"), "Config": {}}
    edge.build = lambda **kw: edge.images["docker.io/local/app:1"]  # from cache: the same image
    edge.inspect = edge.image
    spec = models.validate("image_build", {"name": "local/app", "tag": "1", "path": str(tmp_path),
                                           "rebuild": "always"})
    predicted = image.reconcile(copy.deepcopy(edge), "build", spec, "present", True)
    real = image.reconcile(edge, "build", spec, "present", False)
    assert predicted["actions"] == real["actions"] == ["built docker.io/local/app:1"]


def test_network_recreated_with_force_gets_its_members_back():
    """A forced recreate disconnects the members, recreates the network and connects them again,
    also a container whose primary network it is (the engine reconnects those); check mode
    predicts the same actions and touches nothing."""
    edge = FakeNetEdge()
    spec = {"name": "n", "ipam_config": [{"subnet": "10.5.0.0/24"}], "connected": ["web", "db"]}
    twice(network.reconcile, edge, "network", spec)
    edge.container = lambda ref: ({"Id": edge.members[ref], "HostConfig": {"NetworkMode": "n" if ref == "web" else "other"}}
                                  if ref in edge.members else None)
    changed = {**spec, "internal": True, "force": True}
    before, calls = copy.deepcopy(edge.nets), len(edge.calls)
    predicted = network.reconcile(edge, models.validate("network", changed), "present", True)
    assert edge.nets == before and len(edge.calls) == calls
    r = twice(network.reconcile, edge, "network", changed)
    assert r["actions"] == predicted["actions"] == ["recreated", "connected web", "connected db"]
