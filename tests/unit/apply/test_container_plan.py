"""The container reconciler against a fake engine edge: idempotency of every option, in-place
update vs recreate, check mode predicting the real run, bad input changing nothing."""

import copy

import pytest

from engine.apply import container_options as co
from engine.apply import models
from engine.apply.container import reconcile
from engine.errors import BerthError, InvalidArgument

from .fakes import BUSYBOX, FakeEdge, image_id


def apply(edge, spec, state="started", check=False):
    return reconcile(edge, models.validate("container", {"name": "web", "image": "busybox", **spec}), state, check)


def apply_checked(edge, spec, state="started"):
    """Run check mode on a copy first and assert it predicted the real run exactly."""
    shadow = copy.deepcopy(edge)
    predicted = apply(shadow, spec, state, check=True)
    assert shadow.containers == edge.containers, "check mode changed something"
    real = apply(edge, spec, state)
    for key in ("changed", "actions", "diff"):
        assert predicted[key] == real[key], key
    return real


# one representative value per option (and a second value that differs)
CASES = {
    "command": ("sleep 100", ["sleep", "200"]),
    "entrypoint": (["/bin/sh", "-c"], ["/bin/sh"]),
    "env": ({"A": 1, "B": "x"}, {"A": 2}),
    "labels": ({"l": "v"}, {"l": "w"}),
    "user": ("1000", "1001"),
    "working_dir": ("/tmp", "/"),
    "hostname": ("h1", "h2"),
    "domainname": ("example.org", "example.com"),
    "published_ports": (["8080:80", "127.0.0.1:9090:90/udp"], ["8081:80"]),
    "publish_all_ports": (True, False),
    "exposed_ports": ([80, "90/udp"], ["91"]),
    "networks": ([{"name": "n1", "aliases": ["a"]}], [{"name": "n2"}]),
    "network_mode": ("host", "none"),
    "volumes": (["/src:/dst:ro", "vol:/data", "/anon"], ["/src:/dst"]),
    "mounts": ([{"target": "/m", "source": "v", "type": "volume"}], [{"target": "/t", "type": "tmpfs",
                                                                     "tmpfs_size": "1m"}]),
    "tmpfs": (["/run:size=1m"], ["/run"]),
    "restart_policy": ("always", "unless-stopped"),
    "restart_retries": (3, 4),
    "memory": ("512m", "1g"),
    "memory_swap": ("1g", -1),
    "memory_reservation": ("256m", "128m"),
    "cpus": (1.5, 0.5),
    "cpu_shares": (512, 256),
    "cpu_period": (100000, 50000),
    "cpu_quota": (50000, 25000),
    "cpuset_cpus": ("0", "0-1"),
    "cpuset_mems": ("0", "0-1"),
    "pids_limit": (100, 200),
    "blkio_weight": (300, 400),
    "ulimits": (["nofile:1024:2048"], ["nofile:512"]),
    "sysctls": ({"net.ipv4.ip_forward": 1}, {"net.ipv4.ip_forward": 0}),
    "capabilities": (["net_admin"], ["sys_time"]),
    "cap_drop": (["CAP_CHOWN"], ["mknod"]),
    "groups": (["audio"], ["video", "audio"]),
    "oom_score_adj": (100, 200),
    "privileged": (True, False),
    "devices": (["/dev/null:/dev/xnull:rw"], ["/dev/zero"]),
    "read_only": (True, False),
    "security_opts": (["no-new-privileges"], ["no-new-privileges:true", "seccomp=unconfined"]),
    "init": (True, False),
    "pid_mode": ("host", "container:db"),
    "ipc_mode": ("shareable", "host"),
    "uts": ("host", ""),
    "cgroupns_mode": ("host", "private"),
    "cgroup_parent": ("/ops", "ops/batch"),
    "memory_swappiness": (10, 60),
    "oom_killer": (True, False),
    "device_cgroup_rules": (["c 1:9 rwm"], ["c 1:9 r", "b 7:* rwm"]),
    "device_read_bps": ([{"path": "/dev/vda", "rate": "1M"}], [{"path": "/dev/vda", "rate": "2M"}]),
    "device_write_bps": ([{"path": "/dev/vda", "rate": "1M"}], [{"path": "/dev/vda", "rate": 1048577}]),
    "device_read_iops": ([{"path": "/dev/vda", "rate": 100}], [{"path": "/dev/vda", "rate": 200}]),
    "device_write_iops": ([{"path": "/dev/vda", "rate": 100}], None),
    "shm_size": ("64m", "128m"),
    "stop_signal": ("SIGINT", "SIGQUIT"),
    "stop_timeout": (5, 6),
    "healthcheck": ({"test": "true", "interval": "1m30s", "retries": 2}, {"test": ["CMD", "false"]}),
    "etc_hosts": ({"db": "10.0.0.2"}, {"db": "10.0.0.3"}),
    "dns_servers": (["1.1.1.1"], ["8.8.8.8"]),
    "dns_search_domains": (["a.example"], ["b.example"]),
    "dns_opts": (["ndots:2"], ["ndots:3"]),
    "log_driver": ("json-file", None),
    "log_options": ({"max-size": "10m"}, {"max-size": "20m"}),
    "volumes_from": (["a"], ["a:ro"]),
    "interactive": (True, False),
    "tty": (True, False),
    "auto_remove": (True, False),
}


