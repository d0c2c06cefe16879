"""Create bodies: Docker's ENTRYPOINT/CMD table, env merge, mounts, names, validation."""

from __future__ import annotations

import pytest

from engine.containers import config, units, users
from engine.errors import InvalidArgument


@pytest.mark.parametrize("body,image,args", [
    # Docker's table: https://docs.docker.com/reference/dockerfile/#understand-how-cmd-and-entrypoint-interact
    ({}, {"Cmd": ["sh"]}, ["sh"]),
    ({"Cmd": ["echo", "hi"]}, {"Cmd": ["sh"]}, ["echo", "hi"]),
    ({}, {"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["/ep", "a"]),
    ({"Cmd": ["b"]}, {"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["/ep", "b"]),
    ({"Entrypoint": ["/new"]}, {"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["/new"]),
    ({"Entrypoint": ["/new"], "Cmd": ["x"]}, {"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["/new", "x"]),
    ({"Entrypoint": [""], "Cmd": ["ls"]}, {"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["ls"]),
    ({}, {"Entrypoint": ["/ep"]}, ["/ep"]),
])
def test_entrypoint_cmd_table(body, image, args):
    assert config.command(body, image)[2] == args


def test_no_command_names_cmd():
    with pytest.raises(InvalidArgument) as e:
        config.command({}, {})
    assert e.value.field == "Cmd"


def test_env_merge_user_over_image():
    env = config.merge_env(["PATH=/bin", "A=1", "B=2"], ["B=3", "C=4"])
    assert env == ["PATH=/bin", "A=1", "B=3", "C=4"]
    assert config.merge_env([], ["X=1"])[0].startswith("PATH=")


@pytest.mark.parametrize("name,ok", [("web", True), ("a1", True), ("my.app-1_x", True), ("/web", True),
                                     ("a", False), ("-x", False), ("bad name", False), ("x/y", False), ("", False)])
def test_names(name, ok):
    if ok:
        assert config.validate_name(name) == name.lstrip("/")
    else:
        with pytest.raises(InvalidArgument) as e:
            config.validate_name(name)
        assert e.value.field == "name"


@pytest.mark.parametrize("rp,ok", [
    ({"Name": "always"}, True), ({"Name": "on-failure", "MaximumRetryCount": 3}, True),
    ({"Name": "unless-stopped"}, True), ({"Name": "sometimes"}, False),
    ({"Name": "always", "MaximumRetryCount": 2}, False),
])
def test_restart_policy(rp, ok):
    if ok:
        assert config.restart_policy(rp)["Name"] == rp["Name"]
    else:
        with pytest.raises(InvalidArgument) as e:
            config.restart_policy(rp)
        assert e.value.field == "RestartPolicy"


def test_binds_and_volumes():
    b = config.parse_bind("/srv/data:/data:ro,rslave")
    assert (b["Type"], b["Source"], b["Destination"], b["RW"], b["Propagation"]) == \
        ("bind", "/srv/data", "/data", False, "rslave")
    v = config.parse_bind("cache:/cache")
    assert (v["Type"], v["Name"]) == ("volume", "cache")
    anon = config.parse_bind("/scratch")
    assert (anon["Type"], anon["Name"]) == ("volume", None)
    for bad in ("./rel:/x", "a:b", "/a:/b:zz"):
        with pytest.raises(InvalidArgument) as e:
            config.parse_bind(bad)
        assert e.value.field == "Binds"


def test_mount_bind_source_must_exist(tmp_path):
    with pytest.raises(InvalidArgument) as e:
        config.parse_mount({"Type": "bind", "Source": str(tmp_path / "nope"), "Target": "/x"})
    assert e.value.field == "Mounts" and "nope" in e.value.message


def test_image_volumes_become_anonymous_unless_covered():
    ms = config.mounts({}, {"Binds": ["/tmp:/data"]}, {"Volumes": {"/data": {}, "/logs": {}}})
    assert [(m["Type"], m["Destination"]) for m in ms] == [("bind", "/data"), ("volume", "/logs")]


def test_host_config_validation():
    hc = config.host_config({"NetworkMode": "default"})
    assert hc["NetworkMode"] == "bridge" and hc["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    for bad, field in [({"Memory": 1024}, "Memory"), ({"Bogus": 1}, "HostConfig.Bogus"),
                       ({"AutoRemove": True, "RestartPolicy": {"Name": "always"}}, "AutoRemove"),
                       ({"Sysctls": {"vm.swappiness": "1"}}, "Sysctls"), ({"CpuShares": "x"}, "CpuShares")]:
        with pytest.raises(InvalidArgument) as e:
            config.host_config(bad)
        assert e.value.field == field


def test_container_config_merges_image():
    cfg, args = config.container_config(
        {"Image": "img", "Env": ["B=2"], "Labels": {"x": "y"}},
        {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "Labels": {"img": "1"}, "WorkingDir": "/app",
         "User": "app", "StopSignal": "SIGQUIT"}, "img", "f" * 64)
    assert args == ["sh"]
    assert cfg["Env"] == ["PATH=/bin", "A=1", "B=2"]
    assert cfg["Labels"] == {"img": "1", "x": "y"}
    assert cfg["Hostname"] == "f" * 12 and cfg["WorkingDir"] == "/app" and cfg["User"] == "app"
    assert cfg["StopSignal"] == "SIGQUIT"
    with pytest.raises(InvalidArgument) as e:
        config.container_config({"Image": "i", "WorkingDir": "rel"}, {"Cmd": ["sh"]}, "i", "f" * 64)
    assert e.value.field == "WorkingDir"


@pytest.mark.parametrize("sig,num", [("SIGTERM", 15), ("term", 15), ("9", 9), ("KILL", 9), ("SIGRTMIN+1", 35)])
def test_signals(sig, num):
    assert config.parse_signal(sig) == num


@pytest.mark.parametrize("s,n", [("512m", 512 << 20), ("1g", 1 << 30), ("100k", 102400), ("1024", 1024),
                                 ("1.5g", int(1.5 * (1 << 30)))])
def test_sizes(s, n):
    assert units.size(s, "memory") == n


@pytest.mark.parametrize("s,n", [("30s", 30 * 10**9), ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), ("0", 0)])
def test_durations(s, n):
    assert units.duration_ns(s, "health-interval") == n


def test_bad_units_name_field():
    with pytest.raises(InvalidArgument) as e:
        units.size("12q", "memory")
    assert e.value.field == "memory"
    with pytest.raises(InvalidArgument) as e:
        units.duration_ns("5 parsecs", "health-interval")
    assert e.value.field == "health-interval"


PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\nwheel:x:10:root\nappextra:x:1001:app\napp:x:1000:\nstaff:x:50:\n"


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(PASSWD)
    (tmp_path / "etc/group").write_text(GROUP)
    return tmp_path


@pytest.mark.parametrize("spec,uid,gid,extra", [
    ("", 0, 0, [10]), ("root", 0, 0, [10]), ("app", 1000, 1000, [1001]), ("1000", 1000, 1000, [1001]),
    ("app:staff", 1000, 50, []), ("app:77", 1000, 77, []), ("4242", 4242, 0, []), ("4242:4242", 4242, 4242, []),
])
def test_users(rootfs, spec, uid, gid, extra):
    u = users.resolve(rootfs, spec)
    assert (u.uid, u.gid, u.additional_gids) == (uid, gid, extra)


@pytest.mark.parametrize("spec", ["nobody2", "app:nogroup"])
def test_unknown_user_names_field(rootfs, spec):
    with pytest.raises(InvalidArgument) as e:
        users.resolve(rootfs, spec)
    assert e.value.field == "User"


def test_passwd_symlink_cannot_escape(tmp_path):
    (tmp_path / "etc").mkdir()
    # the host has a "daemon" user; the link must resolve inside the rootfs, where there is none
    (tmp_path / "etc/passwd").symlink_to("/../../../../etc/host-passwd")
    (tmp_path / "etc/host-passwd").write_text("other:x:5:5::/:/bin/sh\n")
    assert users.resolve(tmp_path, "other").uid == 5
    with pytest.raises(InvalidArgument):
        users.resolve(tmp_path, "daemon")
