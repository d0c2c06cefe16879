"""AST nodes -> typed instructions, grouped in stages (buildkit `frontend/dockerfile/instructions`).

Every instruction's flags and arguments are validated here, so `berth build --check` catches
what Docker would refuse before any work is done. Values that undergo word expansion (ENV
values, COPY sources, `--from=$X`...) are kept raw: the executor expands them with the
variables in scope at that point of the build.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from engine.build.parser import DockerfileError, Heredoc, Node, Result
from engine.build.parser import parse as parse_ast

STAGE_NAME_RE = re.compile(r"^[a-z][a-z0-9\-_.]*$")
HEREDOC_WORD_RE = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$")

# Docker's build args that need no ARG declaration and stay out of the image history.
PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")

KEYWORDS = ("add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
            "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir")

# flag name -> kind ("string", "bool", "list" = repeatable string) per instruction
_FLAGS: dict[str, dict[str, str]] = {
    "from": {"platform": "string"},
    "run": {"network": "string", "mount": "list", "security": "string"},
    "add": {"chown": "string", "chmod": "string", "checksum": "string", "link": "bool",
            "keep-git-dir": "bool"},
    "copy": {"from": "string", "chown": "string", "chmod": "string", "link": "bool"},
    "healthcheck": {"interval": "string", "timeout": "string", "start-period": "string",
                    "start-interval": "string", "retries": "string"},
}


# ----------------------------------------------------------------------------- instructions
@dataclass
class Instruction:
    keyword: str  # upper case, e.g. "RUN"
    line: int
    original: str  # the instruction as written (for step output and the cache key)

    def where(self) -> str:
        return f"line {self.line}"


@dataclass
class RunCmd(Instruction):
    cmd: list[str] = field(default_factory=list)
    prepend_shell: bool = True
    network: str | None = None
    heredocs: list[Heredoc] = field(default_factory=list)


@dataclass
class CmdCmd(Instruction):
    cmd: list[str] = field(default_factory=list)
    prepend_shell: bool = True


@dataclass
class EntrypointCmd(Instruction):
    cmd: list[str] = field(default_factory=list)
    prepend_shell: bool = True


@dataclass
class KeyValueCmd(Instruction):  # ENV and LABEL
    pairs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class EnvCmd(KeyValueCmd):
    pass


@dataclass
class LabelCmd(KeyValueCmd):
    pass


@dataclass
class MaintainerCmd(Instruction):
    maintainer: str = ""


@dataclass
class ExposeCmd(Instruction):
    ports: list[str] = field(default_factory=list)


@dataclass
class CopyCmd(Instruction):  # COPY and ADD
    sources: list[str] = field(default_factory=list)
    dest: str = ""
    from_: str | None = None
    chown: str | None = None
    chmod: str | None = None
    checksum: str | None = None
    heredocs: list[Heredoc] = field(default_factory=list)  # sources given inline
    is_add: bool = False


@dataclass
class VolumeCmd(Instruction):
    volumes: list[str] = field(default_factory=list)


@dataclass
class UserCmd(Instruction):
    user: str = ""


@dataclass
class WorkdirCmd(Instruction):
    path: str = ""


@dataclass
class ArgCmd(Instruction):
    args: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class OnbuildCmd(Instruction):
    expression: str = ""


@dataclass
class StopsignalCmd(Instruction):
    signal: str = ""


@dataclass
class HealthcheckCmd(Instruction):
    test: list[str] = field(default_factory=list)  # ["NONE"] | ["CMD", ...] | ["CMD-SHELL", "..."]
    interval: int = 0  # nanoseconds, 0 = inherit
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass
class ShellCmd(Instruction):
    shell: list[str] = field(default_factory=list)


@dataclass
class Stage:
    index: int
    base: str  # raw image reference or stage name (expanded with global args at build time)
    name: str | None
    platform: str | None
    line: int
    original: str
    commands: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    stages: list[Stage]
    meta_args: list[ArgCmd]
    escape: str = "\\"
    warnings: list[str] = field(default_factory=list)
    filename: str = "Dockerfile"

    def stage_index(self, name_or_index: str, before: int | None = None) -> int | None:
        """The stage a `FROM x` / `--from=x` names (case-insensitive name or index), or None."""
        limit = len(self.stages) if before is None else before
        if name_or_index.isdigit():
            i = int(name_or_index)
            return i if i < limit else None
        low = name_or_index.lower()
        for s in self.stages[:limit]:
            if s.name == low:
                return s.index
        return None


# ----------------------------------------------------------------------------- flags
def _parse_flags(node: Node) -> dict[str, Any]:
    spec = _FLAGS.get(node.cmd, {})
    out: dict[str, Any] = {}
    for raw in node.flags:
        if not raw.startswith("--"):
            raise ValueError(f"invalid flag {raw!r}: flags start with --")
        name, eq, value = raw[2:].partition("=")
        kind = spec.get(name)
        if kind is None:
            known = ", ".join("--" + k for k in spec) or "none"
            raise ValueError(f"unknown flag: --{name} (flags {node.cmd.upper()} accepts: {known})")
        if kind == "list":
            if not eq or not value:
                raise ValueError(f"missing a value on flag: --{name}")
            out.setdefault(name, []).append(value)
            continue
        if name in out:
            raise ValueError(f"duplicate flag specified: --{name}")
        if kind == "bool":
            if eq and value.lower() not in ("true", "false"):
                raise ValueError(f"expecting boolean value for flag --{name}, not: {value!r}")
            out[name] = (value.lower() != "false") if eq else True
        else:
            if not eq:
                raise ValueError(f"missing a value on flag: --{name}")
            out[name] = value
    return out


# ----------------------------------------------------------------------------- durations
_DUR_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
              "m": 60_000_000_000, "h": 3_600_000_000_000}


def parse_duration(s: str) -> int:
    """Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "0")."""
    if s == "0":
        return 0
    pos, total = 0, 0.0
    if not s:
        raise ValueError("empty duration")
    while pos < len(s):
        m = _DUR_RE.match(s, pos)
        if not m:
            raise ValueError(f"invalid duration {s!r} (use e.g. 30s, 1m30s, 500ms)")
        total += float(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    return int(total)


# ----------------------------------------------------------------------------- nodes -> instructions
def _need(node: Node, n: int, what: str) -> None:
    if len(node.args) < n:
        raise ValueError(f"{node.cmd.upper()} requires {what}")


def _shell_dependent(node: Node) -> tuple[list[str], bool]:
    if node.json:
        return list(node.args), False
    return list(node.args), True


def _heredoc_sources(node: Node) -> tuple[list[str], list[Heredoc]]:
    """COPY/ADD sources, with `<<NAME` words replaced by the heredoc they name."""
    srcs: list[str] = []
    docs: list[Heredoc] = []
    by_name = {h.name: h for h in node.heredocs}
    for a in node.args[:-1]:
        m = HEREDOC_WORD_RE.match(a)
        if m and node.heredocs:
            name = m.group(3).strip("'\"")
            doc = by_name.get(name)
            if doc is not None:
                docs.append(doc)
                continue
        srcs.append(a)
    return srcs, docs


def _make(node: Node) -> Instruction:
    flags = _parse_flags(node)
    kw = node.cmd.upper()
    base: dict[str, Any] = {"keyword": kw, "line": node.start_line, "original": node.original}
    c = node.cmd
    if c == "run":
        if not node.args and not node.heredocs:
            raise ValueError("RUN requires at least one argument")
        if "mount" in flags:
            raise ValueError("--mount is not supported by berth build (use COPY, or a multi-stage build)")
        if "security" in flags:
            raise ValueError("--security is not supported by berth build")
        net = flags.get("network")
        if net is not None and net not in ("none", "host", "default", "bridge"):
            raise ValueError(f"--network={net!r}: must be one of none, host, default")
        cmd, shell = _shell_dependent(node)
        return RunCmd(**base, cmd=cmd, prepend_shell=shell, network=net, heredocs=list(node.heredocs))
    if c in ("cmd", "entrypoint"):
        if not node.args and not node.json:
            raise ValueError(f"{kw} requires at least one argument")
        cmd, shell = _shell_dependent(node)
        cls = CmdCmd if c == "cmd" else EntrypointCmd
        return cls(**base, cmd=cmd, prepend_shell=shell)
    if c in ("env", "label"):
        _need(node, 1, "at least one argument")
        pairs = [(node.args[i], node.args[i + 1]) for i in range(0, len(node.args), 2)]
        for k, _v in pairs:
            if not k:
                raise ValueError(f"{kw} names can not be blank")
        return (EnvCmd if c == "env" else LabelCmd)(**base, pairs=pairs)
    if c == "maintainer":
        _need(node, 1, "exactly one argument")
        return MaintainerCmd(**base, maintainer=node.args[0])
    if c == "expose":
        _need(node, 1, "at least one argument")
        return ExposeCmd(**base, ports=list(node.args))
    if c in ("add", "copy"):
        srcs, docs = _heredoc_sources(node) if node.args else ([], [])
        if len(node.args) < 2:
            raise ValueError(f"{kw} requires at least two arguments, but only {len(node.args)} "
                             "provided: source(s) and a destination")
        if c == "add" and "from" in flags:
            raise ValueError("unknown flag: --from (only COPY accepts --from)")
        chmod = flags.get("chmod")
        if chmod is not None and "$" not in chmod and not re.fullmatch(r"[0-7]{1,4}", chmod):
            raise ValueError(f"--chmod={chmod!r}: expected an octal mode such as 755")
        if flags.get("checksum") and c == "add":
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", flags["checksum"]):
                raise ValueError(f"--checksum={flags['checksum']!r}: expected sha256:<64 hex digits>")
        return CopyCmd(**base, sources=srcs, dest=node.args[-1], from_=flags.get("from"),
                       chown=flags.get("chown"), chmod=chmod, checksum=flags.get("checksum"),
                       heredocs=docs, is_add=c == "add")
    if c == "volume":
        _need(node, 1, "at least one argument")
        for v in node.args:
            if not v.strip():
                raise ValueError("VOLUME specified can not be an empty string")
        return VolumeCmd(**base, volumes=list(node.args))
    if c in ("user", "workdir", "stopsignal"):
        if len(node.args) != 1 or not node.args[0].strip():
            raise ValueError(f"{kw} requires exactly one argument")
        val = node.args[0].strip()
        if c == "user":
            return UserCmd(**base, user=val)
        if c == "workdir":
            return WorkdirCmd(**base, path=val)
        return StopsignalCmd(**base, signal=val)
    if c == "arg":
        _need(node, 1, "at least one argument")
        args: list[tuple[str, str | None]] = []
        for w in node.args:
            k, eq, v = w.partition("=")
            if not k:
                raise ValueError(f"ARG names can not be blank: {w!r}")
            args.append((k, v if eq else None))
        return ArgCmd(**base, args=args)
    if c == "onbuild":
        if node.sub is None:
            raise ValueError("ONBUILD requires at least one argument")
        trig = node.sub.cmd
        if trig in ("onbuild", "from", "maintainer"):
            raise ValueError(f"{trig.upper()} isn't allowed as an ONBUILD trigger")
        if trig not in KEYWORDS:
            raise ValueError(_unknown(trig))
        _make(node.sub)  # validate the trigger now
        return OnbuildCmd(**base, expression=node.args[0])
    if c == "healthcheck":
        _need(node, 1, "at least one argument")
        typ = node.args[0].upper()
        if typ == "NONE":
            if len(node.args) > 1:
                raise ValueError("HEALTHCHECK NONE takes no arguments")
            if flags:
                raise ValueError("HEALTHCHECK NONE takes no flags")
            return HealthcheckCmd(**base, test=["NONE"])
        if typ != "CMD":
            raise ValueError(f"unknown type {node.args[0]!r} in HEALTHCHECK (try CMD)")
        cmd = node.args[1:]
        if not cmd or (len(cmd) == 1 and not node.json and not cmd[0].strip()):
            raise ValueError("missing command after HEALTHCHECK CMD")
        test = ["CMD", *cmd] if node.json else ["CMD-SHELL", cmd[0]]
        hc = HealthcheckCmd(**base, test=test)
        for fname, attr in (("interval", "interval"), ("timeout", "timeout"),
                            ("start-period", "start_period"), ("start-interval", "start_interval")):
            if fname in flags:
                try:
                    d = parse_duration(flags[fname])
                except ValueError as e:
                    raise ValueError(f"--{fname}: {e}") from None
                if d != 0 and d < 1_000_000:
                    raise ValueError(f"--{fname}={flags[fname]!r} cannot be less than 1ms")
                setattr(hc, attr, d)
        if "retries" in flags:
            try:
                r = int(flags["retries"])
            except ValueError:
                raise ValueError(f"--retries={flags['retries']!r}: not a number") from None
            if r < 0:
                raise ValueError(f"--retries={r} cannot be negative")
            hc.retries = r
        return hc
    if c == "shell":
        if not node.json:
            raise ValueError("SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/sh\", \"-c\"]")
        if not node.args:
            raise ValueError("SHELL requires at least one argument")
        return ShellCmd(**base, shell=list(node.args))
    raise ValueError(_unknown(c))


def _unknown(cmd: str) -> str:
    close = difflib.get_close_matches(cmd, KEYWORDS, n=1)
    hint = f" (did you mean {close[0].upper()}?)" if close else ""
    return f"unknown instruction: {cmd.upper()}{hint}"


def make_instruction(node: Node, filename: str = "Dockerfile") -> Instruction:
    try:
        return _make(node)
    except ValueError as e:
        raise DockerfileError(str(e), line=node.start_line, instruction=node.cmd, filename=filename) from None


def from_ast(ast: Result, filename: str = "Dockerfile") -> Dockerfile:
    stages: list[Stage] = []
    meta: list[ArgCmd] = []
    for node in ast.nodes:
        if node.cmd == "from":
            try:
                flags = _parse_flags(node)
                args = node.args
                if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
                    raise ValueError("FROM requires either one or three arguments: FROM <image> [AS <name>]")
                name = args[2].lower() if len(args) == 3 else None
                if name is not None:
                    if not STAGE_NAME_RE.match(name):
                        raise ValueError(f"invalid name for build stage: {args[2]!r}, name can't start with a "
                                         "number or contain symbols")
                    if any(s.name == name for s in stages):
                        raise ValueError(f"duplicate stage name {args[2]!r}")
            except ValueError as e:
                raise DockerfileError(str(e), line=node.start_line, instruction="from", filename=filename) \
                    from None
            stages.append(Stage(index=len(stages), base=args[0], name=name, platform=flags.get("platform"),
                                line=node.start_line, original=node.original))
            continue
        ins = make_instruction(node, filename)
        if not stages:
            if isinstance(ins, ArgCmd):
                meta.append(ins)
                continue
            raise DockerfileError(f"{ins.keyword} must come after FROM (only ARG may precede the first FROM)",
                                  line=node.start_line, instruction=node.cmd, filename=filename)
        stages[-1].commands.append(ins)
    if not stages:
        raise DockerfileError("the Dockerfile has no FROM instruction (nothing to build)", filename=filename)
    return Dockerfile(stages=stages, meta_args=meta, escape=ast.escape, warnings=list(ast.warnings),
                      filename=filename)


def parse(text: str, filename: str = "Dockerfile") -> Dockerfile:
    return from_ast(parse_ast(text, filename), filename)


def check(df: Dockerfile, target: str | None = None) -> None:
    """What `--check` adds to parsing: stage references that cannot work, and EXPOSE ports and
    STOPSIGNAL signals that are wrong as written (values with variables are checked when built)."""
    from engine.build.executor import _check_signal, _parse_ports

    for st in df.stages:
        # `FROM x AS x` names the image x (a stage is only visible to the stages after it)
        for ins in st.commands:
            try:
                if isinstance(ins, ExposeCmd):
                    for p in ins.ports:
                        if "$" not in p:
                            _parse_ports(p)
                elif isinstance(ins, StopsignalCmd) and "$" not in ins.signal:
                    _check_signal(ins.signal)
            except ValueError as e:
                raise DockerfileError(str(e), line=ins.line, instruction=ins.keyword.lower(),
                                      filename=df.filename) from None
            if isinstance(ins, CopyCmd) and ins.from_ and "$" not in ins.from_:
                ref = ins.from_
                if ref.isdigit():
                    if int(ref) >= st.index:
                        raise DockerfileError(f"--from={ref}: stage index {ref} is not a stage before this one "
                                              f"(this is stage {st.index})", line=ins.line, instruction="copy",
                                              filename=df.filename)
                    continue
                idx = df.stage_index(ref)
                if idx is not None and idx >= st.index:
                    raise DockerfileError(f"--from={ref}: stage {ref!r} is defined later or is this stage; "
                                          "a stage can only copy from stages before it", line=ins.line,
                                          instruction="copy", filename=df.filename)
    if target is not None and df.stage_index(target) is None:
        names = ", ".join(s.name for s in df.stages if s.name) or "none"
        raise DockerfileError(f"target stage {target!r} could not be found (stages: {names})",
                              filename=df.filename)