def test_every_option_has_a_case():
    assert set(CASES) == set(co.BY_NAME)


@pytest.mark.parametrize("option", sorted(CASES))
def test_option_twice_then_change(option):
    first, second = CASES[option]
    edge = FakeEdge()
    r1 = apply_checked(edge, {option: first})
    assert r1["changed"] and r1["actions"] == ["created", "started"]
    cid = r1["resource"]["Id"]
    r2 = apply_checked(edge, {option: first})
    assert (r2["changed"], r2["actions"], r2["diff"]) == (False, [], {"before": {}, "after": {}})
    if second is None:
        return
    r3 = apply_checked(edge, {option: second})
    assert r3["changed"]
    assert option in r3["diff"]["after"]
    if co.BY_NAME[option].updatable or option == "networks":
        assert r3["actions"] == ["updated"] and r3["resource"]["Id"] == cid
    else:
        assert r3["actions"] == ["recreated", "started"] and r3["resource"]["Id"] != cid
    r4 = apply_checked(edge, {option: second})
    assert not r4["changed"], r4


def test_unset_options_are_not_compared():
    edge = FakeEdge()
    apply(edge, {"memory": "1g", "env": {"A": "1"}})
    r = apply_checked(edge, {})
    assert not r["changed"]


def test_env_strict_compares_with_image_env_merged():
    edge = FakeEdge()
    apply(edge, {"env": {"A": "1"}})
    assert not apply_checked(edge, {"env": {"A": "1"}, "comparisons": {"env": "strict"}})["changed"]
    edge.containers[next(iter(edge.containers))]["Config"]["Env"].append("EXTRA=1")
    assert not apply(edge, {"env": {"A": "1"}}, check=True)["changed"]
    r = apply_checked(edge, {"env": {"A": "1"}, "comparisons": {"env": "strict"}})
    assert r["actions"][0] == "recreated"


def test_comparisons_ignore_and_star():
    edge = FakeEdge()
    apply(edge, {"user": "1"})
    assert not apply(edge, {"user": "2", "comparisons": {"user": "ignore"}}, check=True)["changed"]
    assert not apply(edge, {"user": "2", "comparisons": {"*": "ignore"}}, check=True)["changed"]


