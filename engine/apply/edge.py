"""The only place `berth apply` touches the host: thin adapters over the engine packages
(engine.containers.api, engine.images.*, engine.networks.api, engine.volumes.api,
engine.build.api). Unit tests replace these objects with fakes; integration tests use them as
they are. Each engine module is imported on first use, so a no-op apply imports little."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.errors import BerthError, NotFound

if TYPE_CHECKING:
    from engine.context import Context


def _mod(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):
            raise BerthError(f"this engine build lacks {name} (needed by berth apply)") from None
        raise


def _fn(module: str, name: str) -> Any:
    fn = getattr(_mod(module), name, None)
    if fn is None:
        raise BerthError(f"this engine build lacks {module}.{name} (needed by berth apply)")
    return fn


class ImageEdge:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _store(self) -> Any:
        return _mod("engine.images.store").ImageStore(self.ctx)

    @staticmethod
    def _short(img: Any) -> dict[str, Any]:
        return {"Id": img.id, "Config": img.config.get("config") or {}, "RepoTags": img.repo_tags}

    def image(self, ref: str) -> dict[str, Any] | None:
        """{"Id", "Config", "RepoTags"} of a local image, or None."""
        if not ref:
            return None
        try:
            return self._short(self._store().resolve(ref))
        except NotFound:
            return None

    def inspect(self, ref: str) -> dict[str, Any] | None:
        try:
            return _fn("engine.images.api", "inspect")(self.ctx, ref)
        except NotFound:
            return None

    def pull(self, ref: str, platform: str | None = None) -> dict[str, Any]:
        pull = _fn("engine.images.api", "pull")
        img = pull(self.ctx, ref, platform=platform, quiet=True) if platform else pull(self.ctx, ref, quiet=True)
        return self._short(img)

    def remote_id(self, ref: str, platform: str | None = None, push: bool = False) -> str | None:
        from engine.apply.remote import remote_image_id

        return remote_image_id(self.ctx, ref, platform, push=push)

    def push(self, ref: str) -> None:
        _fn("engine.images.api", "push")(self.ctx, ref)

    def tag(self, ref: str, target: str) -> None:
        self._store().tag(ref, target)

    def remove_image(self, ref: str, force: bool = False, prune: bool = True) -> list[dict[str, str]]:
        return self._store().remove(ref, force=force, prune_children=prune)

    def build(self, **kw: Any) -> dict[str, Any]:
        img = _fn("engine.build.api", "build")(self.ctx, **kw)
        if isinstance(img, str):
            return self.image(img) or {"Id": img}
        return self._short(img)

    def load(self, path: str) -> list[str]:
        """Load a docker-save/OCI archive; return the loaded image names (or ids)."""
        with open(path, "rb") as f:
            out = _fn("engine.images.api", "load")(self.ctx, f)
        names: list[str] = []
        for x in out or []:
            names.append(x if isinstance(x, str) else getattr(x, "id", str(x)))
        return names

    def save(self, refs: list[str], path: str) -> None:
        _fn("engine.images.api", "save")(self.ctx, refs, path)

    def login(self, registry: str, user: str, password: str) -> None:
        _fn("engine.images.api", "login")(self.ctx, registry, user, password)

    def logout(self, registry: str) -> None:
        _fn("engine.images.api", "logout")(self.ctx, registry)

    def list_all(self) -> list[dict[str, Any]]:
        return _fn("engine.images.api", "list_all")(self.ctx)

    def list_all_images(self) -> list[dict[str, Any]]:
        """Every image, untagged build steps included."""
        return _fn("engine.images.api", "list_all")(self.ctx, all=True)

    def prune_images(self, *, all: bool, select: Any) -> dict[str, Any]:
        return _fn("engine.images.api", "prune")(self.ctx, all=all, select=select)


class ContainerEdge(ImageEdge):
    API = "engine.containers.api"

    def container(self, ref: str) -> dict[str, Any] | None:
        try:
            return _fn(self.API, "inspect")(self.ctx, ref)
        except NotFound:
            return None
        except ModuleNotFoundError:
            return None

    def create(self, name: str, body: dict[str, Any]) -> str:
        return _fn(self.API, "create")(self.ctx, name, body)

    def start(self, cid: str) -> None:
        _fn(self.API, "start")(self.ctx, cid)

    def stop(self, cid: str, timeout: int | None = None) -> None:
        _fn(self.API, "stop")(self.ctx, cid, timeout=timeout)

    def pause(self, cid: str) -> None:
        _fn(self.API, "pause")(self.ctx, cid)

    def unpause(self, cid: str) -> None:
        _fn(self.API, "unpause")(self.ctx, cid)

    def kill(self, cid: str, signal: str = "SIGKILL") -> None:
        _fn(self.API, "kill")(self.ctx, cid, signal)

    def restart(self, cid: str, timeout: int | None = None) -> None:
        _fn(self.API, "restart")(self.ctx, cid, timeout=timeout)

    def remove(self, cid: str, force: bool = False, volumes: bool = False) -> None:
        _fn(self.API, "remove")(self.ctx, cid, force=force, volumes=volumes)

    def update(self, cid: str, changes: dict[str, Any]) -> list[str]:
        """Returns the engine's warnings (a limit the kernel cannot enforce, dropped)."""
        return list(_fn(self.API, "update")(self.ctx, cid, changes) or [])

    def wait(self, cid: str) -> int:
        out = _fn(self.API, "wait")(self.ctx, cid)
        if isinstance(out, dict):
            return int(out.get("StatusCode", 0))
        return int(out)

    def logs(self, cid: str) -> str:
        rec = self.container(cid) or {}
        chunks: list[bytes] = []
        if rec.get("LogPath"):
            _fn("engine.containers.logs", "read")(rec["LogPath"], out=lambda _stream, data: chunks.append(data))
        return b"".join(chunks).decode(errors="replace")

    def exec_run(self, cid: str, *, cmd: list[str], env: list[str] | None, user: str | None,
                 workdir: str | None, tty: bool, detach: bool, input: bytes | None = None
                 ) -> tuple[int, bytes, bytes]:
        return _fn("engine.containers.execs", "exec_run")(
            self.ctx, cid, cmd, env=env, user=user, workdir=workdir, tty=tty, detach=detach, capture=True,
            input=input)

    def validate_body(self, body: dict[str, Any], image_config: dict[str, Any], check: bool) -> None:
        """Run the engine's own create-time checks without creating anything, so a bad body
        fails before an old container is removed, and check mode reports the same error."""
        cfg = _mod("engine.containers.config")
        hc = cfg.host_config(body.get("HostConfig"))
        cfg.container_config(body, image_config, body["Image"], "0" * 64)
        cfg.mounts(body, hc, image_config)
        if hc.get("VolumesFrom"):
            _mod("engine.containers.api")._volumes_from(self.ctx, hc)  # the source containers exist
        try:
            _fn("engine.networks.api", "validate")(self.ctx, {**body, "HostConfig": hc})
        except NotFound:
            if not check:  # in check mode the network may come from an earlier (planned) task
                raise

    def validate_update(self, live: dict[str, Any], changes: dict[str, Any]) -> None:
        _mod("engine.containers.config").host_config({**(live.get("HostConfig") or {}), **changes})

    def connect(self, cid: str, network: str, endpoint: dict[str, Any]) -> None:
        _fn("engine.networks.api", "connect")(
            self.ctx, cid, network, aliases=endpoint.get("Aliases"),
            ip=(endpoint.get("IPAMConfig") or {}).get("IPv4Address"), mac=endpoint.get("MacAddress"))

    def disconnect(self, cid: str, network: str) -> None:
        _fn("engine.networks.api", "disconnect")(self.ctx, cid, network, force=True)

    def list_containers(self) -> list[dict[str, Any]]:
        return _fn(self.API, "list_all")(self.ctx)


