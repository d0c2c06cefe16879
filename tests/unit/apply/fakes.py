"""A fake engine edge for unit tests: keeps containers/images in dicts, turning a create body
into an inspect record the way the real engine does (Config from the body's top level merged
over the image config, HostConfig and NetworkingConfig as given)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

BUSYBOX = "docker.io/library/busybox:latest"


def image_id(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


class FakeEdge:
    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {
            BUSYBOX: {"Id": image_id("busybox-1"),
                      "Config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["sh"], "Labels": {"img": "1"}},
                      "RepoTags": ["busybox:latest"]}}
        self.registry: dict[str, dict[str, Any]] = {}  # what a pull would fetch
        self.containers: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple] = []
        self.n = 0

    # images
    def image(self, ref: str) -> dict | None:
        from engine.apply.normalize import image_ref

        try:
            full = image_ref(ref)
        except ValueError:
            full = ref
        for r, img in self.images.items():
            if r in (ref, full) or img["Id"] == ref:
                return copy.deepcopy(img)
        return None

    def inspect(self, ref: str) -> dict | None:
        return self.image(ref)

    def remote_id(self, ref: str, platform: str | None = None, push: bool = False) -> str | None:
        img = self.registry.get(ref)
        return img["Id"] if img else None

    def pull(self, ref: str, platform: str | None = None) -> dict:
        self.calls.append(("pull", ref))
        if ref in self.registry:
            self.images[ref] = copy.deepcopy(self.registry[ref])
        if ref not in self.images:
            raise AssertionError(f"no such image in fake registry: {ref}")
        return copy.deepcopy(self.images[ref])

    # containers
    def container(self, ref: str) -> dict | None:
        for c in self.containers.values():
            if c["Id"] == ref or c["Name"] == "/" + ref:
                return copy.deepcopy(c)
        return None

    def create(self, name: str, body: dict) -> str:
        self.calls.append(("create", name, copy.deepcopy(body)))
        self.n += 1
        cid = hashlib.sha256(f"{name}{self.n}".encode()).hexdigest()
        img = self.image(body["Image"])
        cfg = dict(img["Config"])
        for k, v in body.items():
            if k not in ("HostConfig", "NetworkingConfig"):
                cfg[k] = v
        if "Env" in body:  # Docker merges env: image's first, overridden by the body's
            env = {e.split("=", 1)[0]: e for e in img["Config"].get("Env", [])}
            env.update({e.split("=", 1)[0]: e for e in body["Env"]})
            cfg["Env"] = list(env.values())
        if "Labels" in body:
            cfg["Labels"] = {**img["Config"].get("Labels", {}), **body["Labels"]}
        cfg.setdefault("Hostname", cid[:12])
        hc = {"NetworkMode": "bridge", "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "Memory": 0,
              **copy.deepcopy(body.get("HostConfig", {}))}
        self.containers[cid] = {"Id": cid, "Name": "/" + name, "Image": img["Id"], "Config": cfg,
                                "HostConfig": hc, "NetworkingConfig": body.get("NetworkingConfig") or {},
                                "State": {"Status": "created", "Running": False}}
        return cid

    def _c(self, cid: str) -> dict:
        return self.containers[cid]

    def start(self, cid: str) -> None:
        self.calls.append(("start", cid))
        self._c(cid)["State"] = {"Status": "running", "Running": True}

    def stop(self, cid: str, timeout: int | None = None) -> None:
        self.calls.append(("stop", cid))
        self._c(cid)["State"] = {"Status": "exited", "Running": False, "ExitCode": 0}

    def kill(self, cid: str, signal: str = "SIGKILL") -> None:
        self.calls.append(("kill", cid, signal))
        self._c(cid)["State"] = {"Status": "exited", "Running": False, "ExitCode": 137}

    def pause(self, cid: str) -> None:
        self.calls.append(("pause", cid))
        self._c(cid)["State"] = {"Status": "paused", "Running": True, "Paused": True}

    def unpause(self, cid: str) -> None:
        self.calls.append(("unpause", cid))
        self._c(cid)["State"] = {"Status": "running", "Running": True, "Paused": False}

    def restart(self, cid: str, timeout: int | None = None) -> None:
        self.calls.append(("restart", cid))
        self._c(cid)["State"] = {"Status": "running", "Running": True}

    def remove(self, cid: str, force: bool = False, volumes: bool = False) -> None:
        self.calls.append(("remove", cid, volumes))
        del self.containers[cid]

    def update(self, cid: str, changes: dict) -> list[str]:
        self.calls.append(("update", cid, copy.deepcopy(changes)))
        self._c(cid)["HostConfig"].update(changes)
        return []

    def validate_body(self, body: dict, image_config: dict, check: bool) -> None:
        self._check_hc(body.get("HostConfig", {}))

    @staticmethod
    def _check_hc(hc: dict) -> None:
        if hc.get("NanoCpus") and (hc.get("CpuQuota") or hc.get("CpuPeriod")):
            from engine.errors import InvalidArgument

            raise InvalidArgument("NanoCpus: conflicting options: NanoCpus and CpuPeriod/CpuQuota", field="NanoCpus")

    def validate_update(self, live: dict, changes: dict) -> None:
        self._check_hc({**live["HostConfig"], **changes})
        if changes.get("Memory") and changes["Memory"] < 6 * 1024 * 1024:
            from engine.errors import InvalidArgument

            raise InvalidArgument("Memory: minimum memory limit allowed is 6MB", field="Memory")

    def connect(self, cid: str, network: str, endpoint: dict) -> None:
        self.calls.append(("connect", cid, network))
        self._c(cid)["NetworkingConfig"].setdefault("EndpointsConfig", {})[network] = copy.deepcopy(endpoint)

    def disconnect(self, cid: str, network: str) -> None:
        self.calls.append(("disconnect", cid, network))
        self._c(cid)["NetworkingConfig"]["EndpointsConfig"].pop(network, None)

    def wait(self, cid: str) -> int:
        self._c(cid)["State"] = {"Status": "exited", "Running": False, "ExitCode": 0}
        return 0

    def logs(self, cid: str) -> str:
        return "hello\n"

