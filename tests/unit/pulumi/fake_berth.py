"""A stand-in for the engine's `berth apply`/`berth inspect` (docs/apply.md), keeping objects in
a JSON file under --root. It fakes only the engine edge so the provider and harness logic can be
unit-tested over a real SSH connection; the integration tests use the real engine."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import uuid
from pathlib import Path

IN_PLACE = {"restart_policy", "restart_retries", "memory", "cpus", "pids_limit", "state"}
BEHAVIOUR = {"name", "pull", "comparisons", "recreate", "restart", "keep_volumes", "force_kill", "detach"}
RESTART = {"no", "on-failure", "always", "unless-stopped"}


def _db(root: Path) -> dict:
    f = root / "fake.json"
    return json.loads(f.read_text()) if f.exists() else {"container": {}, "network": {}, "volume": {}, "image": {}}


def _save(root: Path, db: dict) -> None:
    (root / "fake.json").write_text(json.dumps(db))


def _err(rc: int, type_: str, msg: str, field: str | None = None) -> int:
    print(json.dumps({"error": {"type": type_, "message": msg, **({"field": field} if field else {})}}))
    return rc


def _container_doc(name: str, o: dict) -> dict:
    spec = o["spec"]
    ports = {}
    for p in spec.get("published_ports") or []:
        host, _, cport = p.rpartition(":")
        ports[f"{cport}/tcp"] = [{"HostIp": "0.0.0.0", "HostPort": host}]
    nets = {n["name"]: {"IPAddress": f"10.88.0.{2 + i}"} for i, n in enumerate(spec.get("networks") or [])}
    running = o["state"] in ("started", "healthy")
    return {"Id": o["id"], "Name": "/" + name, "Image": "sha256:" + hashlib.sha256(spec["image"].encode()).hexdigest(),
            "Config": {"Image": spec["image"]},
            "State": {"Status": "running" if running else "exited", "Running": running},
            "HostConfig": {"RestartPolicy": {"Name": spec.get("restart_policy") or "no"}},
            "NetworkSettings": {"Networks": nets, "Ports": ports}}


def _doc(kind: str, name: str, o: dict) -> dict:
    if kind == "container":
        return _container_doc(name, o)
    if kind == "network":
        subnet = ((o["spec"].get("ipam_config") or [{}])[0]).get("subnet") or "10.89.0.0/24"
        return {"Id": o["id"], "Name": name, "IPAM": {"Config": [{"Subnet": subnet,
                                                                  "Gateway": subnet.rsplit(".", 1)[0] + ".1"}]}}
    if kind == "volume":
        return {"Name": name, "Driver": "local", "Mountpoint": f"/var/lib/berth/volumes/{name}/_data"}
    return {"Id": o["id"], "RepoTags": [name], "RepoDigests": [f"{name.split(':')[0]}@sha256:{o['id'][7:]}"]}


def apply(root: Path, req: dict) -> int:
    if req.get("api") != 1:
        return _err(2, "api_mismatch", "api mismatch", "api")
    kind, spec, check = req["kind"], dict(req.get("spec") or {}), bool(req.get("check"))
    state = req.get("state") or ("started" if kind == "container" else "present")
    op = (req.get("options") or {}).get("operation", "present")
    if kind == "login":
        print(json.dumps({"changed": False, "actions": [], "resource": {}}))
        return 0
    db = _db(root)
    if kind == "image":
        name = spec["name"] + (":" + spec["tag"] if spec.get("tag") else "")
        if ":" not in name.rsplit("/", 1)[-1]:
            name += ":latest"
        if op == "remove":
            state = "absent"
    else:
        name = spec.get("volume_name") if kind == "volume" else spec.get("name")
    if kind == "container" and spec.get("restart_policy") not in (None, *RESTART):
        return _err(2, "invalid", f"spec.restart_policy: invalid value {spec['restart_policy']!r}",
                    "spec.restart_policy")
    if kind == "container" and state != "absent":
        missing = [n["name"] for n in spec.get("networks") or [] if n["name"] not in db["network"]]
        if missing:
            return _err(1, "not_found", f"spec.networks: no such network {missing[0]!r}", "spec.networks.0.name")
    objs = db[kind]
    cur = objs.get(name)
    actions: list[str] = []
    if state == "absent":
        if cur is not None:
            actions.append("removed")
            if not check:
                del objs[name]
    elif kind == "image":
        if op == "build":
            digest = hashlib.sha256(json.dumps(spec.get("args") or {}, sort_keys=True).encode())
            for p in sorted(Path(spec["path"]).rglob("*")):
                if p.is_file():
                    digest.update(p.name.encode() + p.read_bytes())
            new_id = "sha256:" + digest.hexdigest()
            if cur is None or cur["id"] != new_id or spec.get("rebuild") == "always":
                actions.append(f"built {name}")
            if not check:
                objs[name] = {"id": new_id, "spec": spec, "state": state}
        elif cur is None:
            actions.append(f"pulled {name}")
            if not check:
                objs[name] = {"id": "sha256:" + hashlib.sha256(name.encode()).hexdigest(), "spec": spec, "state": state}
    elif cur is None:
        actions += ["created", "started"] if state == "started" else ["created"]
        if not check:
            objs[name] = {"id": uuid.uuid4().hex * 2, "spec": spec, "state": state}
    else:
        olds = cur["spec"]
        diff = {k for k in set(spec) | set(olds) if k not in BEHAVIOUR and spec.get(k) != olds.get(k)
                and spec.get(k) is not None}
        if state != cur["state"]:
            diff.add("state")
        if diff and diff <= IN_PLACE:
            actions.append("updated")
            if not check:
                cur["spec"], cur["state"] = spec, state
        elif diff:
            actions.append("recreated")
            if not check:
                objs[name] = {"id": uuid.uuid4().hex * 2, "spec": spec, "state": state}
    if not check:
        _save(root, db)
    o = objs.get(name)
    print(json.dumps({"changed": bool(actions), "actions": actions, "diff": {},
                      "resource": _doc(kind, name, o) if o else None, "warnings": []}))
    return 0


def main(argv: list[str]) -> int:
    root = Path("/var/lib/berth")
    while argv and argv[0].startswith("--"):
        opt, val = argv.pop(0), argv.pop(0)
        if opt == "--root":
            root = Path(val)
    root.mkdir(parents=True, exist_ok=True)
    with open(os.devnull, "w"):
        pass
    if argv[0] == "apply":
        return apply(root, json.loads(sys.stdin.read()))
    if argv[0] == "inspect":
        kind, name = argv[1], argv[2]
        objs = _db(root)[kind]
        if kind == "image" and ":" not in name.rsplit("/", 1)[-1] and "@" not in name:
            name += ":latest"
        if name not in objs:
            print("[]")
            return 3
        print(json.dumps([_doc(kind, name, objs[name])]))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