class NetworkEdge:
    API = "engine.networks.api"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def network(self, name: str) -> dict[str, Any] | None:
        try:
            return _fn(self.API, "inspect")(self.ctx, name)
        except NotFound:
            return None

    def create(self, name: str, options: dict[str, Any]) -> str:
        return _fn(self.API, "create")(self.ctx, name, options)

    def remove(self, name: str) -> None:
        _fn(self.API, "remove")(self.ctx, name)

    def connect(self, container: str, network: str) -> None:
        _fn(self.API, "connect")(self.ctx, container, network)

    def disconnect(self, container: str, network: str, force: bool = False) -> None:
        _fn(self.API, "disconnect")(self.ctx, container, network, force=force)

    def container(self, ref: str) -> dict[str, Any] | None:
        return ContainerEdge(self.ctx).container(ref)

    def list_all(self) -> list[dict[str, Any]]:
        return _fn(self.API, "list_all")(self.ctx)


class VolumeEdge:
    API = "engine.volumes.api"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def volume(self, name: str) -> dict[str, Any] | None:
        try:
            return _fn(self.API, "inspect")(self.ctx, name)
        except NotFound:
            return None

    def create(self, name: str, driver: str, driver_opts: dict[str, str], labels: dict[str, str]) -> dict:
        return _fn(self.API, "create")(self.ctx, name, driver=driver, driver_opts=driver_opts, labels=labels)

    def remove(self, name: str, force: bool = False) -> None:
        _fn(self.API, "remove")(self.ctx, name, force=force)

    def list_all(self) -> list[dict[str, Any]]:
        return _fn(self.API, "list_all")(self.ctx)
