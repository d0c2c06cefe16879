"""Executing a parsed Dockerfile: stages, steps, the cache, images in the store.

Each step works on a `StageState` (the current image and its container config). A step that
changes the filesystem (RUN, COPY, ADD, WORKDIR creating its directory) runs on an overlay of
the current image's layers and its upper dir becomes a layer; every other step only changes
the config and gets a history entry with `empty_layer`. Every step commits an (untagged)
image whose parent is the previous one; the build cache maps step keys to these images.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import posixpath
import re
import signal
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.build import dockerignore, instructions
from engine.build import parser as dfparser
from engine.build.cache import BuildCache, step_key
from engine.build.copier import (
    CopyError,
    Owner,
    Source,
    SourceTree,
    archive_kind,
    copy_tree,
    dest_is_dir,
    extract_archive,
    hash_sources,
    parse_chmod,
    resolve_owner,
    write_file,
)
from engine.build.fsutil import (
    layer_tar,
    lookup_user,
    mkdir_p,
    mounted_overlay,
    scoped_resolve,
    scratch_dir,
    upper_is_empty,
)
from engine.build.instructions import (
    PROXY_ARGS,
    ArgCmd,
    CmdCmd,
    CopyCmd,
    Dockerfile,
    EntrypointCmd,
    EnvCmd,
    ExposeCmd,
    HealthcheckCmd,
    Instruction,
    LabelCmd,
    MaintainerCmd,
    OnbuildCmd,
    RunCmd,
    ShellCmd,
    Stage,
    StopsignalCmd,
    UserCmd,
    VolumeCmd,
    WorkdirCmd,
)
from engine.build.parser import DockerfileError
from engine.build.shell_lex import Lexer, ShellSyntaxError
from engine.errors import BerthError, InvalidArgument, NotFound

if TYPE_CHECKING:
    from engine.context import Context
    from engine.images.store import Image

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HISTORY_COMMENT = "berth build"


class BuildError(BerthError):
    type = "build"


@dataclass
class BuildOptions:
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str | None] = field(default_factory=dict)
    target: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    nocache: bool = False
    pull: bool = False
    network: str | None = None
    platform: str | None = None
    quiet: bool = False
    extra_hosts: list[tuple[str, str]] = field(default_factory=list)
    dockerfile_path: Path | None = None  # for a <Dockerfile>.dockerignore beside it


@dataclass
class StageState:
    stage: Stage
    image: Image | None
    cfg: dict[str, Any]  # the image config's "config" object (Env, Cmd, ...)
    author: str = ""
    args: dict[str, str] = field(default_factory=dict)  # ARGs declared in this stage, with values
    cmd_set: bool = False
    platform: dict[str, str] = field(default_factory=dict)

    def cfg_digest(self) -> str:
        return hashlib.sha256(json.dumps([self.cfg, self.author], sort_keys=True).encode()).hexdigest()


class _Null:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def _env_list_to_map(env: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in env or []:
        k, _, v = e.partition("=")
        out[k] = v
    return out


def _set_env(env: list[str] | None, key: str, value: str) -> list[str]:
    out = list(env or [])
    for i, e in enumerate(out):
        if e.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


class Builder:
    def __init__(self, ctx: Context, context_dir: Path, df: Dockerfile, opts: BuildOptions,
                 out: IO[str] | None = None) -> None:
        from engine.images.store import ImageStore, host_platform

        self.ctx = ctx
        self.df = df
        self.opts = opts
        self.out: Any = _Null() if opts.quiet else (out or sys.stdout)
        self.store = ImageStore(ctx)
        self.cache = BuildCache(ctx, self.store)
        self.context_dir = Path(context_dir).resolve()
        try:
            matcher = dockerignore.Matcher(dockerignore.load(self.context_dir, opts.dockerfile_path))
        except ValueError as e:
            raise InvalidArgument(str(e), field="dockerignore") from None
        self.tree = SourceTree(self.context_dir, matcher, is_context=True)
        self.lex = Lexer(df.escape)
        self.used_args: set[str] = set()
        self.results: dict[int, Image | None] = {}
        self.step_no = 0
        self.total = 0
        self.tmp = ctx.builds_dir / "tmp"
        _sweep_stale(self.tmp)
        plat = host_platform()
        self.host_os = plat.get("os", "linux")
        self.host_arch = plat.get("architecture", "amd64")
        self.host_variant = plat.get("variant", "")
        if opts.platform and not self._platform_ok(opts.platform):
            raise InvalidArgument(f"--platform={opts.platform!r}: only the host platform "
                                  f"{self.host_os}/{self.host_arch} can be built here", field="platform")
        self.meta_env = self._meta_env()
        self._epoch = self._source_date_epoch()

    # ------------------------------------------------------------------ helpers
    def _source_date_epoch(self) -> str | None:
        """`--build-arg SOURCE_DATE_EPOCH=<unix seconds>` (buildkit's convention): created times
        of new steps are that instant, so metadata-only rebuilds give the same IDs."""
        raw = self.opts.build_args.get("SOURCE_DATE_EPOCH")
        if raw is None:
            return None
        self.used_args.add("SOURCE_DATE_EPOCH")
        try:
            ts = int(raw)
        except ValueError:
            raise InvalidArgument(f"--build-arg SOURCE_DATE_EPOCH={raw!r}: expected unix seconds",
                                  field="build-arg") from None
        import datetime

        return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _platform_ok(self, p: str) -> bool:
        parts = p.lower().split("/")
        return parts[0] == self.host_os and (len(parts) < 2 or parts[1] == self.host_arch)

    def _say(self, s: str) -> None:
        self.out.write(s + "\n")
        self.out.flush()

    def _fail(self, ins: Instruction | Stage, msg: str, cls: type[BerthError] = BuildError) -> BerthError:
        kw = ins.keyword if isinstance(ins, Instruction) else "FROM"
        if cls is DockerfileError:
            return DockerfileError(msg, line=ins.line, instruction=kw, filename=self.df.filename)
        return cls(f"{self.df.filename}:{ins.line}: {kw}: {msg}", field="dockerfile")

    def _expand(self, ins: Instruction | Stage, word: str, env: dict[str, str]) -> str:
        try:
            return self.lex.process_word(word, env)
        except ShellSyntaxError as e:
            raise self._fail(ins, f"{word!r}: {e}", DockerfileError) from None

    def _meta_env(self) -> dict[str, str]:
        plat = f"{self.host_os}/{self.host_arch}" + (f"/{self.host_variant}" if self.host_variant else "")
        env = {"BUILDPLATFORM": plat, "BUILDOS": self.host_os, "BUILDARCH": self.host_arch,
               "BUILDVARIANT": self.host_variant, "TARGETPLATFORM": plat, "TARGETOS": self.host_os,
               "TARGETARCH": self.host_arch, "TARGETVARIANT": self.host_variant}
        for a in self.df.meta_args:
            for name, default in a.args:
                if name in self.opts.build_args and self.opts.build_args[name] is not None:
                    env[name] = str(self.opts.build_args[name])
                    self.used_args.add(name)
                elif default is not None:
                    env[name] = self._expand(a, default, env)
                elif name in self.opts.build_args:
                    self.used_args.add(name)
        return env

    def _env(self, st: StageState) -> dict[str, str]:
        """Variables for word expansion: ARGs in scope, overridden by ENV."""
        env = dict(st.args)
        env.update(_env_list_to_map(st.cfg.get("Env")))
        return env

    # ------------------------------------------------------------------ stages
    def _dependencies(self, st: Stage) -> set[int]:
        deps = set()
        base = self._expand(st, st.base, self.meta_env)
        idx = self.df.stage_index(base, before=st.index)
        if idx is not None:
            deps.add(idx)
        for ins in st.commands:
            if isinstance(ins, CopyCmd) and ins.from_:
                ref = self._expand(ins, ins.from_, self.meta_env)
                i = self.df.stage_index(ref, before=st.index)
                if i is not None:
                    deps.add(i)
                elif ref.isdigit() or self.df.stage_index(ref) is not None:
                    raise self._fail(ins, f"--from={ins.from_}: refers to this stage or a later one",
                                     DockerfileError)
        return deps

    def build(self) -> Image:
        df = self.df
        for w in df.warnings:
            self._say(f"[Warning] {w}")
        if self.opts.target:
            tgt = df.stage_index(self.opts.target)
            if tgt is None:
                raise InvalidArgument(f"--target={self.opts.target!r}: no such stage in {df.filename}",
                                      field="target")
        else:
            tgt = len(df.stages) - 1
        needed: set[int] = set()
        todo = [tgt]
        while todo:
            i = todo.pop()
            if i in needed:
                continue
            needed.add(i)
            todo.extend(self._dependencies(df.stages[i]))
        order = sorted(needed)
        self.total = sum(1 + len(df.stages[i].commands) for i in order)
        final: Image | None = None
        for i in order:
            final = self._build_stage(df.stages[i], last=i == tgt)
            self.results[i] = final
        assert final is not None
        unused = sorted(k for k in self.opts.build_args if k not in self.used_args and k not in PROXY_ARGS)
        if unused:
            self._say(f"[Warning] One or more build-args {unused} were not consumed")
        self._say(f"Successfully built {final.short_id}")
        from engine.images import reference

        for t in self.opts.tags:
            self.store.tag(final, t)
            self._say(f"Successfully tagged {reference.parse(t).familiar()}")
        return final

    def _base(self, st: Stage) -> tuple[Image | None, str]:
        base = self._expand(st, st.base, self.meta_env)
        if not base:
            raise self._fail(st, f"base name ({st.base}) should not be blank", DockerfileError)
        idx = self.df.stage_index(base, before=st.index)
        if idx is not None:
            return self.results[idx], base
        if base.lower() == "scratch":
            return None, base
        plat = st.platform and self._expand(st, st.platform, self.meta_env)
        if plat and not self._platform_ok(plat):
            raise self._fail(st, f"--platform={plat}: only the host platform {self.host_os}/{self.host_arch} "
                                 "can be built here", InvalidArgument)
        return self._image(st, base), base

    def _image(self, where: Instruction | Stage, ref: str) -> Image:
        if not self.opts.pull:
            try:
                return self.store.resolve(ref)
            except NotFound:
                pass
            except InvalidArgument as e:
                raise self._fail(where, e.message, InvalidArgument) from None
        try:
            from engine.images.api import pull
        except ImportError:
            raise self._fail(where, f"image {ref!r} is not in the local store (pulling is not available)",
                             NotFound) from None
        self._say(f"Pulling {ref}")
        try:
            return pull(self.ctx, ref, quiet=True)
        except BerthError as e:
            raise self._fail(where, f"cannot get image {ref!r}: {e.message}", type(e)) from None

    def _build_stage(self, stage: Stage, last: bool) -> Image:
        self.step_no += 1
        self._say(f"Step {self.step_no}/{self.total} : {stage.original}")
        base, _ref = self._base(stage)
        cfg = copy.deepcopy(base.config.get("config") or {}) if base else {}
        plat = {k: base.config[k] for k in ("architecture", "os", "variant") if base and k in base.config}
        st = StageState(stage=stage, image=base, cfg=cfg, author=(base.config.get("author", "") if base else ""),
                        platform=plat)
        self._say(f" ---> {base.short_id if base else 'scratch'}")
        triggers = list(st.cfg.get("OnBuild") or [])
        if triggers:
            st.cfg["OnBuild"] = None
            self._say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}")
            for t in triggers:
                try:
                    ast = dfparser.parse(t)
                    if len(ast.nodes) != 1:
                        raise DockerfileError(f"ONBUILD trigger {t!r} is not one instruction")
                    ins = instructions.make_instruction(ast.nodes[0])
                except DockerfileError as e:
                    raise self._fail(stage, f"ONBUILD trigger of the base image: {e.bare}", DockerfileError) \
                        from None
                ins.line = stage.line
                self._dispatch(st, ins)
        for ins in stage.commands:
            self.step_no += 1
            self._say(f"Step {self.step_no}/{self.total} : {ins.original}")
            self._dispatch(st, ins)
            self._say(f" ---> {st.image.short_id if st.image else 'scratch'}")
        if last and self.opts.labels:
            labels = dict(st.cfg.get("Labels") or {})
            labels.update(self.opts.labels)
            st.cfg["Labels"] = labels
            text = "LABEL " + " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(self.opts.labels.items()))
            self._commit_meta(st, ["LABEL", self.opts.labels], text)
        if st.image is None or st.cfg_digest() != self._digest_of(st.image, st):
            self._commit_meta(st, ["CONFIG"], "")  # config-only change (e.g. ONBUILD cleared), or FROM scratch
        assert st.image is not None
        return st.image

    def _digest_of(self, image: Image, st: StageState) -> str:
        return hashlib.sha256(json.dumps([image.config.get("config") or {}, image.config.get("author", "")],
                                         sort_keys=True).encode()).hexdigest()

    # ------------------------------------------------------------------ commit & cache
    def _key(self, st: StageState, parts: list[Any]) -> str:
        return step_key(st.image.id if st.image else "scratch", [st.cfg_digest(), *parts])

    def _cached(self, st: StageState, key: str) -> bool:
        if self.opts.nocache:
            return False
        img = self.cache.get(key)
        if img is None:
            return False
        self._say(" ---> Using cache")
        self._adopt(st, img)
        return True

    def _adopt(self, st: StageState, img: Image) -> None:
        st.image = img
        st.cfg = copy.deepcopy(img.config.get("config") or {})
        st.author = img.config.get("author", "")

    def _commit(self, st: StageState, key: str, created_by: str, layer: Path | None) -> None:
        from engine.images.store import now_rfc3339

        now = self._epoch or now_rfc3339()
        config: dict[str, Any] = {"created": now, **st.platform, "config": st.cfg}
        if st.author:
            config["author"] = st.author
        hist: dict[str, Any] = {"created": now, "created_by": created_by, "comment": HISTORY_COMMENT}
        if layer is None:
            hist["empty_layer"] = True
        if not created_by:
            hist = {}
        img = self.store.commit(config, [layer] if layer else [], [hist] if hist else [], [], parent=st.image)
        self._adopt(st, img)
        self.cache.put(key, img)

    def _commit_meta(self, st: StageState, parts: list[Any], created_by: str) -> None:
        key = self._key(st, parts)
        if not self._cached(st, key):
            self._commit(st, key, created_by, None)

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, st: StageState, ins: Instruction) -> None:
        try:
            handler = getattr(self, "_do_" + type(ins).__name__)
            handler(st, ins)
        except (ShellSyntaxError, ValueError) as e:
            raise self._fail(ins, str(e), DockerfileError) from None
        except CopyError as e:
            raise self._fail(ins, e.message) from None
        except InvalidArgument as e:
            if isinstance(e, DockerfileError):
                raise
            raise self._fail(ins, e.message, InvalidArgument) from None
        except BerthError as e:
            # any other failure (a filesystem conflict, the runtime, the network) names the step too
            if not e.message.startswith(self.df.filename + ":"):
                e.message = f"{self.df.filename}:{ins.line}: {ins.keyword}: {e.message}"
                e.args = (e.message,)
            raise

    def _meta_step(self, st: StageState, ins: Instruction, created_by: str) -> None:
        self._commit_meta(st, [ins.keyword, created_by], created_by)

    def _do_EnvCmd(self, st: StageState, ins: EnvCmd) -> None:
        env = self._env(st)
        pairs = [(self._expand(ins, k, env), self._expand(ins, v, env)) for k, v in ins.pairs]
        for k, v in pairs:
            if not k:
                raise self._fail(ins, "ENV names can not be blank", DockerfileError)
            st.cfg["Env"] = _set_env(st.cfg.get("Env"), k, v)
        self._meta_step(st, ins, "ENV " + " ".join(f"{k}={v}" for k, v in pairs))

    def _do_LabelCmd(self, st: StageState, ins: LabelCmd) -> None:
        env = self._env(st)
        labels = dict(st.cfg.get("Labels") or {})
        pairs = [(self._expand(ins, k, env), self._expand(ins, v, env)) for k, v in ins.pairs]
        for k, v in pairs:
            labels[k] = v
        st.cfg["Labels"] = labels
        self._meta_step(st, ins, "LABEL " + " ".join(f"{k}={v}" for k, v in pairs))

    def _do_MaintainerCmd(self, st: StageState, ins: MaintainerCmd) -> None:
        st.author = ins.maintainer
        self._meta_step(st, ins, f"MAINTAINER {ins.maintainer}")

    def _do_ExposeCmd(self, st: StageState, ins: ExposeCmd) -> None:
        env = self._env(st)
        ports = dict(st.cfg.get("ExposedPorts") or {})
        for raw in ins.ports:
            for p in _parse_ports(self._expand(ins, raw, env)):
                ports[p] = {}
        st.cfg["ExposedPorts"] = ports
        self._meta_step(st, ins, "EXPOSE " + " ".join(sorted(ports)))

    def _do_VolumeCmd(self, st: StageState, ins: VolumeCmd) -> None:
        env = self._env(st)
        vols = dict(st.cfg.get("Volumes") or {})
        new = []
        for v in ins.volumes:
            path = self._expand(ins, v, env).strip()
            if not path:
                raise self._fail(ins, "VOLUME specified can not be an empty string", DockerfileError)
            vols[path] = {}
            new.append(path)
        st.cfg["Volumes"] = vols
        self._meta_step(st, ins, "VOLUME " + json.dumps(new))

    def _do_UserCmd(self, st: StageState, ins: UserCmd) -> None:
        st.cfg["User"] = self._expand(ins, ins.user, self._env(st))
        self._meta_step(st, ins, f"USER {st.cfg['User']}")

    def _do_StopsignalCmd(self, st: StageState, ins: StopsignalCmd) -> None:
        sig = self._expand(ins, ins.signal, self._env(st))
        _check_signal(sig)
        st.cfg["StopSignal"] = sig
        self._meta_step(st, ins, f"STOPSIGNAL {sig}")

    def _do_HealthcheckCmd(self, st: StageState, ins: HealthcheckCmd) -> None:
        hc: dict[str, Any] = {"Test": list(ins.test)}
        for k, v in (("Interval", ins.interval), ("Timeout", ins.timeout), ("StartPeriod", ins.start_period),
                     ("StartInterval", ins.start_interval), ("Retries", ins.retries)):
            if v:
                hc[k] = v
        st.cfg["Healthcheck"] = hc
        self._meta_step(st, ins, "HEALTHCHECK " + json.dumps(hc, sort_keys=True))

    def _do_ShellCmd(self, st: StageState, ins: ShellCmd) -> None:
        st.cfg["Shell"] = list(ins.shell)
        self._meta_step(st, ins, "SHELL " + json.dumps(ins.shell))

    def _command(self, st: StageState, cmd: list[str], prepend: bool) -> list[str]:
        if prepend:
            return list(st.cfg.get("Shell") or DEFAULT_SHELL) + [cmd[0] if cmd else ""]
        return list(cmd)

    def _do_CmdCmd(self, st: StageState, ins: CmdCmd) -> None:
        st.cfg["Cmd"] = self._command(st, ins.cmd, ins.prepend_shell)
        st.cmd_set = True
        self._meta_step(st, ins, "CMD " + json.dumps(st.cfg["Cmd"]))

    def _do_EntrypointCmd(self, st: StageState, ins: EntrypointCmd) -> None:
        st.cfg["Entrypoint"] = self._command(st, ins.cmd, ins.prepend_shell)
        if not st.cmd_set:
            st.cfg["Cmd"] = None  # an inherited CMD does not survive a new ENTRYPOINT
        self._meta_step(st, ins, "ENTRYPOINT " + json.dumps(st.cfg["Entrypoint"]))

    def _do_OnbuildCmd(self, st: StageState, ins: OnbuildCmd) -> None:
        st.cfg["OnBuild"] = list(st.cfg.get("OnBuild") or []) + [ins.expression]
        self._meta_step(st, ins, f"ONBUILD {ins.expression}")

    def _do_ArgCmd(self, st: StageState, ins: ArgCmd) -> None:
        for name, default in ins.args:
            env = self._env(st)
            if name in self.opts.build_args and self.opts.build_args[name] is not None:
                st.args[name] = str(self.opts.build_args[name])
            elif default is not None:
                st.args[name] = self._expand(ins, default, env)
            elif name in self.meta_env:
                st.args[name] = self.meta_env[name]
            else:
                st.args.pop(name, None)
            self.used_args.add(name)

    def _run_env(self, st: StageState) -> tuple[list[str], list[str]]:
        """(environment for RUN, the build args that are part of the cache key)."""
        env = list(st.cfg.get("Env") or [])
        names = {e.partition("=")[0] for e in env}
        key_args = []
        for k, v in sorted(st.args.items()):
            if k not in names:
                env.append(f"{k}={v}")
                key_args.append(f"{k}={v}")
        for k in PROXY_ARGS:
            v = self.opts.build_args.get(k)
            if v is not None and k not in names and k not in st.args:
                env.append(f"{k}={v}")
        if "PATH" not in {e.partition("=")[0] for e in env}:
            env.append(f"PATH={DEFAULT_PATH}")
        return env, key_args

    def _do_RunCmd(self, st: StageState, ins: RunCmd) -> None:
        shell = list(st.cfg.get("Shell") or DEFAULT_SHELL)
        if ins.heredocs and ins.prepend_shell:
            args = shell + [_heredoc_script(ins)]
        else:
            args = self._command(st, ins.cmd, ins.prepend_shell)
        env, key_args = self._run_env(st)
        network = ins.network or self.opts.network or "default"
        if network == "bridge":
            network = "default"  # the same thing (docker build's default is a bridge): the same cache key
        key = self._key(st, ["RUN", args, key_args, network])
        if self._cached(st, key):
            return
        lowers = st.image.layer_dirs() if st.image else []
        cid = uuid.uuid4().hex
        self._say(f" ---> Running in {cid[:12]}")
        from engine.build import _runner

        with scratch_dir(self.tmp, "run-") as base:
            upper = base / "upper"
            upper.mkdir()
            rc = _runner.run(self.ctx, lower_dirs=lowers, upper_dir=upper, args=args, env=env,
                             cwd=st.cfg.get("WorkingDir") or "/", user=st.cfg.get("User") or "",
                             network_mode=network, shell_out=self.out, extra_hosts=self.opts.extra_hosts)
            if rc != 0:
                shown = json.dumps(args) if not ins.prepend_shell else " ".join(args)
                raise self._fail(ins, f"the command '{shown}' returned a non-zero code: {rc}")
            created_by = "RUN " + (f"|{len(key_args)} {' '.join(key_args)} " if key_args else "") + \
                (" ".join(args) if ins.prepend_shell else json.dumps(args))
            self._commit_layer(st, key, created_by, base)

    def _commit_layer(self, st: StageState, key: str, created_by: str, base: Path) -> None:
        upper = base / "upper"
        if upper_is_empty(upper):
            self._commit(st, key, created_by, None)
            return
        tar = base / "layer.tar"
        layer_tar(upper, tar)
        self._commit(st, key, created_by, tar)

    def _do_WorkdirCmd(self, st: StageState, ins: WorkdirCmd) -> None:
        path = self._expand(ins, ins.path, self._env(st))
        if not path.startswith("/"):
            path = posixpath.join(st.cfg.get("WorkingDir") or "/", path)
        path = posixpath.normpath(path)
        if path.startswith("//"):
            path = path[1:]
        st.cfg["WorkingDir"] = path
        key = self._key(st, ["WORKDIR", path])
        if self._cached(st, key):
            return
        with scratch_dir(self.tmp, "workdir-") as base:
            with mounted_overlay(st.image.layer_dirs() if st.image else [], base) as ov:
                real = scoped_resolve(ov.merged, path)
                if not real.is_dir():
                    # like BuildKit: the directories WORKDIR creates belong to the current USER
                    user = st.cfg.get("User") or ""
                    uid, gid, _home = lookup_user(ov.merged, user) if user else (0, 0, "/")
                    mkdir_p(ov.merged, path, uid, gid)
            self._commit_layer(st, key, f"WORKDIR {path}", base)

    # ------------------------------------------------------------------ COPY / ADD
    def _do_CopyCmd(self, st: StageState, ins: CopyCmd) -> None:
        env = self._env(st)
        kw = ins.keyword
        srcs = [self._expand(ins, s, env) for s in ins.sources]
        dest = self._expand(ins, ins.dest, env)
        chown = self._expand(ins, ins.chown, env) if ins.chown else None
        chmod = parse_chmod(self._expand(ins, ins.chmod, env) if ins.chmod else None)
        from_ = self._expand(ins, ins.from_, env) if ins.from_ else None
        if not dest.startswith("/"):
            wd = st.cfg.get("WorkingDir") or "/"
            dest = posixpath.join(wd, dest) if dest not in (".", "./") else wd.rstrip("/") + "/"
            if ins.dest.endswith("/") and not dest.endswith("/"):
                dest += "/"
        n_sources = len(srcs) + len(ins.heredocs)
        urls = [s for s in srcs if ins.is_add and re.match(r"^https?://", s)]
        local = [s for s in srcs if s not in urls]

        with scratch_dir(self.tmp, "copy-") as base, contextlib.ExitStack() as mounts:
            # where sources come from: the context, or another stage's / image's filesystem
            tree = self.tree
            src_image: Image | None = None
            if from_:
                idx = self.df.stage_index(from_, before=st.stage.index)
                if idx is not None:
                    src_image = self.results.get(idx)
                    if src_image is None:
                        raise self._fail(ins, f"--from={from_}: stage {from_!r} was not built")
                else:
                    src_image = self._image(ins, from_)
                ov_src = mounts.enter_context(mounted_overlay(src_image.layer_dirs(), base / "src"))
                tree = SourceTree(ov_src.merged, None, is_context=False)
            downloads = [(u, _download(u, base / "dl", ins.checksum)) for u in urls]
            resolved: list[Source] = []
            for s in local:
                resolved += tree.resolve(s, kw)
            count = len(resolved) + len(downloads) + len(ins.heredocs)
            if count > 1 and not dest.endswith("/"):
                raise CopyError(f"When using {kw} with more than one source file, the destination must be "
                                f"a directory and end with a /: {ins.dest}")
            if n_sources == 0:
                raise CopyError(f"{kw} has no source")
            # cache key
            parts: list[Any] = [kw, ins.original, srcs, dest, chown, ins.chmod]
            parts.append(src_image.id if src_image is not None else hash_sources(tree, resolved))
            for u, f in downloads:
                parts.append([u, _sha256_file(f)])
            parts.append([[h.name, h.content, h.expand, h.chomp] for h in ins.heredocs])
            if any(h.expand for h in ins.heredocs):
                parts.append(sorted(env.items()))
            key = self._key(st, parts)
            if self._cached(st, key):
                return
            with mounted_overlay(st.image.layer_dirs() if st.image else [], base / "dst") as ov:
                rootfs = ov.merged
                owner = resolve_owner(rootfs, chown, keep=src_image is not None)
                for src in resolved:
                    self._copy_one(tree, src, rootfs, dest, owner, chmod, ins.is_add and src_image is None)
                for u, f in downloads:
                    name = posixpath.basename(u.split("?", 1)[0].rstrip("/")) or "index.html"
                    target = _file_target(rootfs, dest, name)
                    write_file(rootfs, target, f.read_bytes(), owner, chmod if chmod is not None else 0o600)
                for h in ins.heredocs:
                    content = h.content
                    if h.chomp:
                        content = "".join(ln.lstrip("\t") for ln in content.splitlines(keepends=True))
                    if h.expand:
                        content = _expand_vars(content, env)
                    target = _file_target(rootfs, dest, h.name)
                    write_file(rootfs, target, content.encode(), owner, chmod if chmod is not None else 0o644)
            shown = " ".join(srcs + [f"<<{h.name}" for h in ins.heredocs])
            self._commit_layer(st, key, f"{kw} {shown} {dest}", base / "dst")

    def _copy_one(self, tree: SourceTree, src: Source, rootfs: Path, dest: str, owner: Owner,
                  chmod: int | None, may_extract: bool) -> None:
        if os.path.isdir(src.path):
            copy_tree(tree, src, rootfs, dest, owner, chmod)
            return
        if may_extract:
            kind = archive_kind(src.path)
            if kind:
                extract_archive(src.path, kind, rootfs, dest)
                return
        name = posixpath.basename(src.rel) or src.path.name
        copy_tree(tree, src, rootfs, _file_target(rootfs, dest, name), owner, chmod)


# ---------------------------------------------------------------------------- helpers
def _file_target(rootfs: Path, dest: str, name: str) -> str:
    """Where a single file lands: dest/name when dest ends with / or is a directory, else dest."""
    if dest.endswith("/") or dest_is_dir(rootfs, dest):
        return dest.rstrip("/") + "/" + name
    return dest


def _sweep_stale(tmp: Path, older_than: float = 3600) -> None:
    """Remove scratch dirs a killed build left behind (never one that is still mounted)."""
    import time

    try:
        entries = list(os.scandir(tmp))
    except FileNotFoundError:
        return
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    now = time.time()
    for e in entries:
        try:
            if now - e.stat(follow_symlinks=False).st_mtime < older_than or (" " + e.path + "/") in mounts:
                continue
        except OSError:
            continue
        from engine.build.fsutil import _rm

        _rm(Path(e.path))


def _heredoc_script(ins: RunCmd) -> str:
    """RUN with here-documents, as one script for the shell (buildkit's rules)."""
    cmd = ins.cmd[0] if ins.cmd else ""
    if len(ins.heredocs) == 1 and re.fullmatch(r"\s*\d*<<-?\s*\S+\s*", cmd):
        doc = ins.heredocs[0]
        content = doc.content
        if doc.chomp:
            content = "".join(ln.lstrip("\t") for ln in content.splitlines(keepends=True))
        if content.startswith("#!"):
            interp = content.split("\n", 1)[0][2:].strip()
            return f"{interp} <<'BERTH_HEREDOC_EOF'\n{content}BERTH_HEREDOC_EOF\n"
        return content
    script = cmd
    for doc in ins.heredocs:
        script += "\n" + doc.content + doc.name
    return script + "\n"


_HEREDOC_VAR_RE = re.compile(r"\\([$`\\])|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{((?:[^{}]|\{[^{}]*\})*)\}")


def _expand_vars(text: str, env: dict[str, str]) -> str:
    """A COPY/ADD here-document with an unquoted delimiter: `$V` and every `${V...}` form are
    expanded as in other instructions; `\\$`, `\\\\` and `\\`` are literal (a shell
    here-document's rules); quotes are just text."""
    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)
        if m.group(2):
            return env.get(m.group(2), "")
        return Lexer().process_word(m.group(0), env)

    return _HEREDOC_VAR_RE.sub(sub, text)


def _parse_ports(spec: str) -> list[str]:
    port, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"invalid proto in EXPOSE {spec!r}: {proto}")
    lo, dash, hi = port.partition("-")
    try:
        a = int(lo)
        b = int(hi) if dash else a
    except ValueError:
        raise ValueError(f"invalid containerPort in EXPOSE: {spec!r}") from None
    if not (0 < a <= 65535 and 0 < b <= 65535 and a <= b):
        raise ValueError(f"invalid port range in EXPOSE: {spec!r}")
    return [f"{p}/{proto}" for p in range(a, b + 1)]


def _check_signal(sig: str) -> None:
    s = sig.upper()
    if s.isdigit():
        if 0 < int(s) < 65:
            return
    else:
        name = s if s.startswith("SIG") else "SIG" + s
        if name.startswith("SIGRTMIN") or name.startswith("SIGRTMAX") or hasattr(signal.Signals, name):
            return
        if name in signal.Signals.__members__:
            return
    raise ValueError(f"invalid signal: {sig!r}")


def _sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, into: Path, checksum: str | None) -> Path:
    import urllib.request

    into.mkdir(parents=True, exist_ok=True)
    out = into / hashlib.sha256(url.encode()).hexdigest()
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(out, "wb") as f:  # noqa: S310
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                f.write(b)
    except OSError as e:
        raise CopyError(f"ADD {url}: download failed: {e}", field="source") from None
    if checksum and "sha256:" + _sha256_file(out) != checksum:
        raise CopyError(f"ADD {url}: checksum mismatch: expected {checksum}, got sha256:{_sha256_file(out)}",
                        field="checksum")
    return out
