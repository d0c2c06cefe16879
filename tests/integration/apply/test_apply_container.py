"""`berth apply` kind container against the real engine (runc, conmon, overlayfs): idempotency
of a spec exercising many options, in-place update vs recreate, check mode predicting the real
run, a new image behind the same tag, states, detach: false, bad input changing nothing."""

import time

import pytest

from tests.fixtures.images import import_into

from .helpers import converge, ok, refused, request

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "nft")


def containers(host):
    return sorted((c["Id"], c["State"]["Status"], c["HostConfig"].get("Memory"))
                  for c in host.json("ls", "container"))


def inspect(host, name):
    return host.json("inspect", "container", name)[0]


def test_container_options_idempotent_update_and_recreate(berth_host, busybox_image):
    snap = lambda: containers(berth_host)  # noqa: E731
    spec = {
        "name": "web", "image": busybox_image, "command": "sleep 300", "env": {"A": "1", "FLAG": True},
        "labels": {"app": "web"}, "user": "0:0", "working_dir": "/tmp", "hostname": "webhost",
        "memory": "64m", "memory_reservation": "32m", "cpu_shares": 512, "pids_limit": 64,
        "restart_policy": "on-failure", "restart_retries": 2, "stop_signal": "TERM", "stop_timeout": 2,
        "capabilities": ["net_admin"], "cap_drop": ["mknod"], "read_only": False, "init": True,
        "tmpfs": ["/scratch:size=1m"], "ulimits": ["nofile:1024:2048"], "sysctls": {"net.ipv4.ip_forward": 0},
        "etc_hosts": {"db": "10.0.0.5"}, "dns_servers": ["10.0.0.53"], "log_options": {"max-size": "1m"},
        "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 2},
        "exposed_ports": [8080], "network_mode": "none", "security_opts": ["no-new-privileges"],
        "shm_size": "16m", "interactive": False, "tty": False,
    }
    r = converge(berth_host, request("container", spec), snap)
    assert r["actions"] == ["created", "started"]
    first = r["resource"]
    assert first["State"]["Running"] and first["HostConfig"]["Memory"] == 64 * 1024**2
    assert "A=1" in first["Config"]["Env"] and "FLAG=true" in first["Config"]["Env"]

    # in place: resource limits and restart policy keep the same container
    spec.pop("restart_retries")
    r = converge(berth_host, request("container", {**spec, "memory": "96m", "restart_policy": "always"}), snap)
    assert r["actions"] == ["updated"]
    assert r["diff"]["after"] == {"memory": 96 * 1024**2, "restart_policy": "always"}
    assert r["resource"]["Id"] == first["Id"] and r["resource"]["HostConfig"]["Memory"] == 96 * 1024**2

    # anything else recreates
    r = converge(berth_host, request("container", {**spec, "env": {"A": "2"}}), snap)
    assert r["actions"] == ["recreated", "started"] and r["resource"]["Id"] != first["Id"]
    assert r["diff"]["before"]["env"]["A"] == "1" and r["diff"]["after"]["env"] == {"A": "2"}

    # strict env compares the image's env (and the engine's default PATH) overlaid with ours
    strict = {**spec, "env": {"A": "2"}, "comparisons": {"env": "strict", "labels": "strict"}}
    assert not berth_host.apply({**request("container", strict), "check": True})[1]["changed"]

    # bad input: exit 2, the field named, nothing changed
    refused(berth_host, request("container", {**spec, "memory": "lots"}), "spec.memory", snap)
    refused(berth_host, request("container", {**spec, "runtime": "kata"}), "spec.runtime", snap)
    refused(berth_host, request("container", {**spec, "published_ports": ["x:y"]}), "spec.published_ports", snap)
    refused(berth_host, request("container", {**spec, "restart_policy": "always", "restart_retries": 3}),
            "spec.restart_retries", snap)
    refused(berth_host, request("container", {"name": "retries", "image": busybox_image, "restart_retries": 3}),
            "spec.restart_retries", snap)  # against the default policy 'no': the option set is named

    r = converge(berth_host, request("container", {"name": "web"}, "stopped"), snap)
    assert r["actions"] == ["stopped"]
    r = converge(berth_host, request("container", {"name": "web"}, "absent"), snap)
    assert r["actions"] == ["removed"] and containers(berth_host) == []


