"""`berth build`: build an image from a Dockerfile and a context directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli.common import parser
from engine.errors import InvalidArgument

if TYPE_CHECKING:
    from engine.cli.common import Globals


def _kv(items: list[str], flag: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for it in items:
        k, eq, v = it.partition("=")
        if not k:
            raise InvalidArgument(f"{flag} {it!r}: expected KEY=VALUE", field=flag.lstrip("-"))
        out[k] = v if eq else None
    return out


def run(verb: str, argv: list[str], g: Globals) -> int:
    p = parser("build", "Build an image from a Dockerfile")
    p.add_argument("-t", "--tag", action="append", default=[], help="name:tag for the image (repeatable)")
    p.add_argument("-f", "--file", default=None, help="Dockerfile path (default CONTEXT/Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], help="KEY=VALUE build-time variable")
    p.add_argument("--target", default=None, help="build up to this stage")
    p.add_argument("--label", action="append", default=[], help="KEY=VALUE label for the image")
    p.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    p.add_argument("--pull", action="store_true", help="always pull base images")
    p.add_argument("--network", default=None, help="network for RUN steps: none, host, default (=bridge)")
    p.add_argument("--platform", default=None, help="target platform (only the host's is supported)")
    p.add_argument("--add-host", action="append", default=[], help="name:ip added to /etc/hosts for RUN")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image ID")
    p.add_argument("--check", action="store_true", help="parse and validate the Dockerfile, build nothing")
    p.add_argument("context", help="build context directory")
    a = p.parse_args(argv)

    ctx_dir = Path(a.context)
    if not ctx_dir.is_dir():
        raise InvalidArgument(f"build context {a.context!r} is not a directory", field="context")
    df_path = Path(a.file) if a.file else ctx_dir / "Dockerfile"
    if a.file == "-":
        text = sys.stdin.read()
        df_path = ctx_dir / "Dockerfile"
    else:
        try:
            text = df_path.read_text()
        except FileNotFoundError:
            raise InvalidArgument(f"Dockerfile {str(df_path)!r} not found", field="file") from None
    # `--build-arg NAME` without a value takes NAME from this environment, like docker's CLI
    # (left unset when the environment has no NAME either)
    build_args = {k: (os.environ.get(k) if v is None else v) for k, v in _kv(a.build_arg, "--build-arg").items()}
    labels = {k: v or "" for k, v in _kv(a.label, "--label").items()}

    if a.check:
        from engine.build import instructions

        df = instructions.parse(text, df_path.name)
        instructions.check(df, a.target)
        for w in df.warnings:
            print(f"warning: {w}", file=sys.stderr)
        n = sum(len(s.commands) + 1 for s in df.stages) + len(df.meta_args)
        print(f"{df_path.name}: OK ({len(df.stages)} stage(s), {n} instruction(s))")
        return 0

    from engine.build.api import _hosts, build_text

    image_id = build_text(g.ctx, ctx_dir, text, df_path.name, tags=a.tag, build_args=build_args,
                          target=a.target, labels=labels, nocache=a.no_cache, pull=a.pull,
                          network=a.network, platform=a.platform, quiet=a.quiet,
                          out=sys.stdout, extra_hosts=_hosts(a.add_host),
                          dockerfile_path=None if a.file == "-" else df_path)
    if a.quiet:
        print(image_id)
    return 0
