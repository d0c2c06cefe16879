"""pulumi_berth: Pulumi dynamic resources for Berth hosts, driven over SSH through `berth apply`.

    import pulumi_berth as berth
    conn = {"host": "10.0.0.5", "user": "root", "private_key": key, "host_key": "ssh-ed25519 AAAA..."}
    net = berth.Network("app", connection=conn)
    web = berth.Container("web", connection=conn, image="nginx:1.25", published_ports=["8080:80"],
                          networks=[{"name": net.name}], restart_policy="always")
"""

from ._common import ConnectionArgs, EngineArgs
from .container import Container, ContainerProvider
from .image import Image, ImageProvider, RemoteImage, RemoteImageProvider
from .network import Network, NetworkProvider
from .volume import Volume, VolumeProvider

__all__ = [
    "ConnectionArgs", "EngineArgs",
    "Container", "ContainerProvider", "Image", "ImageProvider", "RemoteImage", "RemoteImageProvider",
    "Network", "NetworkProvider", "Volume", "VolumeProvider",
]
__version__ = "0.1.0"