def test_new_image_behind_same_tag_recreates(berth_host, busybox_image, busybox_rootfs):
    spec = {"name": "follower", "image": busybox_image, "command": ["sleep", "300"], "network_mode": "none"}
    old = ok(berth_host, request("container", spec))["resource"]
    import_into(berth_host, busybox_rootfs, busybox_image, ['CMD ["sh"]', "ENV REBUILT=1"])
    r = converge(berth_host, request("container", spec))
    assert r["actions"] == ["recreated", "started"] and "image" in r["diff"]["after"]
    assert r["resource"]["Image"] != old["Image"] and r["resource"]["Id"] != old["Id"]
    # container_exec through kind exec
    rc, out = berth_host.apply(request("exec", {"container": "follower", "argv": ["sh", "-c", "echo $REBUILT; exit 4"]}))
    assert rc == 0 and out["rc"] == 4 and out["stdout"] == "1" and out["changed"], out
    rc, out = berth_host.apply(request("exec", {"container": "follower", "command": "echo hi"}, check=True))
    assert rc == 0 and out["actions"] == ["executed"] and "stdout" not in out
    # stdin (container_exec `stdin`, `stdin_add_newline`, `strip_empty_ends`)
    rc, out = berth_host.apply(request("exec", {"container": "follower", "argv": ["sh", "-c", "cat; echo ."],
                                                "stdin": "fed", "strip_empty_ends": False}))
    assert rc == 0 and out["rc"] == 0 and out["stdout"] == "fed\n.\n", out
    rc, out = berth_host.apply(request("exec", {"container": "follower", "command": "wc -c",
                                                "stdin": "abc", "stdin_add_newline": False}))
    assert rc == 0 and out["stdout"].strip() == "3", out


def test_paused_groups_oom_score(berth_host, busybox_image):
    spec = {"name": "napper", "image": busybox_image, "command": "sleep 300", "network_mode": "none",
            "groups": ["1234"], "oom_score_adj": 100, "paused": True}
    r = converge(berth_host, request("container", spec))
    assert r["actions"] == ["created", "started", "paused"]
    assert r["resource"]["State"]["Paused"] is True
    r = converge(berth_host, request("container", {**spec, "paused": False}))
    assert r["actions"] == ["unpaused"] and r["resource"]["State"]["Paused"] is False
    rc, out = berth_host.apply(request("exec", {"container": "napper", "command": "cat /proc/self/oom_score_adj"}))
    assert rc == 0 and out["stdout"] == "100", out
    rc, out = berth_host.apply(request("exec", {"container": "napper", "command": "id -G"}))
    assert rc == 0 and "1234" in out["stdout"].split(), out


def test_healthy_state_and_host_info(berth_host, busybox_image):
    spec = {"name": "doc", "image": busybox_image, "command": "sleep 300", "network_mode": "none",
            "healthcheck": {"test": "true", "interval": "1s", "start_period": "1s"}, "healthy_wait_timeout": 60}
    r = converge(berth_host, request("container", spec, "healthy"))
    assert r["actions"] == ["created", "started"]
    assert r["resource"]["State"]["Health"]["Status"] == "healthy"
    rc, out = berth_host.apply(request("info", {"type": "host", "containers": True}))
    assert rc == 0 and out["host_info"]["ContainersRunning"] == 1
    assert [c["Name"] for c in out["containers"]] == ["/doc"]


def test_detach_false_returns_status_and_logs(berth_host, busybox_image):
    spec = {"name": "job", "image": busybox_image, "command": "echo hello-from-job", "detach": False,
            "output_logs": True, "cleanup": True, "network_mode": "none"}
    rc, out = berth_host.apply(request("container", spec))
    assert rc == 0, out
    assert out["status"] == 0 and "hello-from-job" in out["resource"]["Output"]
    assert containers(berth_host) == []
    # without cleanup the exited container stays; prune removes it (check mode first)
    rc, out = berth_host.apply(request("container", {**spec, "cleanup": False}))
    assert rc == 0 and len(containers(berth_host)) == 1
    rc, out = berth_host.apply(request("prune", {"containers": True}, check=True))
    assert rc == 0 and out["changed"] and len(out["containers"]) == 1 and len(containers(berth_host)) == 1
    rc, out = berth_host.apply(request("prune", {"containers": True}))
    assert rc == 0 and out["changed"] and containers(berth_host) == []
    rc, out = berth_host.apply(request("container", {**spec, "command": "sh -c 'exit 3'"}))
    assert rc == 1 and "status 3" in out["error"]["message"]
    rc, out = berth_host.apply(request("container", {**spec, "cleanup": False, "auto_remove": True}))
    assert rc == 0 and out["status"] in (0, None), out
    for _ in range(50):  # auto_remove happens when the engine notices the exit
        if containers(berth_host) == []:
            break
        time.sleep(0.1)
    assert containers(berth_host) == []