@pytest.mark.parametrize("bad,field", [
    ({"comparisons": {"nosuch": "strict"}}, "spec.comparisons.nosuch"),
    ({"comparisons": {"env": "sometimes"}}, "spec.comparisons.env"),
    ({"memory": "12x"}, "spec.memory"),
    ({"published_ports": ["a:b"]}, "spec.published_ports"),
    ({"healthcheck": {"interval": "forever"}}, "spec.healthcheck"),
    ({"log_driver": "syslog"}, "spec.log_driver"),
    ({"image": "Bad:Ref:x"}, "spec.image"),
    ({"env_file": "/nonexistent/env"}, "spec.env_file"),
    ({"networks": [{"name": "n", "ipv4_address": "1.2.3.4", "aliases": ["a"]}, {"name": ""}]}, "spec.networks"),
])
def test_bad_input_changes_nothing(bad, field):
    edge = FakeEdge()
    apply(edge, {})
    before = copy.deepcopy(edge.containers)
    calls = len(edge.calls)
    with pytest.raises(InvalidArgument) as e:
        apply(edge, bad)
    assert e.value.field == field
    assert field.split(".")[1] in e.value.message
    assert edge.containers == before and len(edge.calls) == calls


def test_image_required_to_create():
    edge = FakeEdge()
    with pytest.raises(InvalidArgument, match="spec.image"):
        reconcile(edge, models.validate("container", {"name": "x"}), "started", False)


def test_new_digest_behind_same_tag_recreates():
    edge = FakeEdge()
    cid = apply(edge, {})["resource"]["Id"]
    assert not apply_checked(edge, {"pull": "always"})["changed"]
    edge.registry[BUSYBOX] = {"Id": image_id("busybox-2"), "Config": {"Cmd": ["sh"]}, "RepoTags": []}
    r = apply_checked(edge, {"pull": True})
    assert r["actions"] == [f"pulled {BUSYBOX}", "recreated", "started"]
    assert r["diff"]["after"]["image"] == f"{BUSYBOX} ({image_id('busybox-2')})" and r["resource"]["Id"] != cid
    assert r["diff"]["before"]["image"] == f"{BUSYBOX} ({image_id('busybox-1')})"
    assert r["resource"]["Image"] == image_id("busybox-2")
    assert not apply_checked(edge, {"pull": "always"})["changed"]
    # told to ignore the image: no recreate
    edge.registry[BUSYBOX] = {"Id": image_id("busybox-3"), "Config": {}, "RepoTags": []}
    r = apply(edge, {"pull": "always", "comparisons": {"image": "ignore"}})
    assert r["actions"] == [f"pulled {BUSYBOX}"]


def test_missing_image_is_pulled_and_check_predicts_it():
    edge = FakeEdge()
    ref = "docker.io/library/alpine:3"
    edge.registry[ref] = {"Id": image_id("alpine"), "Config": {}, "RepoTags": []}
    r = reconcile(edge, models.validate("container", {"name": "a", "image": "alpine:3"}), "started", True)
    assert r["actions"] == [f"pulled {ref}", "created", "started"]
    assert edge.calls == []
    r2 = reconcile(edge, models.validate("container", {"name": "a", "image": "alpine:3"}), "started", False)
    assert r2["actions"] == r["actions"]
    with pytest.raises(BerthError, match="pull is 'never'"):
        reconcile(edge, models.validate("container", {"name": "b", "image": "nope", "pull": "never"}),
                  "started", False)


def test_image_name_mismatch():
    edge = FakeEdge()
    edge.images["docker.io/library/alias:latest"] = edge.images[BUSYBOX]
    apply(edge, {})
    spec = {"image": "alias"}
    r = apply(edge, spec, check=True)
    assert r["actions"] == ["recreated", "started"]
    assert not apply(edge, {**spec, "image_name_mismatch": "ignore"}, check=True)["changed"]


def test_states():
    edge = FakeEdge()
    assert apply_checked(edge, {}, "present")["actions"] == ["created"]
    assert apply_checked(edge, {}, "started")["actions"] == ["started"]
    assert not apply_checked(edge, {}, "present")["changed"]
    r = apply_checked(edge, {"restart": True}, "started")
    assert r["actions"] == ["restarted"]
    r = apply_checked(edge, {}, "stopped")
    assert r["actions"] == ["stopped"] and r["diff"] == {"before": {"state": "running"},
                                                         "after": {"state": "exited"}}
    assert not apply_checked(edge, {}, "stopped")["changed"]
    apply(edge, {}, "started")
    assert apply_checked(edge, {"force_kill": True}, "stopped")["actions"] == ["killed"]
    apply(edge, {}, "started")
    # present keeps a running container running across a recreate
    r = apply_checked(edge, {"user": "5"}, "present")
    assert r["actions"] == ["recreated", "started"]
    r = apply_checked(edge, {}, "absent")
    assert r["actions"] == ["removed"] and r["resource"] is None and not edge.containers
    assert not apply_checked(edge, {}, "absent")["changed"]


