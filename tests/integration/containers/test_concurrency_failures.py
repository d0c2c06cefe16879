"""Twenty parallel runs; failed creates/starts leave nothing behind and name the option."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.integration.containers.conftest import (
    berth_cgroups,
    cgroup_exists,
    inspect,
    leftovers,
    orphan_cgroups,
    records,
)

pytestmark = pytest.mark.requires("root", "runc", "conmon", "overlay", "busybox")
NONE = ("--network", "none")


def test_twenty_concurrent_runs(berth_host, busybox_image):
    procs = [subprocess.Popen([*berth_host.argv, "run", "-d", *NONE, busybox_image, "sleep", "600"],
                              env=berth_host.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(20)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    ids = {o[0].strip() for o in outs}
    assert len(ids) == 20
    docs = berth_host.json("ls", "container")
    assert {d["Id"] for d in docs} == ids
    assert len({d["Name"] for d in docs}) == 20
    assert all(d["State"]["Running"] for d in docs)
    # every record is intact JSON
    for cid in ids:
        json.loads((berth_host.root / "containers" / cid / "container.json").read_text())
    berth_host.run("rm", "-f", *[i[:12] for i in ids])
    assert records(berth_host) == [] and leftovers(berth_host) == []


@pytest.mark.parametrize("flags,cmd,needle", [
    ([], ["nonexistent-cmd"], "Cmd"),
    (["--mount", "type=bind,source=/nonexistent/src,target=/x"], ["true"], "Mounts"),
    (["-m", "1k"], ["true"], "Memory"),
    (["--restart", "sometimes"], ["true"], "RestartPolicy"),
    (["--cap-add", "BOGUS"], ["true"], "CapAdd"),
    (["-u", "ghost"], ["true"], "User"),
])
def test_failed_run_leaves_nothing(berth_host, busybox_image, flags, cmd, needle):
    before = berth_cgroups()
    p = berth_host.run("run", "-d", *NONE, "--name", "bad", *flags, busybox_image, *cmd, check=False)
    assert p.returncode != 0
    assert needle in p.stderr, p.stderr
    assert records(berth_host) == []
    assert leftovers(berth_host) == [] and orphan_cgroups(before) == set()


def test_missing_image_and_bad_name(berth_host, busybox_image):
    p = berth_host.run("run", "--pull", "never", *NONE, "berth-test/nope:1", "true", check=False)
    assert p.returncode != 0 and "nope" in p.stderr
    p = berth_host.run("create", *NONE, "--name", "bad name", busybox_image, check=False)
    assert p.returncode == 2 and "name" in p.stderr
    assert records(berth_host) == []


def test_failed_start_of_created_container_cleans_up(berth_host, busybox_image):
    cid = berth_host.run("create", *NONE, "--name", "later", busybox_image, "/no/such/binary").stdout.strip()
    p = berth_host.run("start", "later", check=False)
    assert p.returncode != 0 and "Cmd" in p.stderr
    assert inspect(berth_host, "later")["State"]["Status"] == "created"
    assert leftovers(berth_host) == [] and not cgroup_exists(cid)
    berth_host.run("rm", "later")
    assert records(berth_host) == []
