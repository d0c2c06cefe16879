"""`berth build` end to end: real overlayfs, real runc, the real image store, the real CLI."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.requires("root", "runc", "overlay", "busybox", "nft")


def _ctx(tmp_path: Path, dockerfile: str, files: dict[str, str | bytes] | None = None) -> Path:
    d = tmp_path / "ctx"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(dockerfile)
    for name, data in (files or {}).items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data)
    return d


def _build(host, ctx: Path, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
    return host.run("build", *args, str(ctx), check=check)


def _image(host, ref: str):  # type: ignore[no-untyped-def]
    from engine.context import Context
    from engine.images.store import ImageStore

    return ImageStore(Context(root=host.root, runroot=host.runroot, config_path=host.config)).resolve(ref)


def _read(img, path: str) -> bytes | None:  # type: ignore[no-untyped-def]
    """A file's content as the image's merged filesystem shows it (None if absent/deleted)."""
    for d in img.layer_dirs():
        p = d / path.lstrip("/")
        if os.path.lexists(p):
            st = os.lstat(p)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                return None
            return p.read_bytes()
    return None


def _steps(out: str) -> list[str]:
    """For each step, 'cache' or 'run' (what docker's output says)."""
    res = []
    for chunk in out.split("Step ")[1:]:
        res.append("cache" if "Using cache" in chunk else "run")
    return res


def test_build_config_cache_hits_and_misses(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""FROM {busybox_image}
ENV GREETING="hello world" NUM=1
WORKDIR /app
COPY data.txt ./
RUN cat data.txt > copy.txt && echo "$GREETING" > greeting.txt
EXPOSE 8080 53/udp
LABEL org.example.k=v
VOLUME /data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/copy.txt"]
"""
    ctx = _ctx(tmp_path, df, {"data.txt": "v1\n"})
    first = _build(berth_host, ctx, "-t", "app:1")
    assert "Successfully tagged app:1" in first.stdout
    img = _image(berth_host, "app:1")
    c = img.config["config"]
    assert "GREETING=hello world" in c["Env"] and "NUM=1" in c["Env"]
    assert c["WorkingDir"] == "/app"
    assert c["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert c["Labels"] == {"org.example.k": "v"}
    assert c["Volumes"] == {"/data": {}}
    assert c["StopSignal"] == "SIGINT"
    assert c["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 2}
    assert c["Entrypoint"] == ["/bin/sh", "-c"] and c["Cmd"] == ["cat /app/copy.txt"]
    assert _read(img, "/app/copy.txt") == b"v1\n"
    assert _read(img, "/app/greeting.txt") == b"hello world\n"
    hist = img.config["history"]
    assert hist[-1]["empty_layer"] is True  # CMD changes only the config
    assert hist[-8]["created_by"].startswith("RUN") and "empty_layer" not in hist[-8]

    # unchanged input: every step from cache, the same image ID
    second = _build(berth_host, ctx, "-t", "app:1")
    assert _steps(second.stdout)[1:] == ["cache"] * 11
    assert _image(berth_host, "app:1").id == img.id

    # touching the copied file (mtime only) keeps the cache
    os.utime(ctx / "data.txt", (1, 1))
    assert _steps(_build(berth_host, ctx).stdout)[1:] == ["cache"] * 11

    # changing it misses from COPY on, the steps before still hit
    (ctx / "data.txt").write_text("v2\n")
    third = _build(berth_host, ctx, "-t", "app:2")
    assert _steps(third.stdout)[1:5] == ["cache", "cache", "run", "run"]
    assert _read(_image(berth_host, "app:2"), "/app/copy.txt") == b"v2\n"

    # a mode change is a change too; --no-cache runs everything
    os.chmod(ctx / "data.txt", 0o600)
    assert _steps(_build(berth_host, ctx).stdout)[3] == "run"
    assert "Using cache" not in _build(berth_host, ctx, "--no-cache").stdout


def test_multistage_copy_from_and_target(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""FROM {busybox_image} AS builder
ENV FROM_BUILDER=1
RUN mkdir /out && echo built > /out/artifact && chmod 640 /out/artifact && chown 1000:1001 /out/artifact
FROM {busybox_image} AS unused
RUN echo this stage must not run && false
FROM builder AS child
RUN echo "inherited=$FROM_BUILDER" > /out/env
FROM scratch
COPY --from=child /out/artifact /out/env /
COPY --from=0 --chown=7:8 /out /out2/
COPY --from={busybox_image} /etc/passwd /passwd
"""
    ctx = _ctx(tmp_path, df)
    out = _build(berth_host, ctx, "-t", "multi").stdout
    assert "must not run" not in out and "Step 1/9" in out  # the unused stage is skipped and not counted
    img = _image(berth_host, "multi")
    assert _read(img, "/artifact") == b"built\n"
    assert _read(img, "/env") == b"inherited=1\n"  # ENV persists into a stage built FROM a stage
    assert _read(img, "/passwd").startswith(b"root:x:0:0")  # --from an image that is not a stage
    assert len(img.diff_ids) == 3  # scratch + three COPY layers; nothing from busybox
    p = img.layer_dirs()[1] / "out2" / "artifact"
    st = os.stat(p)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (7, 8, 0o640)
    st = os.stat(img.layer_dirs()[2] / "artifact")  # without --chown the owner in the stage is kept
    assert (st.st_uid, st.st_gid) == (1000, 1001)
    # --target builds only up to that stage
    _build(berth_host, ctx, "--target", "builder", "-t", "onlybuilder")
    assert _read(_image(berth_host, "onlybuilder"), "/out/artifact") == b"built\n"
    bad = _build(berth_host, ctx, "--target", "nope", check=False)
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_arg_scoping_and_env_expansion(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""ARG BASE={busybox_image}
ARG GLOBAL=global-default
FROM $BASE
RUN echo "global-not-visible:[$GLOBAL]" > /r1
ARG GLOBAL
ARG LOCAL=local-default
ARG OVERRIDE=from-arg
ENV OVERRIDE=from-env DIR=/srv/${{LOCAL}}
RUN echo "$GLOBAL $LOCAL $OVERRIDE" > /r2
WORKDIR $DIR
COPY f ${{DIR}}/sub/
ENV UNSET_DEFAULT=${{NOPE:-fallback}} KEEP=$DIR
RUN echo "proxy=$HTTP_PROXY" > /proxy
ARG FROMENV NOTINENV
RUN echo "[$FROMENV][${{NOTINENV-unset}}]" > /r3
CMD ["echo", "$DIR"]
"""
    ctx = _ctx(tmp_path, df, {"f": "x"})
    # `--build-arg NAME` without a value takes NAME from the caller's environment (docker's CLI)
    out = berth_host.run("build", "-t", "args", "--build-arg", "LOCAL=cli", "--build-arg", "UNUSED=1",
                         "--build-arg", "HTTP_PROXY=http://proxy.example:3128", "--build-arg", "FROMENV",
                         "--build-arg", "NOTINENV", str(ctx), env={"FROMENV": "env-value"})
    assert "[Warning] One or more build-args ['UNUSED'] were not consumed" in out.stdout
    img = _image(berth_host, "args")
    assert _read(img, "/r1") == b"global-not-visible:[]\n"
    assert _read(img, "/r2") == b"global-default cli from-env\n"
    assert _read(img, "/r3") == b"[env-value][unset]\n"
    assert _read(img, "/srv/cli/sub/f") == b"x"
    env = img.config["config"]["Env"]
    assert "DIR=/srv/cli" in env and "UNSET_DEFAULT=fallback" in env and "KEEP=/srv/cli" in env
    assert img.config["config"]["WorkingDir"] == "/srv/cli"
    assert img.config["config"]["Cmd"] == ["echo", "$DIR"]  # CMD is not expanded by the builder
    assert not any(e.startswith(("LOCAL=", "GLOBAL=", "HTTP_PROXY=")) for e in env)  # ARGs do not persist
    # predefined proxy args reach RUN without an ARG, but stay out of the history
    assert _read(img, "/proxy") == b"proxy=http://proxy.example:3128\n"
    assert "proxy.example" not in json.dumps(img.config["history"])
    # a build arg is part of the RUN cache key
    again = _build(berth_host, ctx, "--build-arg", "LOCAL=other")
    assert "run" in _steps(again.stdout)


def test_which_instructions_expand_variables(berth_host, busybox_image, tmp_path: Path) -> None:
    """Docker's list: ENV, LABEL, EXPOSE, USER, STOPSIGNAL, VOLUME, WORKDIR, ADD/COPY and ARG
    expand; RUN, CMD, ENTRYPOINT, HEALTHCHECK and ONBUILD keep `$` for later."""
    df = f"""FROM {busybox_image}
ARG PORT=8080 SIG=SIGUSR1 U=1000 VOL=/v LBL=val
ENV E=env-val
EXPOSE $PORT ${{PORT:+9090}}/udp
LABEL l1=$LBL l2="${{UNSET:-dflt}}" l3=\\$LBL l4='$LBL' l5="${{E}} x"
USER ${{U}}:${{U}}
STOPSIGNAL $SIG
VOLUME $VOL ${{VOL}}2
HEALTHCHECK CMD echo $E
ENTRYPOINT echo $E
ONBUILD RUN echo $E
MAINTAINER $LBL
"""
    _build(berth_host, _ctx(tmp_path, df), "-t", "expand")
    c = _image(berth_host, "expand").config
    cfg = c["config"]
    assert cfg["ExposedPorts"] == {"8080/tcp": {}, "9090/udp": {}}
    assert cfg["Labels"] == {"l1": "val", "l2": "dflt", "l3": "$LBL", "l4": "$LBL", "l5": "env-val x"}
    assert cfg["User"] == "1000:1000" and cfg["StopSignal"] == "SIGUSR1"
    assert cfg["Volumes"] == {"/v": {}, "/v2": {}}
    assert cfg["Healthcheck"]["Test"] == ["CMD-SHELL", "echo $E"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "echo $E"]
    assert cfg["OnBuild"] == ["RUN echo $E"]
    assert c["author"] == "$LBL"  # MAINTAINER is not expanded either


def test_copy_destination_semantics(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""FROM {busybox_image}
COPY a.txt /etc
COPY a.txt /renamed
COPY --chmod=751 *.txt /globbed/
COPY dir /dircontents
COPY dir/ /dircontents2/
COPY dir /etc/
"""
    ctx = _ctx(tmp_path, df, {"a.txt": "a", "b.txt": "b", "dir/sub/f": "f"})
    _build(berth_host, ctx, "-t", "dest")
    img = _image(berth_host, "dest")
    assert _read(img, "/etc/a.txt") == b"a"  # an existing directory without a trailing slash
    assert _read(img, "/renamed") == b"a"
    assert _read(img, "/globbed/a.txt") == b"a" and _read(img, "/globbed/b.txt") == b"b"
    assert stat.S_IMODE(os.stat(img.layer_dirs()[3] / "globbed" / "b.txt").st_mode) == 0o751
    for d in ("/dircontents", "/dircontents2", "/etc"):  # a directory's contents, not the directory
        assert _read(img, d + "/sub/f") == b"f", d
    assert _read(img, "/dircontents/dir/sub/f") is None
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY *.txt /notadir\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode != 0 and "Dockerfile:2: COPY" in bad.stderr and "end with a /" in bad.stderr
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY dir /etc/passwd/sub/\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode == 1 and "Dockerfile:2: COPY" in bad.stderr and "not a directory" in bad.stderr


def test_onbuild_triggers_run_in_child(berth_host, busybox_image, tmp_path: Path) -> None:
    parent = _ctx(tmp_path / "p", f"""FROM {busybox_image}
ONBUILD COPY marker.txt /from-child-context.txt
ONBUILD RUN echo triggered > /triggered
""")
    _build(berth_host, parent, "-t", "onbuild-parent")
    p = _image(berth_host, "onbuild-parent")
    assert p.config["config"]["OnBuild"] == ["COPY marker.txt /from-child-context.txt",
                                             "RUN echo triggered > /triggered"]
    assert _read(p, "/triggered") is None
    child = _ctx(tmp_path / "c", "FROM onbuild-parent\nRUN test -f /triggered\n", {"marker.txt": "m"})
    out = _build(berth_host, child, "-t", "onbuild-child").stdout
    assert "Executing 2 build triggers" in out
    c = _image(berth_host, "onbuild-child")
    assert _read(c, "/triggered") == b"triggered\n" and _read(c, "/from-child-context.txt") == b"m"
    assert not c.config["config"].get("OnBuild")


def test_user_and_workdir_apply_to_run(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""FROM {busybox_image}
WORKDIR /work/dir
RUN pwd > /tmp/pwd-root && id -u >> /tmp/pwd-root
USER app:appextra
WORKDIR sub
RUN pwd > /tmp/pwd-app; id -u >> /tmp/pwd-app; id -g >> /tmp/pwd-app; touch made-by-app
USER 0
SHELL ["/bin/sh", "-e", "-c"]
RUN echo "$0" > /tmp/shell
RUN --network=none grep -c : /proc/net/dev > /tmp/netdevs
"""
    img_out = _build(berth_host, _ctx(tmp_path, df), "-t", "uw")
    assert img_out.returncode == 0
    img = _image(berth_host, "uw")
    assert _read(img, "/tmp/pwd-root") == b"/work/dir\n0\n"
    assert _read(img, "/tmp/pwd-app") == b"/work/dir/sub\n1000\n1001\n"
    # a WORKDIR created under USER belongs to that user (BuildKit), so the user can write there
    assert _read(img, "/work/dir/sub/made-by-app") == b""
    sub = next(d / "work/dir/sub" for d in img.layer_dirs() if (d / "work/dir/sub").is_dir())
    assert (os.stat(sub).st_uid, os.stat(sub).st_gid) == (1000, 1001)
    assert os.stat(next(d / "work/dir" for d in img.layer_dirs()[::-1] if (d / "work/dir").is_dir())).st_uid == 0
    assert _read(img, "/tmp/shell") == b"/bin/sh\n"
    assert _read(img, "/tmp/netdevs") == b"1\n"  # --network=none: only lo
    assert img.config["config"]["Shell"] == ["/bin/sh", "-e", "-c"]


def test_network_flag_selects_run_network(berth_host, busybox_image, tmp_path: Path) -> None:
    """`berth build --network none|host|bridge`: RUN steps get that network (default: bridge)."""
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nRUN readlink /proc/self/ns/net > /ns && "
                         "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /devs\n")
    host_ns = os.readlink("/proc/self/ns/net").encode() + b"\n"
    seen = {}
    for mode in ("none", "host", "bridge", None):
        out = _build(berth_host, ctx, "-t", f"net-{mode or 'default'}", *(("--network", mode) if mode else ()))
        assert _steps(out.stdout)[1] == ("cache" if mode is None else "run")  # no --network = bridge
        img = _image(berth_host, f"net-{mode or 'default'}")
        seen[mode] = (_read(img, "/ns"), _read(img, "/devs"))
    assert seen["none"][1] == b"lo\n" and seen["none"][0] != host_ns
    assert seen["host"][0] == host_ns
    assert seen["bridge"][1] == b"eth0\nlo\n" and seen["bridge"][0] != host_ns
    assert seen[None][1] == b"eth0\nlo\n"  # no --network: a bridge, like docker build
    bad = _build(berth_host, ctx, "--network", "nope", check=False)
    assert bad.returncode == 2 and "--network='nope'" in bad.stderr


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o640
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_add_extracts_local_archives_copy_does_not(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""FROM {busybox_image}
ADD bundle.tar.gz /opt/
COPY bundle.tar.gz /copied/
ADD plain.txt /plain/
ADD --chmod=600 --chown=app plain.txt /owned.txt
"""
    ctx = _ctx(tmp_path, df, {"bundle.tar.gz": _tgz({"pkg/a.txt": b"A", "pkg/b.txt": b"B"}), "plain.txt": "p"})
    _build(berth_host, ctx, "-t", "add")
    img = _image(berth_host, "add")
    assert _read(img, "/opt/pkg/a.txt") == b"A" and _read(img, "/opt/pkg/b.txt") == b"B"
    assert gzip.decompress(_read(img, "/copied/bundle.tar.gz") or b"")[:3] == b"pkg"
    assert _read(img, "/plain/plain.txt") == b"p"
    st = os.stat(img.layer_dirs()[0] / "owned.txt")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1000, 0o600)


def test_dockerignore_exclusions_and_exceptions(berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nCOPY . /ctx/\n", {
        ".dockerignore": "# comment\n*.log\n!important.log\nsecret/\n**/*.tmp\ndocs\n!docs/keep.md\n",
        "a.log": "x", "important.log": "keep", "secret/key": "k", "src/main.c": "c",
        "src/deep/x.tmp": "t", "docs/keep.md": "d", "docs/drop.md": "d",
    })
    _build(berth_host, ctx, "-t", "ign")
    img = _image(berth_host, "ign")
    assert _read(img, "/ctx/important.log") == b"keep"
    assert _read(img, "/ctx/src/main.c") == b"c"
    assert _read(img, "/ctx/docs/keep.md") == b"d"
    for gone in ("/ctx/a.log", "/ctx/secret/key", "/ctx/src/deep/x.tmp", "/ctx/docs/drop.md"):
        assert _read(img, gone) is None, gone
    # changing an excluded file does not invalidate `COPY .`; changing an included one does
    (ctx / "secret" / "key").write_text("changed")
    assert _steps(_build(berth_host, ctx).stdout)[1:] == ["cache"]
    (ctx / "important.log").write_text("changed")
    assert _steps(_build(berth_host, ctx).stdout)[1:] == ["run"]
    # an excluded file cannot be named directly either
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY a.log /\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode != 0 and "excluded by .dockerignore" in bad.stderr


def test_run_deleting_a_base_file_makes_a_whiteout(berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nRUN rm /etc/os-release && rm -rf /home && mkdir /home\n")
    _build(berth_host, ctx, "-t", "wh")
    img = _image(berth_host, "wh")
    top = img.manifest["layers"][-1]["digest"]
    blob = img.store.read_blob(top)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tf:
        names = tf.getnames()
    assert "etc/.wh.os-release" in names
    assert "home/.wh..wh..opq" in names  # a dir replaced by a new one is opaque
    assert _read(img, "/etc/os-release") is None


def test_context_escapes_are_refused(berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nCOPY link /stolen\n", {"ok": "fine"})
    os.symlink("/etc/shadow", ctx / "link")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode != 0
    assert "Dockerfile:2: COPY" in bad.stderr and "outside the build context" in bad.stderr
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY ../../etc/hostname /x\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode != 0 and "outside the build context" in bad.stderr
    # a symlink inside a copied directory is copied as a link, never followed
    (ctx / "dir").mkdir()
    os.symlink("/etc/shadow", ctx / "dir" / "l")
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY dir /d/\n")
    _build(berth_host, ctx, "-t", "links")
    assert os.readlink(_image(berth_host, "links").layer_dirs()[0] / "d" / "l") == "/etc/shadow"


def test_failures_name_the_line(berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nENV A=1\nRUN echo before && exit 3\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode == 1
    assert "Dockerfile:3: RUN" in bad.stderr and "returned a non-zero code: 3" in bad.stderr
    assert "before" in bad.stdout
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY ${{SRC:?required}} /x\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode == 2 and "Dockerfile:2: COPY" in bad.stderr and "SRC: required" in bad.stderr
    (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nUSER nosuchuser\nRUN true\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode != 0 and "Dockerfile:3: RUN" in bad.stderr and "nosuchuser" in bad.stderr
    # --platform: only the host's can be built (no emulation); FROM --platform likewise
    bad = _build(berth_host, ctx, "--platform", "linux/s390x", check=False)
    assert bad.returncode == 2 and "--platform='linux/s390x'" in bad.stderr
    (ctx / "Dockerfile").write_text(f"FROM --platform=linux/s390x {busybox_image}\nRUN true\n")
    bad = _build(berth_host, ctx, check=False)
    assert bad.returncode == 2 and "Dockerfile:1: FROM: --platform=linux/s390x" in bad.stderr
    (ctx / "Dockerfile").write_text(f"FROM --platform=$BUILDPLATFORM {busybox_image}\nARG TARGETOS\n"
                                    "RUN echo $TARGETOS > /os\n")
    _build(berth_host, ctx, "--platform", "linux", "-t", "plat")
    assert _read(_image(berth_host, "plat"), "/os") == b"linux\n"
    leftovers = list((berth_host.root / "builds" / "tmp").iterdir())
    assert leftovers == []
    with open("/proc/self/mountinfo") as f:
        assert str(berth_host.root) not in f.read()


def test_check_only_parses(berth_host, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "FROM x AS a\nRUN true\nCOPY --from=b /x /y\nFROM y AS b\n")
    bad = berth_host.run("build", "--check", str(ctx), check=False)
    assert bad.returncode == 2 and "Dockerfile:3: COPY" in bad.stderr
    (ctx / "Dockerfile").write_text("FROM x\nRUN --network=none echo a \\\n\n  b\nHEALTHCHECK NONE\n")
    ok = berth_host.run("build", "--check", str(ctx))
    assert "OK" in ok.stdout and "line 2: empty continuation line" in ok.stderr
    assert not (berth_host.root / "oci").exists()  # nothing was built or pulled


def test_heredocs_labels_and_quiet(berth_host, busybox_image, tmp_path: Path) -> None:
    df = f"""FROM {busybox_image}
ARG WHO=world
RUN <<EOF
echo "script $WHO" > /script.out
echo second line >> /script.out
EOF
RUN cat <<'RAW' > /raw.out && cat <<-TABS > /tabs.out
$WHO stays literal
RAW
\tindented $WHO
\tTABS
COPY <<EOF /etc/generated.conf
who=$WHO
EOF
COPY <<one <<two /multi/
1
one
2
two
"""
    ctx = _ctx(tmp_path, df)
    q = _build(berth_host, ctx, "-q", "-t", "hd", "--label", "org.example.build=yes", "--build-arg", "WHO=you")
    img = _image(berth_host, "hd")
    assert q.stdout.strip() == img.id  # -q prints only the ID
    assert _read(img, "/script.out") == b"script you\nsecond line\n"
    assert _read(img, "/raw.out") == b"$WHO stays literal\n"
    assert _read(img, "/tabs.out") == b"indented you\n"
    assert _read(img, "/etc/generated.conf") == b"who=you\n"
    assert _read(img, "/multi/one") == b"1\n" and _read(img, "/multi/two") == b"2\n"
    assert img.config["config"]["Labels"] == {"org.example.build": "yes"}


def test_add_from_url(berth_host, busybox_image, tmp_path: Path) -> None:
    import functools
    import hashlib
    import http.server
    import threading

    served = tmp_path / "www"
    served.mkdir()
    (served / "file.bin").write_bytes(b"downloaded")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/file.bin"
        good = "sha256:" + hashlib.sha256(b"downloaded").hexdigest()
        ctx = _ctx(tmp_path, f"FROM {busybox_image}\nADD --checksum={good} {url} /dl/\nADD {url} /named\n")
        _build(berth_host, ctx, "-t", "url")
        img = _image(berth_host, "url")
        assert _read(img, "/dl/file.bin") == b"downloaded" and _read(img, "/named") == b"downloaded"
        assert stat.S_IMODE(os.stat(img.layer_dirs()[1] / "dl" / "file.bin").st_mode) == 0o600
        # same content: cache hit; a wrong checksum fails
        assert _steps(_build(berth_host, ctx).stdout)[1:] == ["cache", "cache"]
        (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nADD --checksum=sha256:{'0' * 64} {url} /x\n")
        bad = _build(berth_host, ctx, check=False)
        assert bad.returncode != 0 and "checksum mismatch" in bad.stderr
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.requires("registry", "skopeo")
def test_built_image_pushed_and_pulled_back_by_skopeo(berth_host, busybox_image, open_registry,
                                                      tmp_path: Path) -> None:
    import hashlib
    import json
    import subprocess

    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nCOPY f /f\nRUN echo run > /r && rm /etc/os-release\n"
                         "CMD [\"cat\", \"/f\"]\n", {"f": "file\n"})
    target = f"{open_registry.host}/berth/built:v1"
    _build(berth_host, ctx, "-t", target)
    img = _image(berth_host, target)
    pushed = berth_host.json("push", "--format", "json", target)
    dest = tmp_path / "oci"
    p = subprocess.run(["skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--preserve-digests",
                        f"docker://{target}", f"oci:{dest}:v1"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    index = json.loads((dest / "index.json").read_text())
    mdigest = index["manifests"][0]["digest"]
    assert mdigest == pushed["Digest"]
    manifest = json.loads((dest / "blobs" / "sha256" / mdigest.split(":")[1]).read_text())
    assert manifest["config"]["digest"] == img.id  # the config (so the image ID) is unchanged
    config = json.loads((dest / "blobs" / "sha256" / img.id.split(":")[1]).read_bytes())
    assert config["config"]["Cmd"] == ["cat", "/f"]
    diff_ids = []
    for layer in manifest["layers"]:
        raw = (dest / "blobs" / "sha256" / layer["digest"].split(":")[1]).read_bytes()
        diff_ids.append("sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest())
    assert diff_ids == img.diff_ids


@pytest.mark.requires("registry")
def test_base_image_pulled_when_missing_and_with_pull(berth_host, busybox_image, open_registry,
                                                      tmp_path: Path) -> None:
    from tests.fixtures.host import BerthHost

    base = f"{open_registry.host}/berth/buildbase:v1"
    berth_host.run("tag", busybox_image, base)
    berth_host.run("push", base)
    other = BerthHost(berth_host.base / "fresh")  # a host without the base image
    try:
        ctx = _ctx(tmp_path, f"FROM {base}\nRUN echo ok > /ok\n")
        out = other.run("build", "-t", "pulled", str(ctx)).stdout
        assert f"Pulling {base}" in out
        assert _read(_image(other, "pulled"), "/ok") == b"ok\n"
        again = other.run("build", "--pull", "-t", "pulled", str(ctx)).stdout
        assert f"Pulling {base}" in again and "Using cache" in again  # same base digest: cache still valid
    finally:
        other.teardown()


def test_api_build_for_apply(berth_host, busybox_image, tmp_path: Path) -> None:
    """`engine.build.api.build` as `berth apply` calls it (context= alias, etc_hosts)."""
    from engine.build import api
    from engine.context import Context

    ctx = Context(root=berth_host.root, runroot=berth_host.runroot, config_path=berth_host.config)
    d = _ctx(tmp_path, f"FROM {busybox_image}\nARG V\nRUN grep myhost /etc/hosts > /hosts && echo $V > /v && "
                       "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /devs\n")
    image_id = api.build(ctx, context=str(d), tags=["apply/built:1"], build_args={"V": "7"},
                         extra_hosts={"myhost": "10.1.2.3"}, shm_size=None, cache_from=None)
    img = _image(berth_host, "apply/built:1")
    assert img.id == image_id
    assert _read(img, "/hosts") == b"10.1.2.3\tmyhost\n" and _read(img, "/v") == b"7\n"
    assert _read(img, "/devs") == b"eth0\nlo\n"  # extra hosts on the same bridge path as berth run
    assert api.build(ctx, str(d), tags=["apply/built:1"], build_args={"V": "7"}) == image_id  # cached
    with pytest.raises(Exception, match="not a directory"):
        api.build(ctx, context=str(d / "missing"))


def test_copy_dir_contents_keeps_destination_metadata(berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nCOPY tree/ /tmp/\nCOPY tree /newdir\n", {"tree/sub/f": "f"})
    os.chmod(ctx / "tree", 0o700)
    _build(berth_host, ctx, "-t", "dirmeta")
    img = _image(berth_host, "dirmeta")
    top, below = img.layer_dirs()[0], img.layer_dirs()[1]
    assert stat.S_IMODE(os.stat(below / "tmp").st_mode) == 0o1777  # /tmp is not chmod'ed to the source's 0700
    assert stat.S_IMODE(os.stat(top / "newdir").st_mode) == 0o755
    assert _read(img, "/tmp/sub/f") == b"f" and _read(img, "/newdir/sub/f") == b"f"


def test_source_date_epoch_makes_no_cache_rebuilds_identical(berth_host, busybox_image, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, f"FROM {busybox_image}\nENV A=1\nCOPY f /f\nCMD [\"cat\", \"/f\"]\n", {"f": "x"})
    os.utime(ctx / "f", (1000, 1000))
    args = ("-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000")
    one = _build(berth_host, ctx, *args).stdout.strip()
    two = _build(berth_host, ctx, *args).stdout.strip()
    assert one == two
    assert _image(berth_host, one).config["created"] == "2023-11-14T22:13:20Z"
    assert _build(berth_host, ctx, "-q", "--no-cache").stdout.strip() != one  # real timestamps otherwise


@pytest.mark.requires("conmon")
def test_built_image_runs(berth_host, busybox_image, tmp_path: Path) -> None:
    """The config a build writes is what `berth run` uses: ENTRYPOINT + CMD, USER, WORKDIR, ENV."""
    ctx = _ctx(tmp_path, f"""FROM {busybox_image}
ENV WHO=builder
WORKDIR /srv
COPY greet.sh /usr/local/bin/greet
USER app
ENTRYPOINT ["/usr/local/bin/greet"]
CMD ["from-cmd"]
""", {"greet.sh": "#!/bin/sh\necho \"$WHO $(id -u) $(pwd) $1\"\n"})
    os.chmod(ctx / "greet.sh", 0o755)
    _build(berth_host, ctx, "-t", "runs:1")
    out = berth_host.run("run", "--rm", "runs:1").stdout
    assert out.strip() == "builder 1000 /srv from-cmd"
    out = berth_host.run("run", "--rm", "runs:1", "arg").stdout
    assert out.strip() == "builder 1000 /srv arg"
