"""Where an engine instance keeps its state, and its configuration.

A `Context` is cheap to build (no I/O beyond reading the config file on first use) and is
passed explicitly to everything that touches the host. Two contexts with different roots are
fully independent: tests run several simulated hosts side by side this way.

Layout under `root` (persistent, default /var/lib/berth):
    oci/                 OCI image layout (oci-layout, index.json, blobs/sha256/...)
    layers/<diffid-hex>/ each layer unpacked once, used as an overlayfs lower dir
    images/              per-image metadata (tags, digests) beside the layout
    containers/<id>/     container record (config.json), overlay upper/work dirs, logs
    volumes/<name>/      named volumes
    networks/            network records
    auth.json            registry credentials (0600, Docker config.json "auths" format)
    tmp/                 staging area on the same filesystem (for atomic renames)

Layout under `runroot` (runtime, default /run/berth, cleared at boot):
    runc/                runc --root
    conmon/<id>/         conmon pid file, exit files, attach sockets
    netns/               network namespaces bind-mounted by Berth
    locks/               lock files
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

DEFAULT_ROOT = "/var/lib/berth"
DEFAULT_RUNROOT = "/run/berth"
DEFAULT_CONFIG = "/etc/berth/config.toml"


class Config:
    """Settings from /etc/berth/config.toml. Unknown keys are an error, so typos show up.
    (A plain class, not a dataclass: every `berth` call builds one, and importing dataclasses
    costs more than the rest of start-up's own code.)"""

    DEFAULTS: dict[str, Any] = {
        "runtime": "runc",
        "conmon": "conmon",
        "init_path": "tini",
        "seccomp_profile": "/usr/share/containers/seccomp.json",
        "default_subnet": "",  # "" = pick a free one from subnet_pool
        "subnet_pool": "172.17.0.0/12",
        "subnet_size": 16,
        "insecure_registries": [],
        "registry_mirrors": [],
        "max_concurrent_downloads": 3,
        # Monitors and health loops in their own systemd scope: "auto" (when systemd is the
        # init), "yes" or "no". Otherwise they stay in the caller's unit and die with it.
        "systemd_scopes": "auto",
    }
    runtime: str
    conmon: str
    init_path: str
    seccomp_profile: str
    default_subnet: str
    subnet_pool: str
    subnet_size: int
    insecure_registries: list[str]
    registry_mirrors: list[str]
    max_concurrent_downloads: int
    systemd_scopes: str

    def __init__(self, **settings: Any) -> None:
        unknown = sorted(set(settings) - set(self.DEFAULTS))
        if unknown:
            raise TypeError(f"Config: unknown setting {unknown[0]!r}")
        for k, v in self.DEFAULTS.items():
            value = settings.get(k, v)
            setattr(self, k, list(value) if isinstance(value, list) else value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Config:
        from engine.errors import InvalidArgument

        p = Path(path)
        try:
            text = p.read_text()
        except FileNotFoundError:
            return cls()
        if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
            return cls()  # empty or only comments: no TOML parser needed
        import tomllib

        try:
            data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise InvalidArgument(f"config file {p}: {e}", field="config") from None
        known = set(cls.DEFAULTS)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgument(
                f"config file {p}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})",
                field=unknown[0],
            )
        return cls(**data)


class Context:
    def __init__(self, root: Path, runroot: Path, config_path: Path) -> None:
        self.root = root
        self.runroot = runroot
        self.config_path = config_path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and (self.root, self.runroot, self.config_path) == (
            other.root, other.runroot, other.config_path)

    def __repr__(self) -> str:
        return f"Context(root={self.root!r}, runroot={self.runroot!r}, config_path={self.config_path!r})"

    @classmethod
    def from_env(
        cls, root: str | None = None, runroot: str | None = None, config: str | None = None
    ) -> Context:
        return cls(
            root=Path(root or os.environ.get("BERTH_ROOT") or DEFAULT_ROOT).absolute(),
            runroot=Path(runroot or os.environ.get("BERTH_RUNROOT") or DEFAULT_RUNROOT).absolute(),
            config_path=Path(config or os.environ.get("BERTH_CONFIG") or DEFAULT_CONFIG),
        )

    @cached_property
    def config(self) -> Config:
        return Config.load(self.config_path)

    # --- persistent paths
    @property
    def oci_dir(self) -> Path:
        return self.root / "oci"

    @property
    def layers_dir(self) -> Path:
        return self.root / "layers"

    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def containers_dir(self) -> Path:
        return self.root / "containers"

    @property
    def volumes_dir(self) -> Path:
        return self.root / "volumes"

    @property
    def networks_dir(self) -> Path:
        return self.root / "networks"

    @property
    def builds_dir(self) -> Path:
        return self.root / "builds"

    @property
    def auth_file(self) -> Path:
        return self.root / "auth.json"

    @property
    def tmp_dir(self) -> Path:
        p = self.root / "tmp"
        p.mkdir(parents=True, exist_ok=True)
        return p

    # --- runtime paths
    @property
    def runc_root(self) -> Path:
        return self.runroot / "runc"

    @property
    def conmon_dir(self) -> Path:
        return self.runroot / "conmon"

    @property
    def netns_dir(self) -> Path:
        return self.runroot / "netns"

    @property
    def locks_dir(self) -> Path:
        p = self.runroot / "locks"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def base_args(self) -> list[str]:
        """The global CLI options that select this context (for child `berth` processes)."""
        return ["--root", str(self.root), "--runroot", str(self.runroot), "--config", str(self.config_path)]
