"""Entry points for building images: `build()` (used by `berth apply`, kind image with
source build) and `build_text()` (the CLI, which may read the Dockerfile from stdin)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

from engine.errors import InvalidArgument

if TYPE_CHECKING:
    from engine.context import Context


def build(ctx: Context, context_dir: str | os.PathLike[str] | None = None, dockerfile: str | None = None,
          tags: list[str] | None = None, build_args: dict[str, str | None] | None = None,
          target: str | None = None, labels: dict[str, str] | None = None, nocache: bool = False,
          pull: bool = False, network: str | None = None, platform: str | None = None,
          quiet: bool = True, out: IO[str] | None = None, *, context: str | os.PathLike[str] | None = None,
          extra_hosts: dict[str, str] | list[str] | None = None, shm_size: object = None,
          cache_from: object = None) -> str:
    """Build and return the image ID ("sha256:..."). `dockerfile` is a path relative to the
    context (or absolute); default `<context>/Dockerfile`. `context` is an alias of
    `context_dir`; `extra_hosts` adds /etc/hosts entries for RUN; `shm_size` and `cache_from`
    (community.docker options) are accepted and have no effect: the local cache is always used."""
    if context_dir is None:
        context_dir = context
    if context_dir is None:
        raise InvalidArgument("build: no context directory given", field="context")
    cdir = Path(context_dir)
    if not cdir.is_dir():
        raise InvalidArgument(f"build context {str(cdir)!r} is not a directory", field="context")
    df_path = Path(dockerfile) if dockerfile else Path("Dockerfile")
    if not df_path.is_absolute():
        df_path = cdir / df_path
    try:
        text = df_path.read_text()
    except FileNotFoundError:
        raise InvalidArgument(f"Dockerfile {str(df_path)!r} not found", field="dockerfile") from None
    return build_text(ctx, cdir, text, df_path.name, tags=tags or [], build_args=build_args or {},
                      target=target, labels=labels or {}, nocache=nocache, pull=pull, network=network,
                      platform=platform, quiet=quiet, out=out, extra_hosts=_hosts(extra_hosts),
                      dockerfile_path=df_path)


def _hosts(extra: dict[str, str] | list[str] | None) -> list[tuple[str, str]]:
    """community.docker's etc_hosts {name: ip} or docker's ["name:ip"] -> [(name, ip)]."""
    if not extra:
        return []
    items = list(extra.items()) if isinstance(extra, dict) else [tuple(e.split(":", 1)) for e in extra]
    for it in items:
        if len(it) != 2 or not it[0] or not it[1]:
            raise InvalidArgument(f"extra_hosts entry {it!r}: expected name:ip", field="extra_hosts")
    return [(str(a), str(b)) for a, b in items]


def build_text(ctx: Context, context_dir: Path, text: str, filename: str = "Dockerfile", *,
               tags: list[str], build_args: dict[str, str | None], target: str | None,
               labels: dict[str, str], nocache: bool, pull: bool, network: str | None,
               platform: str | None, quiet: bool, out: IO[str] | None,
               extra_hosts: list[tuple[str, str]] | None = None, dockerfile_path: Path | None = None) -> str:
    from engine.build import instructions
    from engine.build.executor import Builder, BuildOptions
    from engine.images import reference

    if network not in (None, "default", "bridge", "host", "none"):
        raise InvalidArgument(f"--network={network!r}: must be one of default, bridge, host, none",
                              field="network")
    for t in tags:
        ref = reference.parse(t)
        if ref.digest:
            raise InvalidArgument(f"tag {t!r}: a build cannot be tagged with a digest", field="tag")
    df = instructions.parse(text, filename)
    instructions.check(df, target)
    opts = BuildOptions(tags=list(tags), build_args=dict(build_args), target=target, labels=dict(labels),
                        nocache=nocache, pull=pull, network=network, platform=platform, quiet=quiet,
                        extra_hosts=list(extra_hosts or []), dockerfile_path=dockerfile_path)
    return Builder(ctx, context_dir, df, opts, out).build().id