def test_recreate_flag_and_keep_volumes():
    edge = FakeEdge()
    apply(edge, {})
    r = apply_checked(edge, {"recreate": True})
    assert r["actions"] == ["recreated", "started"]
    assert ("remove", r["diff"] and next(c for c in edge.calls if c[0] == "remove")[1], False) in edge.calls
    apply(edge, {"keep_volumes": False}, "absent")
    assert edge.calls[-1][0] == "remove" and edge.calls[-1][2] is True


def test_update_body_restart_policy():
    edge = FakeEdge()
    apply(edge, {"restart_policy": "on-failure", "restart_retries": 3})
    apply(edge, {"restart_policy": "on-failure", "restart_retries": 5})
    upd = [c for c in edge.calls if c[0] == "update"][-1]
    assert upd[2] == {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5}}
    apply(edge, {"restart_policy": "always"})
    upd = [c for c in edge.calls if c[0] == "update"][-1]
    assert upd[2] == {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}}
    with pytest.raises(InvalidArgument, match="spec.restart_retries"):
        apply(edge, {"restart_policy": "always", "restart_retries": 2})


def test_detach_false_returns_status_and_logs():
    edge = FakeEdge()
    r = apply(edge, {"detach": False, "command": "echo hello", "output_logs": True, "cleanup": True})
    assert r["status"] == 0 and r["resource"]["Output"] == "hello\n"
    assert not edge.containers


def test_env_file_is_merged_under_env(tmp_path):
    f = tmp_path / "env"
    f.write_text("A=from-file\nB=2\n")
    edge = FakeEdge()
    apply(edge, {"env_file": str(f), "env": {"A": "explicit"}})
    env = next(iter(edge.containers.values()))["Config"]["Env"]
    assert "A=explicit" in env and "B=2" in env
    assert not apply(edge, {"env_file": str(f), "env": {"A": "explicit"}})["changed"]


def test_networks_change_in_place_unless_primary():
    edge = FakeEdge()
    cid = apply(edge, {"networks": [{"name": "front"}]})["resource"]["Id"]
    two = [{"name": "front"}, {"name": "back", "aliases": ["db"]}]
    r = apply_checked(edge, {"networks": two})
    assert r["actions"] == ["updated"] and r["resource"]["Id"] == cid
    assert ("connect", cid, "back") in edge.calls
    assert not apply_checked(edge, {"networks": two})["changed"]
    # allow_more_present (the default) keeps extra networks; strict drops them in place
    assert not apply(edge, {"networks": [{"name": "front"}]}, check=True)["changed"]
    r = apply_checked(edge, {"networks": [{"name": "front"}], "comparisons": {"networks": "strict"}})
    assert r["actions"] == ["updated"] and ("disconnect", cid, "back") in edge.calls
    # a new address on the primary network needs a new container
    r = apply_checked(edge, {"networks": [{"name": "front", "ipv4_address": "10.1.0.9"}]})
    assert r["actions"] == ["recreated", "started"]


def test_image_by_id_is_never_pulled():
    edge = FakeEdge()
    iid = image_id("busybox-1")
    r = apply_checked(edge, {"image": iid})
    assert r["actions"] == ["created", "started"] and ("pull", iid) not in edge.calls
    assert not apply_checked(edge, {"image": iid})["changed"]
    with pytest.raises(BerthError, match="not present"):
        apply(edge, {"image": image_id("other")})


