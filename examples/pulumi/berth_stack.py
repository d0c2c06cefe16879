"""The demo stack as a function, shared by `__main__.py` (pulumi up), the tests and the
benchmark: a network, a volume, a web image built on the host from ./web, the web container
with a published port, and client containers that fetch the page by name into the volume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_berth as berth

WEB_CONTEXT = Path(__file__).resolve().parent / "web"


def deploy(connection: dict[str, Any], *, engine: dict[str, Any] | None = None, base_image: str = "busybox:1.36",
           prefix: str = "demo", web_port: int = 8080, clients: int = 1, restart_policy: str = "unless-stopped",
           subnet: str | None = "10.77.0.0/24", pull_base: bool = True, web_version: str = "1") -> dict[str, Any]:
    common: dict[str, Any] = {"connection": connection, "engine": engine}
    net = berth.Network(f"{prefix}-net", ipam_config=[{"subnet": subnet}] if subnet else None, **common)
    vol = berth.Volume(f"{prefix}-data", **common)
    base: Any = base_image
    deps: list[pulumi.Resource] = []
    if pull_base:
        remote = berth.RemoteImage(f"{prefix}-base", name=base_image, keep_locally=True, **common)
        base = remote.repo_digest.apply(lambda d: d or base_image)
        deps.append(remote)
    image = berth.Image(f"{prefix}-web-image", name=f"{prefix}/web", tag=web_version, path=str(WEB_CONTEXT),
                        args={"BASE": base, "VERSION": web_version}, opts=pulumi.ResourceOptions(depends_on=deps), **common)
    web = berth.Container(
        f"{prefix}-web", image=image.image_id, published_ports=[f"{web_port}:80"],
        networks=[{"name": net.name, "aliases": ["web"]}], restart_policy=restart_policy, **common)
    # PID 1 ignores SIGTERM unless it handles it: trap it so stops are quick
    loop = "trap 'exit 0' TERM; while true; do wget -q -O /data/page.html http://web/; sleep 5 & wait $!; done"
    client_list = [
        berth.Container(
            f"{prefix}-client-{i}", image=base, command=["sh", "-c", loop],
            networks=[{"name": net.name}], volumes=[pulumi.Output.concat(vol.volume_name, ":/data")],
            restart_policy=restart_policy, opts=pulumi.ResourceOptions(depends_on=[web]), **common)
        for i in range(clients)
    ]
    pulumi.export("web_url", pulumi.Output.concat("http://", connection["host"], ":", str(web_port), "/"))
    pulumi.export("web_ip", web.ip_addresses)
    pulumi.export("subnet", net.subnet)
    pulumi.export("volume_mountpoint", vol.mountpoint)
    pulumi.export("web_image_id", image.image_id)
    return {"network": net, "volume": vol, "image": image, "web": web, "clients": client_list}
