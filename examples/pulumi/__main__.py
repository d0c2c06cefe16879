"""`pulumi up` here deploys the Berth demo stack onto one host over SSH.

    pulumi config set host 192.0.2.10
    pulumi config set hostKey "$(ssh-keyscan -t ed25519 192.0.2.10 | cut -d' ' -f2-)"   # verify it!
    pulumi config set --secret privateKey "$(cat ~/.ssh/id_ed25519)"
    pulumi up
"""

import sys
from pathlib import Path

import pulumi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from berth_stack import deploy  # noqa: E402

cfg = pulumi.Config()
connection = {
    "host": cfg.get("host") or "127.0.0.1",
    "port": cfg.get_int("port") or 22,
    "user": cfg.get("user") or "root",
    "private_key": cfg.require_secret("privateKey"),
    "host_key": cfg.get("hostKey"),
    "known_hosts": cfg.get("knownHosts") or None,
}
# where the engine is on the host (defaults: /opt/berth/bin/berth with its own root)
engine = {"command": cfg.get("engineCommand"), "root": cfg.get("engineRoot")}
deploy(connection, engine={k: v for k, v in engine.items() if v} or None, base_image=cfg.get("baseImage") or "busybox:1.36", web_port=cfg.get_int("webPort") or 8080,
       clients=cfg.get_int("clients") or 1)
