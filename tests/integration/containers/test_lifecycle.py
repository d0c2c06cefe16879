"""run/create/start/stop/kill/rm/wait/logs/exec/ps/inspect on real runc + conmon."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from tests.integration.containers.conftest import inspect, leftovers, wait_for

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")
NONE = ("--network", "none")


def test_foreground_exit_code_and_streams(berth_host, busybox_image):
    p = berth_host.run("run", "--rm", *NONE, busybox_image, "sh", "-c", "echo out; echo err >&2; exit 3",
                       check=False)
    assert p.returncode == 3
    assert p.stdout == "out\n" and p.stderr == "err\n"
    assert berth_host.run("ps", "-aq").stdout == ""
    assert leftovers(berth_host) == []


def test_signal_exit_code(berth_host, busybox_image):
    # PID 1 ignores signals it has no handler for, so run the shell under --init (tini)
    p = berth_host.run("run", *NONE, "--init", "--name", "ss", busybox_image, "sh", "-c", "kill -USR1 $$",
                       check=False)
    assert p.returncode == 128 + signal.SIGUSR1
    st = inspect(berth_host, "ss")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 138 and st["FinishedAt"] > st["StartedAt"]


def test_detached_lifecycle(berth_host, busybox_image):
    cid = berth_host.run("run", "-d", *NONE, "--name", "web", "-l", "tier=front", busybox_image,
                         "sh", "-c", "echo started; echo warn >&2; exec sleep 600").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    d = inspect(berth_host, cid[:10])  # a unique prefix selects it
    assert d["Id"] == cid and d["Name"] == "/web" and d["State"]["Running"] and d["State"]["Pid"] > 0
    assert d["Config"]["Labels"]["tier"] == "front" and d["Image"].startswith("sha256:")
    assert d["HostConfig"]["NetworkMode"] == "none" and d["RestartCount"] == 0
    for key in ("Created", "Path", "Args", "GraphDriver", "Mounts", "NetworkSettings", "LogPath"):
        assert key in d
    wait_for(lambda: "started" in berth_host.run("logs", "web").stdout)
    logs = berth_host.run("logs", "web")
    assert logs.stdout == "started\n" and logs.stderr == "warn\n"
    last = berth_host.run("logs", "--tail", "1", "-t", "web")
    assert last.stdout == "" and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]{8}\.\d{9}Z warn\n", last.stderr)
    # ps and its filters
    assert berth_host.run("ps", "-q").stdout.split() == [cid[:12]]
    assert berth_host.run("ps", "-q", "--filter", "label=tier=front").stdout.split() == [cid[:12]]
    assert berth_host.run("ps", "-q", "--filter", "name=nomatch").stdout == ""
    assert berth_host.run("ps", "-q", "--filter", "status=running", "--filter", f"ancestor={busybox_image}"
                          ).stdout.split() == [cid[:12]]
    assert "web" in berth_host.run("ps").stdout
    assert berth_host.run("ps", "--format", '{{.Names}} {{.State}} {{.Label "tier"}}').stdout == "web running front\n"
    rows = berth_host.json("ps", "--format", "json")
    assert rows[0]["Id"] == cid
    # the monitor survives the berth process that started it: a fresh CLI still sees it running
    assert inspect(berth_host, "web")["State"]["Running"]
    # a second container cannot take the name
    p = berth_host.run("run", "-d", *NONE, "--name", "web", busybox_image, "true", check=False)
    assert p.returncode != 0 and "already in use" in p.stderr
    # rm refuses a running container without -f
    p = berth_host.run("rm", "web", check=False)
    assert p.returncode != 0 and "running" in p.stderr
    # sleep as PID 1 ignores SIGTERM: stop escalates to SIGKILL after -t
    berth_host.run("stop", "-t", "1", "web")
    st = inspect(berth_host, "web")["State"]
    assert (st["Status"], st["ExitCode"], st["Running"]) == ("exited", 137, False)
    assert berth_host.run("wait", "web").stdout.strip() == "137"
    # the writable layer survives stop/start
    berth_host.run("start", "web")
    berth_host.run("exec", "web", "sh", "-c", "echo kept > /data.txt")
    berth_host.run("restart", "-t", "0", "web")
    assert berth_host.run("exec", "web", "cat", "/data.txt").stdout == "kept\n"
    berth_host.run("rename", "web", "web2")
    assert inspect(berth_host, "web2")["Id"] == cid
    berth_host.run("rm", "-f", "web2")
    assert berth_host.run("ps", "-aq").stdout == ""
    assert leftovers(berth_host) == []


def test_stop_signal_trap_exits_cleanly(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "tt", "--stop-signal", "USR2", busybox_image, "sh", "-c",
                   "trap 'exit 42' USR2; while true; do sleep 0.1; done")
    berth_host.run("stop", "tt")
    assert inspect(berth_host, "tt")["State"]["ExitCode"] == 42


def test_kill_with_signal_and_wait(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "kk", busybox_image, "sh", "-c",
                   "trap 'exit 5' HUP; while true; do sleep 0.1; done")
    berth_host.run("kill", "-s", "HUP", "kk")
    assert berth_host.run("wait", "kk").stdout.strip() == "5"
    p = berth_host.run("kill", "kk", check=False)
    assert p.returncode != 0 and "not running" in p.stderr


def test_exec_options(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "xx", "-e", "A=1", busybox_image, "sleep", "600")
    assert berth_host.run("exec", "xx", "sh", "-c", "exit 4", check=False).returncode == 4
    assert berth_host.run("exec", "-e", "B=2", "xx", "sh", "-c", "echo $A$B").stdout == "12\n"
    assert berth_host.run("exec", "-u", "app", "xx", "id", "-u").stdout == "1000\n"
    assert berth_host.run("exec", "-w", "/tmp", "xx", "pwd").stdout == "/tmp\n"
    p = berth_host.run("exec", "xx", "sh", "-c", "echo o; echo e >&2", check=False)
    assert (p.stdout, p.stderr) == ("o\n", "e\n")
    berth_host.run("exec", "-d", "xx", "sh", "-c", "echo bg > /tmp/bg")
    wait_for(lambda: berth_host.run("exec", "xx", "cat", "/tmp/bg", check=False).stdout == "bg\n")
    p = berth_host.run("exec", "xx", "/nonexistent", check=False)
    assert p.returncode != 0
    top = berth_host.run("top", "xx").stdout
    assert "sleep 600" in top and "PID" in top.splitlines()[0]


def test_users_and_workdir(berth_host, busybox_image):
    out = berth_host.run("run", "--rm", *NONE, "-u", "app", "-w", "/srv/new", busybox_image, "sh", "-c",
                         "id; pwd").stdout.splitlines()
    assert out[0].startswith("uid=1000(app) gid=1000(app)") and "1001(appextra)" in out[0]
    assert out[1] == "/srv/new"
    assert berth_host.run("run", "--rm", *NONE, "-u", "4242:4243", busybox_image, "sh", "-c",
                          "id -u; id -g").stdout.split() == ["4242", "4243"]
    p = berth_host.run("run", "--rm", *NONE, "-u", "ghost", busybox_image, "true", check=False)
    assert p.returncode != 0 and "ghost" in p.stderr and "User" in p.stderr
    assert berth_host.run("ps", "-aq").stdout == ""


def test_env_hostname_entrypoint(berth_host, busybox_image):
    out = berth_host.run("run", "--rm", *NONE, "-h", "myhost", "-e", "FOO=bar", "--entrypoint", "sh",
                         busybox_image, "-c", "hostname; cat /etc/hostname; echo $FOO; echo $PATH; echo $HOSTNAME"
                         ).stdout.split()
    assert out[:3] == ["myhost", "myhost", "bar"] and "/bin" in out[3] and out[4] == "myhost"


def test_pause_unpause_update(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "pp", "-m", "64m", busybox_image, "sleep", "600")
    berth_host.run("pause", "pp")
    assert inspect(berth_host, "pp")["State"]["Status"] == "paused"
    assert "Paused" in berth_host.run("ps").stdout
    berth_host.run("unpause", "pp")
    assert inspect(berth_host, "pp")["State"]["Status"] == "running"
    berth_host.run("update", "-m", "96m", "--restart", "on-failure:3", "--pids-limit", "50", "pp")
    d = inspect(berth_host, "pp")
    assert d["HostConfig"]["Memory"] == 96 << 20 and d["HostConfig"]["PidsLimit"] == 50
    assert d["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    from pathlib import Path

    cid = d["Id"]
    v1 = Path(f"/sys/fs/cgroup/memory/berth/{cid}/memory.limit_in_bytes")
    v2 = Path(f"/sys/fs/cgroup/berth/{cid}/memory.max")
    assert int((v1 if v1.exists() else v2).read_text()) == 96 << 20  # applied live by runc update
    stats = berth_host.json("stats", "--no-stream", "--format", "json", "pp")
    assert stats[0]["Name"] == "pp" and "96MiB" in stats[0]["MemUsage"]


def test_cp_diff_export_commit(berth_host, busybox_image, tmp_path):
    berth_host.run("run", "-d", *NONE, "--name", "ff", busybox_image, "sh", "-c",
                   "echo hi > /root/new; rm /etc/os-release; exec sleep 600")
    wait_for(lambda: "A /root/new" in berth_host.run("diff", "ff").stdout)
    diff = berth_host.run("diff", "ff").stdout.splitlines()
    assert diff == ["C /etc", "D /etc/os-release", "C /root", "A /root/new"]
    src = tmp_path / "in.txt"
    src.write_text("from host")
    berth_host.run("cp", str(src), "ff:/tmp/")
    assert berth_host.run("exec", "ff", "cat", "/tmp/in.txt").stdout == "from host"
    berth_host.run("cp", "ff:/root/new", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "hi\n"
    tar = tmp_path / "fs.tar"
    berth_host.run("export", "-o", str(tar), "ff")
    names = subprocess.run(["tar", "-tf", str(tar)], capture_output=True, text=True).stdout.split()
    assert "root/new" in names and "bin/busybox" in names
    img = berth_host.run("commit", "-c", "CMD [\"cat\", \"/root/new\"]", "ff", "berth-test/committed:1").stdout
    assert img.startswith("sha256:")
    assert berth_host.run("run", "--rm", *NONE, "berth-test/committed:1").stdout == "hi\n"
    # rmi refuses an image a container uses
    p = berth_host.run("rmi", busybox_image, check=False)
    assert p.returncode != 0


def test_create_then_start_and_bind_mounts(berth_host, busybox_image, tmp_path):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro/f").write_text("x\n")
    cid = berth_host.run("create", *NONE, "--name", "cc", "-v", f"{tmp_path}/ro:/ro:ro",
                         "--mount", f"type=bind,source={tmp_path},target=/rw",
                         "--tmpfs", "/scratch:size=1m", busybox_image, "sh", "-c",
                         "cat /ro/f; touch /ro/g 2>/dev/null || echo ro-ok; echo w > /rw/w; "
                         "grep /scratch /proc/mounts | grep -c tmpfs").stdout.strip()
    assert inspect(berth_host, "cc")["State"]["Status"] == "created"
    berth_host.run("start", "cc")
    assert berth_host.run("wait", "cc").stdout.strip() == "0"
    assert berth_host.run("logs", "cc").stdout.split() == ["x", "ro-ok", "1"]
    assert (tmp_path / "w").read_text() == "w\n"
    mounts = {m["Destination"]: m for m in inspect(berth_host, cid)["Mounts"]}
    assert mounts["/ro"]["RW"] is False and mounts["/rw"]["Type"] == "bind"


def test_stdin_and_follow_logs(berth_host, busybox_image):
    p = berth_host.run("run", "--rm", "-i", *NONE, busybox_image, "sh", "-c", "cat; echo done", input="piped\n")
    assert p.stdout == "piped\ndone\n"
    berth_host.run("run", "-d", *NONE, "--name", "fl", busybox_image, "sh", "-c",
                   "echo a; sleep 0.5; echo b >&2; echo c")
    p = berth_host.run("logs", "-f", "fl")  # returns once the container has exited
    assert (p.stdout, p.stderr) == ("a\nc\n", "b\n")


@pytest.mark.requires("script")
def test_tty(berth_host, busybox_image):
    cmd = " ".join([*berth_host.argv, "run", "--rm", "-it", *NONE, busybox_image, "sh", "-c", "'tty; echo $TERM'"])
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, env=berth_host.env,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 0
    assert "/dev/pts/0" in p.stdout and "xterm" in p.stdout


def test_run_none_network_stays_lean(berth_host, busybox_image):
    """`run --network none` imports neither pyroute2 nor pydantic (start-up is paid per call)."""
    import sys

    argv = [sys.executable, "-X", "importtime", *berth_host.argv[1:], "run", "--rm", *NONE, busybox_image, "true"]
    p = subprocess.run(argv, capture_output=True, text=True, env=berth_host.env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in imported if m.split(".")[0] in ("pyroute2", "pydantic", "zstandard")}


def test_oneshot_run_step(berth_host, busybox_image, tmp_path):
    """Build steps: a process on an overlay of the image layers; changes land in the upper dir only."""
    import io

    from engine.containers.oneshot import run_step
    from engine.context import Context
    from engine.images.store import ImageStore

    ctx = Context(root=berth_host.root, runroot=berth_host.runroot, config_path=berth_host.config)
    img = ImageStore(ctx).resolve(busybox_image)
    upper = tmp_path / "step" / "upper"
    out = io.StringIO()
    rc = run_step(ctx, lower_dirs=img.layer_dirs(), upper_dir=upper, args=["sh", "-c", "echo hi > /made; id -u; exit 3"],
                  env=["PATH=/bin"], cwd="/", user="app", network_mode="none", shell_out=out)
    # stdout and stderr come through two pipes: their relative order is not fixed
    assert rc == 3 and sorted(out.getvalue().splitlines()) == ["1000", "sh: can't create /made: Permission denied"]
    rc = run_step(ctx, lower_dirs=img.layer_dirs(), upper_dir=upper, args=["sh", "-c", "echo hi > /made"],
                  env=["PATH=/bin"], cwd="/", user="", network_mode="none", shell_out=out)
    assert rc == 0
    assert sorted(p.name for p in upper.iterdir()) == ["made"]
    assert leftovers(berth_host) == []


def test_named_and_anonymous_volumes(berth_host, busybox_image):
    berth_host.run("run", "--rm", *NONE, "-v", "vdata:/etc", busybox_image, "sh", "-c", "echo x > /etc/marker")
    out = berth_host.run("run", "--rm", *NONE, "-v", "vdata:/data", busybox_image, "ls", "/data").stdout.split()
    assert "marker" in out and "passwd" in out  # the image's /etc was copied into the empty volume
    berth_host.run("run", "-d", *NONE, "--name", "av", "-v", "/scratch", busybox_image, "sleep", "600")
    m = inspect(berth_host, "av")["Mounts"][0]
    assert m["Type"] == "volume" and re.fullmatch(r"[0-9a-f]{64}", m["Name"]) and m["Destination"] == "/scratch"
    assert all(not k.startswith("_") for k in m)
    berth_host.run("rm", "-f", "-v", "av")
    names = [v["Name"] for v in berth_host.json("ls", "volume")]
    assert names == ["vdata"]
    berth_host.run("volume", "rm", "vdata")


def test_cp_never_writes_outside_the_rootfs(berth_host, busybox_image, tmp_path):
    target = tmp_path / "hostdir"
    target.mkdir()
    berth_host.run("run", "-d", *NONE, "--name", "esc", busybox_image, "sh", "-c",
                   f"mkdir -p /dst; ln -s {target} /dst/tree; ln -s ../../../../../{target} /dst/rel; exec sleep 600")
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("x")
    berth_host.run("cp", str(src), "esc:/dst/")
    (tmp_path / "rel").mkdir()
    (tmp_path / "rel" / "g").write_text("y")
    berth_host.run("cp", str(tmp_path / "rel"), "esc:/dst/")
    assert list(target.iterdir()) == []
    assert berth_host.run("exec", "esc", "cat", f"{target}/sub/f").stdout == "x"


def test_generated_etc_files(berth_host, busybox_image):
    """/etc/hostname, /etc/hosts and /etc/resolv.conf are generated (the host's resolv.conf
    minus loopback nameservers), bind-mounted, and follow -h, --add-host and --dns-search."""
    from pathlib import Path

    from engine.containers.deps import resolv_conf

    out = berth_host.run("run", "--rm", *NONE, "-h", "box", "--add-host", "db:10.1.2.3", "--dns-search",
                         "corp.example", busybox_image, "sh", "-c",
                         "cat /etc/resolv.conf; echo --; cat /etc/hosts; echo --; cat /etc/hostname; echo --; "
                         "grep -E ' /etc/(hosts|hostname|resolv.conf) ' /proc/self/mounts | wc -l").stdout
    resolv, hosts, hostname, nmounts = out.split("--\n")
    want = resolv_conf(Path("/etc/resolv.conf").read_text(), {"DnsSearch": ["corp.example"]})
    assert resolv == want and "search corp.example\n" in resolv
    assert not [ln for ln in resolv.splitlines() if ln.startswith(("nameserver 127.", "nameserver ::1"))]
    assert "127.0.0.1\tlocalhost\n" in hosts and "10.1.2.3\tdb\n" in hosts
    assert hostname == "box\n" and nmounts.strip() == "3"


@pytest.mark.parametrize("detach", [False, True])
def test_run_exit_codes_of_a_command_that_cannot_start(berth_host, busybox_image, detach):
    """Like docker run: 127 for a command that does not exist, 126 for one that cannot be
    invoked; the error names Cmd and no container is left."""
    d = ["-d"] if detach else []
    p = berth_host.run("run", *d, *NONE, busybox_image, "no-such-command", check=False)
    assert p.returncode == 127 and "Cmd" in p.stderr and "no-such-command" in p.stderr
    p = berth_host.run("run", *d, *NONE, busybox_image, "/etc/passwd", check=False)
    assert p.returncode == 126 and "Cmd" in p.stderr and "permission denied" in p.stderr
    assert berth_host.run("ps", "-aq").stdout == ""
    assert leftovers(berth_host) == []


def test_ps_filters_and_inspect_format(berth_host, busybox_image):
    berth_host.run("create", *NONE, "--name", "st-created", busybox_image, "true")
    berth_host.run("run", *NONE, "--name", "st-exited", busybox_image, "sh", "-c", "exit 3", check=False)
    run_id = berth_host.run("run", "-d", *NONE, "--name", "st-running", busybox_image, "sleep", "600").stdout.strip()
    berth_host.run("run", "-d", *NONE, "--name", "st-paused", busybox_image, "sleep", "600")
    berth_host.run("pause", "st-paused")

    def names(*filters: str) -> list[str]:
        args = [x for f in filters for x in ("--filter", f)]
        return sorted(berth_host.run("ps", "-a", "--format", "{{.Names}}", *args).stdout.split())

    for status in ("created", "exited", "running", "paused"):
        assert names(f"status={status}") == [f"st-{status}"]
    assert names("status=created", "status=exited") == ["st-created", "st-exited"]  # same key: OR
    assert names("exited=3") == ["st-exited"] and names("exited=0") == []
    assert names(f"id={run_id[:8]}") == ["st-running"]
    assert names("name=st-", "status=paused") == ["st-paused"]  # different keys: AND
    p = berth_host.run("ps", "-a", "--filter", "status=sleeping", check=False)
    assert p.returncode == 2 and "status=sleeping" in p.stderr
    # docker inspect -f
    out = berth_host.run("inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.Name}}",
                         "st-exited", "st-running").stdout
    assert out == "exited false 3 /st-exited\nrunning true 0 /st-running\n"
    assert berth_host.run("inspect", "--format", "{{json .Config.Cmd}}", "st-running").stdout == '["sleep","600"]\n'
    p = berth_host.run("inspect", "-f", "{{.State.Bogus}}", "st-running", check=False)
    assert p.returncode == 2 and "Bogus" in p.stderr


def test_tmpfs_size_and_mode(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "tm", "--tmpfs", "/scr:size=1m,mode=1770",
                   "--mount", "type=tmpfs,target=/m2,tmpfs-size=2m,tmpfs-mode=0700", busybox_image, "sleep", "600")
    out = berth_host.run("exec", "tm", "sh", "-c", "stat -c '%n %a' /scr /m2; grep -E ' /(scr|m2) ' /proc/mounts"
                         ).stdout
    assert "/scr 1770\n" in out and "/m2 700\n" in out
    assert "size=1024k" in out and "size=2048k" in out


@pytest.mark.requires("script")
def test_exec_tty(berth_host, busybox_image):
    berth_host.run("run", "-d", *NONE, "--name", "tm", busybox_image, "sleep", "600")
    cmd = " ".join([*berth_host.argv, "exec", "-it", "tm", "sh", "-c", "'tty; echo $TERM; exit 5'"])
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, env=berth_host.env,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 5 and "/dev/pts/" in p.stdout and "xterm" in p.stdout


def test_logs_since_until_tail(berth_host, busybox_image):
    berth_host.run("run", *NONE, "--name", "lg", busybox_image, "sh", "-c",
                   "echo one; echo two >&2; sleep 1.1; echo three; echo four >&2")
    out = berth_host.run("logs", "-t", "lg")
    (t1, one), (t3, three) = (ln.split(" ", 1) for ln in out.stdout.splitlines())
    (t2, two), (t4, four) = (ln.split(" ", 1) for ln in out.stderr.splitlines())
    # the two pipes are read apart: only the order around the sleep is fixed
    assert (one, two, three, four) == ("one", "two", "three", "four") and max(t1, t2) < min(t3, t4)
    later = berth_host.run("logs", "--since", min(t3, t4), "lg")
    assert (later.stdout, later.stderr) == ("three\n", "four\n")
    earlier = berth_host.run("logs", "--until", max(t1, t2), "lg")
    assert (earlier.stdout, earlier.stderr) == ("one\n", "two\n")
    assert berth_host.run("logs", "--since", "1h", "lg").stdout == "one\nthree\n"
    last = berth_host.run("logs", "--tail", "2", "lg")
    assert (last.stdout, last.stderr) == ("three\n", "four\n")
    p = berth_host.run("logs", "--since", "yesterday-ish", "lg", check=False)
    assert p.returncode == 2 and "since" in p.stderr
