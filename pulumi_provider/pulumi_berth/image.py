"""`Image` (built on the host from a local context) and `RemoteImage` (pulled from a registry):
`berth apply` kind `image` with operations `build`, `pull` and `remove`."""

from __future__ import annotations

import secrets
import shlex
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CheckFailure, DiffResult

from . import _context, _diff
from ._base import BerthProvider
from ._common import ConnectionArgs, EngineArgs, drop_none, opts_with_secrets, secret_connection
from ._engine import Engine, EngineError
from ._ssh import ConnectionError_

IMAGE_OUTPUTS = frozenset({"image_id", "repo_digest", "repo_tags"})


def image_ref(name: str, tag: str | None) -> str:
    last = name.rsplit("/", 1)[-1]
    if tag and "@" not in name and ":" not in last:
        return f"{name}:{tag}"
    return name


class _ImageBase(BerthProvider):
    KIND: ClassVar[str] = "image"
    DELETE_BEFORE_REPLACE: ClassVar[bool] = False  # another reference can coexist with the old one
    IGNORED = frozenset({"registry_auth"})  # credentials are never part of the diff
    NON_SPEC = frozenset({"registry_auth", "keep_locally"})
    STATE_ONLY = frozenset({"keep_locally"})
    OUTPUTS = IMAGE_OUTPUTS

    def _ref(self, props: dict[str, Any]) -> str:
        return image_ref(str(props.get("name") or ""), props.get("tag"))

    def _inspect(self, eng: Engine, props: dict[str, Any]) -> dict[str, Any] | None:
        return eng.inspect("image", self._ref(props))

    def _id(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> str:
        return str((resource or {}).get("Id") or self._ref(props))

    def _outputs(self, resource: dict[str, Any] | None, props: dict[str, Any]) -> dict[str, Any]:
        r = resource or {}
        digests = r.get("RepoDigests") or []
        repo = str(props.get("name") or "").split("@")[0]
        last = repo.rsplit("/", 1)[-1]
        if ":" in last:
            repo = repo[: repo.rfind(":")]
        match = [d for d in digests if d.split("@")[0].endswith(repo)] or digests
        return {"image_id": r.get("Id"), "repo_digest": match[0] if match else None,
                "repo_tags": r.get("RepoTags") or []}

    def _login(self, eng: Engine, props: dict[str, Any]) -> None:
        auth = props.get("registry_auth")
        if not auth:
            return
        spec = drop_none({"registry_url": auth.get("registry_url") or auth.get("address"),
                          "username": auth.get("username"), "password": auth.get("password")})
        eng.apply("login", spec)

    def _absent(self, eng: Engine, props: dict[str, Any]) -> dict[str, Any]:
        return eng.apply("image", drop_none({"name": props.get("name"), "tag": props.get("tag")}),
                         options={"operation": "remove"})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("keep_locally"):
            return
        super().delete(_id, props)


class RemoteImageProvider(_ImageBase):
    IN_PLACE = frozenset({"pull", "keep_locally"})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """With ``pull: always`` a new digest behind the same tag is a change (an update that
        pulls it, so containers given ``image_id`` show as replaced in preview): one check-mode
        pull asks the registry. Other settings never call the host here."""
        d = super().diff(_id, olds, news)
        if d.changes or news.get("pull") != "always" or _diff.has_unknown(news):
            return d
        try:
            plan = self._apply(self._engine(news), {k: v for k, v in news.items() if k not in self.OUTPUTS},
                               check=True)
        except (EngineError, ConnectionError_):
            return d  # registry unreachable: nothing to report; `up` will tell
        if plan.get("changed"):
            return DiffResult(changes=True, replaces=[], stables=d.stables, delete_before_replace=False)
        return d

    def _apply(self, eng: Engine, props: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
        if not check:
            self._login(eng, props)
        return eng.apply("image", self._spec(props), check=check, options={"operation": "pull"})


class ImageProvider(_ImageBase):
    """Builds on the host. ``path`` is a local directory: its content hash (honouring
    .dockerignore), computed in check, decides rebuilds; nothing is built during preview."""

    # any build input change rebuilds in place (a new image id under the same name)
    IN_PLACE = frozenset({"context_hash", "path", "dockerfile", "args", "target", "nocache", "pull", "labels",
                          "network", "etc_hosts", "shm_size", "cache_from", "platform", "keep_locally"})
    STATE_ONLY = frozenset({"keep_locally", "path"})  # a moved context with the same hash is no rebuild
    NON_SPEC = frozenset({"registry_auth", "keep_locally", "context_hash"})

    def _prepare(self, news: dict[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
        path = news.get("path")
        if _diff.has_unknown(path) or _diff.has_unknown(news.get("dockerfile")):
            return news, []  # not known during this preview: hashed once it is
        if not path:
            return news, [CheckFailure("path", "path (the local build context directory) is required")]
        ctx = Path(str(path)).expanduser()
        if not ctx.is_dir():
            return news, [CheckFailure("path", f"path: build context {str(path)!r} is not a directory")]
        dockerfile = news.get("dockerfile") or "Dockerfile"
        if not (ctx / dockerfile).is_file():
            return news, [CheckFailure("dockerfile", f"dockerfile: {dockerfile!r} not found in {str(path)!r}")]
        news = {**news, "context_hash": _context.context_hash(ctx, dockerfile)}
        return news, []

    def _validate_remote(self, eng: Engine, news: dict[str, Any]) -> None:
        # the context is not on the host yet: validate everything else with a stand-in path
        spec = {**self._spec(news), "path": "/", "rebuild": "never"}
        try:
            eng.apply("image", spec, check=True, options={"operation": "build"})
        except EngineError as e:
            if e.field and e.field.split(".")[-1] in ("path", "dockerfile"):
                return
            raise

    def _apply(self, eng: Engine, props: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
        self._login(eng, props)
        ctx = Path(str(props["path"])).expanduser()
        dockerfile = props.get("dockerfile") or "Dockerfile"
        tag = secrets.token_hex(6)
        tar = f"/tmp/berth-context-{tag}.tar"
        remote = f"/tmp/berth-context-{tag}"
        with _context.context_tar(ctx, dockerfile) as f:
            eng.upload(f, tar)
        try:
            res = eng.run(f"set -e; umask 077; mkdir {shlex.quote(remote)}; "
                          f"tar -xf {shlex.quote(tar)} -C {shlex.quote(remote)} --no-same-owner; "
                          f"rm -f {shlex.quote(tar)}")
            if res.rc != 0:
                raise EngineError(f"unpacking the build context on {eng.conn.label} failed: {res.stderr.strip()}")
            spec = {**self._spec(props), "path": remote, "rebuild": "always"}
            return eng.apply("image", spec, options={"operation": "build"})
        finally:
            eng.run(f"rm -rf {shlex.quote(remote)} {shlex.quote(tar)}")


class RemoteImage(pulumi.dynamic.Resource, module="berth", name="RemoteImage"):
    """An image pulled from a registry onto the host (community.docker ``docker_image_pull``
    names: ``name``, ``tag``, ``platform``, ``pull``). ``repo_digest`` pins what was pulled; a
    Container given ``image_id`` follows it. ``registry_auth`` {registry_url, username, password}
    is a secret and never compared. ``keep_locally`` keeps the image on destroy."""

    image_id: pulumi.Output[str]
    repo_digest: pulumi.Output[str]
    repo_tags: pulumi.Output[list[str]]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[ConnectionArgs],
        name: pulumi.Input[str],
        tag: pulumi.Input[str] | None = None,
        engine: pulumi.Input[EngineArgs] | None = None,
        platform: pulumi.Input[str] | None = None,
        pull: pulumi.Input[str] | None = None,
        registry_auth: pulumi.Input[dict[str, Any]] | None = None,
        keep_locally: pulumi.Input[bool] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = drop_none({
            "connection": secret_connection(connection), "engine": engine, "name": name, "tag": tag,
            "platform": platform, "pull": pull,
            "registry_auth": pulumi.Output.secret(registry_auth) if registry_auth is not None else None,
            "keep_locally": keep_locally, "adopt": adopt if adopt is not None else True,
        })
        for out in IMAGE_OUTPUTS:
            props.setdefault(out, None)
        super().__init__(RemoteImageProvider(), resource_name, props, opts_with_secrets(opts, "registry_auth"))


class Image(pulumi.dynamic.Resource, module="berth", name="Image"):
    """An image built on the host from a local build context ``path`` (community.docker
    ``docker_image_build`` names: ``name``, ``tag``, ``dockerfile``, ``args``, ``target``,
    ``nocache``, ``labels``...). The context is uploaded over SFTP; its hash (``context_hash``,
    honouring .dockerignore) decides rebuilds."""

    image_id: pulumi.Output[str]
    repo_digest: pulumi.Output[str]
    repo_tags: pulumi.Output[list[str]]
    context_hash: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: pulumi.Input[ConnectionArgs],
        name: pulumi.Input[str],
        path: pulumi.Input[str],
        tag: pulumi.Input[str] | None = None,
        engine: pulumi.Input[EngineArgs] | None = None,
        dockerfile: pulumi.Input[str] | None = None,
        args: pulumi.Input[dict[str, str]] | None = None,
        target: pulumi.Input[str] | None = None,
        registry_auth: pulumi.Input[dict[str, Any]] | None = None,
        keep_locally: pulumi.Input[bool] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **spec: Any,
    ) -> None:
        props = drop_none({
            "connection": secret_connection(connection), "engine": engine, "name": name, "tag": tag,
            "path": path, "dockerfile": dockerfile, "args": args, "target": target,
            "registry_auth": pulumi.Output.secret(registry_auth) if registry_auth is not None else None,
            "keep_locally": keep_locally, "adopt": adopt if adopt is not None else True, **spec,
        })
        props.setdefault("context_hash", None)
        for out in IMAGE_OUTPUTS:
            props.setdefault(out, None)
        super().__init__(ImageProvider(), resource_name, props, opts_with_secrets(opts, "registry_auth"))