@pytest.mark.requires("registry")
def test_pull_always_check_mode_predicts_a_newer_registry_image(berth_host, busybox_image, busybox_rootfs,
                                                                 open_registry):
    ref = f"{open_registry.host}/apply/follow:1"
    old_id = berth_host.json("inspect", "image", busybox_image)[0]["Id"]
    berth_host.run("tag", busybox_image, ref)
    berth_host.run("push", ref)
    spec = {"name": "puller", "image": ref, "pull": "always", "command": "sleep 300", "network_mode": "none"}
    assert ok(berth_host, request("container", spec))["actions"] == ["created", "started"]
    # the registry gets a newer image behind the same tag; the local tag still names the old one
    import_into(berth_host, busybox_rootfs, ref, ['CMD ["sh"]', "ENV NEWER=1"])
    berth_host.run("push", ref)
    berth_host.run("tag", old_id, ref)
    r = converge(berth_host, request("container", spec))  # check mode predicted this exactly
    assert r["actions"] == [f"pulled {ref}", "recreated", "started"]
    assert r["resource"]["Image"] != old_id


def test_more_options_round_trip_through_the_record(berth_host, busybox_image, tmp_path):
    """Options the other tests do not set, created (not started): the engine's record must
    compare equal to the spec on the rerun (no perpetual diff), and a change must show."""
    (tmp_path / "src").mkdir()
    spec = {
        "name": "rt", "image": busybox_image, "entrypoint": ["/bin/sh", "-c"], "command": ["sleep 1"],
        "domainname": "example.org", "cpus": 0.5, "cpu_shares": 100,
        "cpuset_cpus": "0", "cpuset_mems": "0", "memory": "128m", "memory_swap": "256m",
        "devices": ["/dev/null:/dev/xnull:rw"], "privileged": False, "read_only": True, "auto_remove": False,
        "publish_all_ports": True, "exposed_ports": ["9000/udp"], "published_ports": ["18081:80", "127.0.0.1::90/udp"],
        "dns_search_domains": ["a.example"], "dns_opts": ["ndots:2"], "interactive": True, "tty": True,
        "stop_signal": "SIGUSR1", "log_driver": "json-file",
        "mounts": [{"target": "/bound", "source": str(tmp_path / "src"), "type": "bind", "read_only": True},
                   {"target": "/t", "type": "tmpfs", "tmpfs_size": "2m", "tmpfs_mode": "1777"},
                   {"target": "/v", "source": "mvol", "type": "volume", "no_copy": True, "labels": {"k": "v"}},
                   {"target": "/p", "source": str(tmp_path / "src"), "type": "bind", "propagation": "rslave"}],
        "healthcheck": {"test": ["NONE"]}, "env": {"EMPTY": ""},
    }
    r = converge(berth_host, request("container", spec, "present"))
    assert r["actions"] == ["created"] and r["resource"]["State"]["Status"] == "created"
    r = converge(berth_host, request("container", {**spec, "cpus": 0.25, "mounts": spec["mounts"][:1]}, "present"))
    assert r["actions"] == ["recreated"] and set(r["diff"]["after"]) == {"cpus", "mounts"}
    # the engine's own checks run first, in check mode too, and name the option
    bad = request("container", {**spec, "cpu_quota": 50000}, "present")
    refused(berth_host, {**bad, "check": True}, "spec.cpus", lambda: containers(berth_host))
    refused(berth_host, bad, "spec.cpus", lambda: containers(berth_host))
    refused(berth_host, request("container", {**spec, "networks": [{"name": "nosuchnet"}]}, "present"),
            "spec.networks", lambda: containers(berth_host))