def test_engine_checks_run_before_anything_and_name_the_option():
    edge = FakeEdge()
    apply(edge, {"cpus": 1})
    before = copy.deepcopy(edge.containers)
    for check in (True, False):
        with pytest.raises(InvalidArgument) as e:
            apply(edge, {"cpus": 1, "cpu_quota": 5000}, check=check)
        assert e.value.field == "spec.cpus" and "conflicting" in e.value.message
        assert edge.containers == before  # the old container is still there
    for check in (True, False):
        with pytest.raises(InvalidArgument) as e:
            apply(edge, {"cpus": 1, "memory": "1m"}, check=check)
        assert e.value.field == "spec.memory"
    assert edge.containers == before


@pytest.mark.parametrize("first,second", [
    ({"memory": "512m"}, {"memory": 536870912}),
    ({"memory": "1g"}, {"memory": "1024M"}),
    ({"published_ports": ["8080:80"]}, {"published_ports": ["0.0.0.0:8080:80/tcp"]}),
    ({"exposed_ports": [80]}, {"exposed_ports": ["80/tcp"]}),
    ({"env": {"A": 1, "B": True}}, {"env": {"A": "1", "B": "true"}}),
    ({"command": "sleep 10"}, {"command": ["sleep", "10"]}),
    ({"capabilities": ["net_admin"]}, {"capabilities": ["CAP_NET_ADMIN"]}),
    ({"stop_signal": "TERM"}, {"stop_signal": "15"}),
    ({"healthcheck": {"test": "true", "interval": "90s"}}, {"healthcheck": {"test": "true", "interval": "1m30s"}}),
    ({"cpus": 0.5}, {"cpus": "0.5"}),
    ({"volumes": ["/a:/b:rw"]}, {"volumes": ["/a:/b"]}),
    ({"ulimits": ["nofile:1024"]}, {"ulimits": ["nofile:1024:1024"]}),
    ({"network_mode": "default"}, {"network_mode": "bridge"}),
    ({"image": "busybox"}, {"image": "docker.io/library/busybox:latest"}),
    ({"etc_hosts": {"a": "1.2.3.4", "b": "5.6.7.8"}}, {"etc_hosts": {"b": "5.6.7.8", "a": "1.2.3.4"}}),
    ({"shm_size": "64m"}, {"shm_size": "65536k"}),
])
def test_equivalent_forms_compare_equal(first, second):
    edge = FakeEdge()
    apply(edge, first)
    r = apply_checked(edge, second)
    assert not r["changed"], r["diff"]


def test_paused():
    edge = FakeEdge()
    r = apply_checked(edge, {"paused": True})
    assert r["actions"] == ["created", "started", "paused"]
    assert r["diff"]["after"]["state"] == "paused"
    assert not apply_checked(edge, {"paused": True})["changed"]
    assert not apply_checked(edge, {})["changed"]  # unset: a paused container is left paused
    r = apply_checked(edge, {"paused": False})
    assert r["actions"] == ["unpaused"] and r["diff"] == {"before": {"state": "paused"},
                                                          "after": {"state": "running"}}
    assert not apply_checked(edge, {"paused": False})["changed"]
    apply(edge, {"paused": True})
    assert apply_checked(edge, {}, "stopped")["actions"] == ["stopped"]


def test_image_comparison_current_image():
    """desired-image compares with the defaults of the image the tag names now; current-image
    with those of the image the container runs (the image itself left out by comparisons)."""
    edge = FakeEdge()
    spec = {"labels": {"app": "x"}, "comparisons": {"labels": "strict", "image": "ignore"}}
    cid = apply(edge, spec)["resource"]["Id"]
    edge.images["old"] = edge.images[BUSYBOX]
    edge.images[BUSYBOX] = {"Id": image_id("busybox-2"), "Config": {"Cmd": ["sh"], "Labels": {"img": "2"}},
                            "RepoTags": ["busybox:latest"]}
    r = apply(edge, spec, check=True)
    assert r["actions"] == ["recreated", "started"] and r["diff"]["after"]["labels"] == {"img": "2", "app": "x"}
    r = apply_checked(edge, {**spec, "image_comparison": "current-image"})
    assert not r["changed"] and r["resource"]["Id"] == cid
