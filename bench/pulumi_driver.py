"""Helper of bench_pulumi.sh: set up a loopback sshd and an engine root, then run the example
stack through pulumi_berth.testing with the state kept in WORK/state.json between processes."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "examples" / "pulumi"))


def main() -> int:
    work, cmd = Path(sys.argv[1]), sys.argv[2]
    env_file = work / "env.json"
    if cmd == "setup":
        from tests.fixtures.host import BerthHost
        from tests.fixtures.images import build_busybox_rootfs, import_into
        from tests.fixtures.sshd import start_sshd

        server, proc = start_sshd(work / "sshd")
        (work / "sshd.pid").write_text(str(proc.pid))
        host = BerthHost(work / "host")
        import_into(host, build_busybox_rootfs(work / "rootfs.tar"), "berth-test/busybox:latest", ['CMD ["sh"]'])
        env = {"connection": {"host": server.host, "port": server.port, "user": server.user,
                              "private_key": server.private_key, "host_key": server.host_pub},
               "engine": {"command": str(Path(sys.executable).parent / "berth"), "root": str(host.root),
                          "runroot": str(host.runroot), "config": str(host.config)},
               "clients": int(sys.argv[3])}
        env_file.write_text(json.dumps(env))
        env_file.chmod(0o600)
        return 0
    if cmd == "teardown":
        from tests.fixtures.host import BerthHost

        BerthHost(work / "host").teardown()
        return 0

    import berth_stack
    from pulumi_berth import _ssh
    from pulumi_berth.testing import Deployment

    env = json.loads(env_file.read_text())
    state = str(work / "state.json")
    dep = Deployment.load(state)
    t0 = time.monotonic()
    if cmd == "up":
        s = dep.up(lambda: berth_stack.deploy(env["connection"], engine=env["engine"],
                                              base_image="berth-test/busybox:latest", pull_base=False,
                                              clients=env["clients"], web_port=18080))
        ops = {op: s.count(op) for op in sorted({o for o, _ in s.ops})}
    else:
        s = dep.destroy()
        ops = {"delete": s.count("delete")}
    dt = time.monotonic() - t0
    dep.save(state)
    print(f"ops={ops} ssh_execs={_ssh.STATS['exec']} ssh_connects={_ssh.STATS['connect']} "
          f"in-process={dt:.2f}s")
    _ssh.POOL.close_all()
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    # skip interpreter teardown: event loops the SDK made in worker threads would complain
    # about their closed selectors while being garbage-collected
    os._exit(rc)