def test_pid_ipc_uts_modes_converge_and_recreate(berth_host, busybox_image):
    """community.docker's pid_mode, ipc_mode and uts: idempotent, a change recreates, bad
    values are refused by name before anything is touched."""
    snap = lambda: containers(berth_host)  # noqa: E731
    owner = {"name": "ipc-owner", "image": busybox_image, "command": "sleep 300", "network_mode": "none",
             "ipc_mode": "shareable"}
    converge(berth_host, request("container", owner), snap)
    spec = {"name": "side", "image": busybox_image, "command": "sleep 300", "network_mode": "none",
            "pid_mode": "container:ipc-owner", "ipc_mode": "container:ipc-owner", "uts": "host"}
    r = converge(berth_host, request("container", spec), snap)
    assert r["actions"] == ["created", "started"]
    hc = r["resource"]["HostConfig"]
    assert (hc["PidMode"], hc["IpcMode"], hc["UTSMode"]) == ("container:ipc-owner", "container:ipc-owner", "host")
    # ipc_mode private is the default docker shows: the same as leaving it out
    plain = {"name": "plain", "image": busybox_image, "command": "sleep 300", "network_mode": "none"}
    converge(berth_host, request("container", plain), snap)
    assert not berth_host.apply(request("container", {**plain, "ipc_mode": "private"}))[1]["changed"]
    r = converge(berth_host, request("container", {**spec, "pid_mode": "host"}), snap)
    assert r["actions"] == ["recreated", "started"] and r["diff"]["after"] == {"pid_mode": "host"}
    refused(berth_host, request("container", {**spec, "ipc_mode": "sharable"}), "spec.ipc_mode", snap)
    refused(berth_host, request("container", {**spec, "uts": "container:ipc-owner"}), "spec.uts", snap)
    for name in ("side", "plain", "ipc-owner"):
        ok(berth_host, request("container", {"name": name}, "absent"))


def test_parallel_applies_of_one_container_take_turns(berth_host, busybox_image):
    """Pulumi runs steps in parallel: two applies of one resource must not both create it."""
    import json
    import subprocess

    req = json.dumps(request("container", {"name": "twin", "image": busybox_image, "command": "sleep 300",
                                           "network_mode": "none"}))
    procs = [subprocess.Popen([*berth_host.argv, "apply"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=berth_host.env) for _ in range(2)]
    outs = [json.loads(p.communicate(req, timeout=120)[0]) for p in procs]
    assert sorted(o["changed"] for o in outs) == [False, True], outs
    assert len(containers(berth_host)) == 1


def test_volumes_from_and_image_name_as_given(berth_host, busybox_image):
    short = busybox_image.rsplit(":", 1)[0]
    src = {"name": "vsrc", "image": short, "command": "sleep 300", "network_mode": "none",
           "volumes": ["appvol:/data"]}
    r = converge(berth_host, request("container", src))
    assert r["resource"]["Config"]["Image"] == short  # the name the user gave, as docker run keeps it
    spec = {"name": "vuser", "image": busybox_image, "command": "sleep 300", "network_mode": "none",
            "volumes_from": ["vsrc:ro"]}
    r = converge(berth_host, request("container", spec))
    mounts = {m["Destination"]: m for m in r["resource"]["Mounts"]}
    assert mounts["/data"]["Name"] == "appvol" and mounts["/data"]["RW"] is False
    r = converge(berth_host, request("container", {**spec, "volumes_from": ["vsrc"]}))
    assert r["actions"] == ["recreated", "started"] and "volumes_from" in r["diff"]["after"]
    refused(berth_host, request("container", {**spec, "name": "vbad", "volumes_from": ["ghost"]}),
            "spec.volumes_from")
    for name in ("vuser", "vsrc"):
        ok(berth_host, request("container", {"name": name}, "absent"))
    ok(berth_host, request("volume", {"name": "appvol"}, "absent"))


def test_exec_with_tty_and_stdin(berth_host, busybox_image):
    """container_exec tty: true has no terminal of its own to lend (Ansible runs it without one):
    the engine gives the process a pseudo-terminal and returns what it printed."""
    ok(berth_host, request("container", {"name": "ex", "image": busybox_image, "command": ["sleep", "300"],
                                         "network_mode": "none", "stop_timeout": 1}))
    r = ok(berth_host, request("exec", {"container": "ex", "argv": ["sh", "-c", "test -t 1 && echo has-tty"],
                                        "tty": True}))
    assert r["rc"] == 0 and "has-tty" in r["stdout"], r
    r = ok(berth_host, request("exec", {"container": "ex", "argv": ["sh", "-c", "test -t 1"]}))
    assert r["rc"] == 1  # no tty unless asked
    r = ok(berth_host, request("exec", {"container": "ex", "argv": ["cat"], "stdin": "from-stdin"}))
    assert (r["rc"], r["stdout"]) == (0, "from-stdin")
    ok(berth_host, request("container", {"name": "ex", "force_kill": True}, "absent"))
