"""Image verbs: pull, push, login, logout, images, image, tag, rmi, history, save, load, import,
info, version."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from engine.cli.common import Globals, add_format, emit_inspect, emit_json, emit_rows, emit_table, parser
from engine.errors import InvalidArgument, NotFound

IMAGE_SUBCOMMANDS = {"ls": "images", "list": "images", "inspect": "_inspect", "rm": "rmi", "remove": "rmi",
                     "tag": "tag", "history": "history", "save": "save", "load": "load", "import": "import",
                     "pull": "pull", "push": "push", "prune": "_prune"}


def run(verb: str, argv: list[str], g: Globals) -> int:
    if verb == "image":
        if not argv or argv[0] in ("-h", "--help"):
            print("usage: berth image COMMAND\n\nCommands: " + ", ".join(sorted(IMAGE_SUBCOMMANDS)))
            return 0 if argv else 2
        sub = argv[0]
        if sub not in IMAGE_SUBCOMMANDS:
            raise InvalidArgument(f"unknown image command {sub!r} (known: {', '.join(sorted(IMAGE_SUBCOMMANDS))})",
                                  field="command")
        verb, argv = IMAGE_SUBCOMMANDS[sub], argv[1:]
    fn = globals().get("cmd_" + verb.lstrip("_").replace("-", "_"))
    if fn is None:
        raise InvalidArgument(f"verb {verb!r} is not implemented yet", field="verb")
    return int(fn(argv, g) or 0)


# ----------------------------------------------------------------------------- helpers

def human_size(n: float) -> str:
    """Docker's HumanSizeWithPrecision(size, 3): decimal units."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000.0
        i += 1
    s = f"{n:.3g}"
    if "e" in s:
        s = f"{n:.0f}"
    return f"{s}{units[i]}"


def _parse_time(s: str) -> float:
    import datetime

    if not s:
        return 0.0
    s = s.strip()
    frac = ""
    if "." in s:
        main, rest = s.split(".", 1)
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac, tz = rest[:i], rest[i:]
        s = main + (("." + frac[:6]) if frac else "") + tz
    s = s.replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(s).timestamp()
    except ValueError:
        return 0.0


def human_duration(seconds: float) -> str:
    """Docker's units.HumanDuration."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"


def ago(created: str) -> str:
    t = _parse_time(created)
    if not t:
        return "N/A"
    return human_duration(time.time() - t) + " ago"


def _store(g: Globals):  # type: ignore[no-untyped-def]
    from engine.images.store import ImageStore

    return ImageStore(g.ctx)


def _want_json(fmt: str | None) -> bool:
    if fmt in (None, "", "table"):
        return False
    if fmt == "json" or fmt == "{{json .}}":
        return True
    raise InvalidArgument(f"unsupported --format {fmt!r} (use 'json' or 'table')", field="format")


# ----------------------------------------------------------------------------- verbs

def cmd_import(argv: list[str], g: Globals) -> int:
    p = parser("import", "Import the contents from a tarball to create a filesystem image")
    p.add_argument("-c", "--change", action="append", default=[], help="apply a Dockerfile instruction")
    p.add_argument("-m", "--message", default="", help="commit message for the imported image")
    p.add_argument("--platform", default=None, help="ignored unless it differs from the host (os/arch)")
    add_format(p)
    p.add_argument("file", metavar="file|URL|-")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    a = p.parse_args(argv)
    from engine.images import api

    if a.file == "-":
        img = api.import_tarball(g.ctx, sys.stdin.buffer, a.reference, a.change, a.message, "-")
    else:
        path = Path(a.file)
        if not path.is_file():
            raise InvalidArgument(f"import: file {a.file!r} does not exist", field="file")
        img = api.import_tarball(g.ctx, path, a.reference, a.change, a.message, a.file)
    if _want_json(a.format):
        emit_json({"Id": img.id, "RepoTags": img.repo_tags})
    else:
        print(img.id)
    return 0


def _matches_filters(img: Any, filters: dict[str, list[str]], tag: str | None, has_children: bool = False) -> bool:
    import fnmatch

    for key, vals in filters.items():
        if key == "dangling":
            # Docker: dangling=true lists untagged images that are not the parent of another
            # image; dangling=false only tagged ones (intermediates too stay out, even with -a)
            want = vals[-1].lower() in ("true", "1")
            if (want and (img.tags or has_children)) or (not want and not img.tags):
                return False
        elif key == "reference":
            from engine.images.reference import parse

            cands = [tag] if tag else [t for t in img.repo_tags]
            ok = False
            for v in vals:
                for c in cands:
                    if c is None:
                        continue
                    r = parse(c)
                    name = r.familiar_name()
                    pat_name, _, pat_tag = v.partition(":") if ":" in v.rsplit("/", 1)[-1] else (v, "", "")
                    if fnmatch.fnmatchcase(name, pat_name) and (not pat_tag or fnmatch.fnmatchcase(r.tag or "", pat_tag)):
                        ok = True
            if not ok:
                return False
        elif key == "label":
            labels = (img.config.get("config") or {}).get("Labels") or {}
            for v in vals:
                k, eq, val = v.partition("=")
                if k not in labels or (eq and labels[k] != val):
                    return False
        elif key in ("before", "since"):
            from engine.images.store import ImageStore

            other = ImageStore(img.store.ctx).resolve(vals[-1])
            t, o = _parse_time(img.created), _parse_time(other.created)
            if (key == "before" and not t < o) or (key == "since" and not t > o):
                return False
        else:
            raise InvalidArgument(f"invalid filter {key!r} (known: dangling, reference, label, before, since)",
                                  field="filter")
    return True


def _parse_filters(items: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in items:
        k, eq, v = f.partition("=")
        if not eq:
            raise InvalidArgument(f"bad format of filter {f!r} (expected name=value)", field="filter")
        out.setdefault(k.strip().lower(), []).append(v)
    return out


def cmd_images(argv: list[str], g: Globals) -> int:
    p = parser("images", "List images")
    p.add_argument("-a", "--all", action="store_true", help="show all images (intermediate too)")
    p.add_argument("--digests", action="store_true", help="show digests")
    p.add_argument("-f", "--filter", action="append", default=[], help="filter: dangling=, reference=, label=")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    add_format(p)
    p.add_argument("repository", nargs="?")
    a = p.parse_args(argv)
    filters = _parse_filters(a.filter)
    if a.repository:
        filters.setdefault("reference", []).append(a.repository)
    store = _store(g)
    rows: list[tuple[Any, str | None]] = []
    images = store.images()
    parents = {img.parent for img in images if img.parent}
    for img in images:
        has_children = img.id in parents
        if not img.tags and has_children and not a.all:
            continue  # an intermediate (build step) image: only with -a, like docker
        tags: list[str | None] = list(img.repo_tags) or [None]
        for t in tags:
            if _matches_filters(img, filters, t, has_children):
                rows.append((img, t))
    rows.sort(key=lambda r: _parse_time(r[0].created), reverse=True)
    if a.quiet:  # as docker: -q wins over --format
        seen_q: set[str] = set()
        for img, _t in rows:
            if img.id not in seen_q:
                seen_q.add(img.id)
                print(img.id if a.no_trunc else img.short_id)
        return 0
    if a.format not in (None, "", "table"):
        out = []
        for img, t in rows:
            repo, tag = _repo_tag(t)
            digest = _row_digest(img, t, repo) if a.digests or "Digest" in a.format else "<none>"
            out.append(_image_row(img, repo, tag, digest, not a.no_trunc))
        emit_rows(a.format, out, IMAGE_COLUMNS, 5)
        return 0
    headers = ["REPOSITORY", "TAG"] + (["DIGEST"] if a.digests else []) + ["IMAGE ID", "CREATED", "SIZE"]
    table = []
    for img, t in rows:
        repo, tag = _repo_tag(t)
        row = [repo, tag]
        if a.digests:
            row.append(_row_digest(img, t, repo))
        row += [img.id if a.no_trunc else img.short_id, ago(img.created), human_size(img.size)]
        table.append(row)
    emit_table(headers, table)
    return 0


def _repo_tag(t: str | None) -> tuple[str, str]:
    if not t:
        return "<none>", "<none>"
    if ":" in t.rsplit("/", 1)[-1]:
        repo, _, tag = t.rpartition(":")
        return repo, tag
    return t, "<none>"


def _row_digest(img: Any, t: str | None, repo: str) -> str:
    digs = [d.split("@", 1)[1] for d in img.repo_digests if t is None or d.split("@", 1)[0] == repo]
    return digs[0] if digs else "<none>"


# `images --format 'table ...'` column names, as docker prints them
IMAGE_COLUMNS = [("Repository", "REPOSITORY"), ("Tag", "TAG"), ("ID", "IMAGE ID"), ("CreatedSince", "CREATED"),
                 ("Size", "SIZE"), ("Digest", "DIGEST"), ("CreatedAt", "CREATED AT"), ("Containers", "CONTAINERS"),
                 ("SharedSize", "SHARED SIZE"), ("UniqueSize", "UNIQUE SIZE"), ("VirtualSize", "VIRTUAL SIZE")]


def _image_row(img: Any, repo: str, tag: str, digest: str, trunc: bool) -> dict[str, str]:
    """One row of `docker images --format json` (the CLI's image formatter: all strings)."""
    t = _parse_time(img.created)
    created_at = time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(int(t))) if t else ""
    size = human_size(img.size)
    return {"Containers": "N/A", "CreatedAt": created_at, "CreatedSince": ago(img.created), "Digest": digest,
            "ID": img.short_id if trunc else img.id, "Repository": repo, "SharedSize": "N/A", "Size": size,
            "Tag": tag, "UniqueSize": "N/A", "VirtualSize": size}


def cmd_inspect(argv: list[str], g: Globals) -> int:
    p = parser("image inspect", "Display detailed information on one or more images")
    add_format(p, inspect=True)
    p.add_argument("images", nargs="+")
    a = p.parse_args(argv)
    from engine.images.api import inspect

    out, missing = [], []
    for name in a.images:
        try:
            out.append(inspect(g.ctx, name))
        except NotFound:
            missing.append(name)
    emit_inspect(out, a.format)
    if missing:
        print("Error: No such image: " + ", ".join(missing), file=sys.stderr)
        return 3
    return 0


def cmd_tag(argv: list[str], g: Globals) -> int:
    p = parser("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    a = p.parse_args(argv)
    _store(g).tag(a.source, a.target)
    return 0


def cmd_rmi(argv: list[str], g: Globals) -> int:
    p = parser("rmi", "Remove one or more images")
    p.add_argument("-f", "--force", action="store_true", help="force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="do not delete untagged parents")
    add_format(p)
    p.add_argument("images", nargs="+")
    a = p.parse_args(argv)
    store = _store(g)
    rc = 0
    all_events: list[dict[str, str]] = []
    for name in a.images:
        try:
            events = store.remove(name, force=a.force, prune_children=not a.no_prune)
        except NotFound as e:
            print(f"Error: {e.message}", file=sys.stderr)
            rc = 3 if rc == 0 else rc
            continue
        all_events += events
        if not _want_json(a.format):
            for ev in events:
                for k, v in ev.items():
                    print(f"{k}: {v}")
    if _want_json(a.format):
        emit_json(all_events)
    return rc


def cmd_pull(argv: list[str], g: Globals) -> int:
    p = parser("pull", "Download an image from a registry")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.add_argument("--platform", default=None, help="os/arch[/variant] (default: the host's)")
    p.add_argument("-a", "--all-tags", action="store_true", help="not supported")
    add_format(p)
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    a = p.parse_args(argv)
    if a.all_tags:
        raise InvalidArgument("pull: --all-tags is not supported", field="all-tags")
    from engine.images.api import inspect_image
    from engine.images.progress import Progress
    from engine.images.pull import pull
    from engine.images.reference import parse

    js = _want_json(a.format)
    ref = parse(a.name)
    img = pull(g.ctx, a.name, platform=a.platform, progress=Progress(quiet=a.quiet or js))
    if js:
        emit_json(inspect_image(img))
    else:
        print(str(ref))
    return 0


def cmd_push(argv: list[str], g: Globals) -> int:
    p = parser("push", "Upload an image to a registry")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="upload blobs in chunks of this many bytes (default: one request per blob)")
    add_format(p)
    p.add_argument("name", metavar="NAME[:TAG]")
    a = p.parse_args(argv)
    from engine.images.progress import Progress
    from engine.images.push import push

    js = _want_json(a.format)
    res = push(g.ctx, a.name, chunk_size=a.chunk_size, progress=Progress(quiet=a.quiet or js))
    if js:
        emit_json(res)
    elif a.quiet:
        print(a.name)
    return 0


def cmd_login(argv: list[str], g: Globals) -> int:
    p = parser("login", "Log in to a registry")
    p.add_argument("-u", "--username", default=None)
    p.add_argument("-p", "--password", default=None, help="password (prefer --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="take the password from stdin")
    add_format(p)
    p.add_argument("server", nargs="?", default=None)
    a = p.parse_args(argv)
    if a.password is not None and a.password_stdin:
        raise InvalidArgument("login: --password and --password-stdin are mutually exclusive", field="password")
    pw = a.password
    if a.password_stdin:
        if not a.username:
            raise InvalidArgument("login: --password-stdin needs --username", field="username")
        pw = sys.stdin.read().rstrip("\r\n")
    elif a.password is not None:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.", file=sys.stderr)
    user = a.username
    if user is None or pw is None:
        if not sys.stdin.isatty():
            raise InvalidArgument("login: --username and a password (--password-stdin) are required when not on "
                                  "a terminal", field="username")
        import getpass

        if user is None:
            user = input("Username: ").strip()
        if pw is None:
            pw = getpass.getpass("Password: ")
    from engine.images.api import login

    domain = login(g.ctx, a.server, user or "", pw or "")
    if _want_json(a.format):
        emit_json({"Status": "Login Succeeded", "Registry": domain, "Username": user})
    else:
        print("Login Succeeded")
    return 0


def cmd_logout(argv: list[str], g: Globals) -> int:
    p = parser("logout", "Log out from a registry")
    add_format(p)
    p.add_argument("server", nargs="?", default=None)
    a = p.parse_args(argv)
    from engine.images.api import logout, normalise_registry

    domain = normalise_registry(a.server)
    removed = logout(g.ctx, a.server)
    if _want_json(a.format):
        emit_json({"Registry": domain, "Removed": removed})
    elif removed:
        print(f"Removing login credentials for {domain}")
    else:
        print(f"Not logged in to {domain}")
    return 0


def cmd_history(argv: list[str], g: Globals) -> int:
    p = parser("history", "Show the history of an image")
    p.add_argument("-H", "--human", default=True, type=lambda s: s.lower() in ("1", "true", "yes"),
                   help="human readable sizes and dates (default true)")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    add_format(p)
    p.add_argument("image")
    a = p.parse_args(argv)
    img = _store(g).resolve(a.image)
    hist = list(img.config.get("history") or [])
    diff_ids = img.diff_ids
    if not hist:  # images without history: one line per layer
        hist = [{"created": img.created, "created_by": ""} for _ in diff_ids]
    rows = []
    li = 0
    for h in hist:
        empty = bool(h.get("empty_layer"))
        size = 0
        if not empty and li < len(diff_ids):
            size = _store(g).layer_size(diff_ids[li])
            li += 1
        rows.append({"CreatedBy": h.get("created_by", ""), "Created": h.get("created", ""), "Size": size,
                     "Comment": h.get("comment", ""), "Tags": None, "Id": "<missing>"})
    rows.reverse()
    if rows:
        rows[0]["Id"] = img.id
        rows[0]["Tags"] = img.repo_tags
    if _want_json(a.format):
        emit_json(rows)
        return 0
    if a.quiet:
        for r in rows:
            print(r["Id"] if a.no_trunc or r["Id"] == "<missing>" else r["Id"][7:19])
        return 0
    table = []
    for r in rows:
        by = r["CreatedBy"]
        if not a.no_trunc and len(by) > 45:
            by = by[:44] + "…"
        rid = r["Id"] if a.no_trunc or r["Id"] == "<missing>" else r["Id"][7:19]
        table.append([rid, ago(r["Created"]) if a.human else r["Created"], by,
                      human_size(r["Size"]) if a.human else str(r["Size"]), r["Comment"]])
    emit_table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], table)
    return 0


def cmd_save(argv: list[str], g: Globals) -> int:
    p = parser("save", "Save one or more images to a tar archive (streamed to STDOUT by default)")
    p.add_argument("-o", "--output", default=None, help="write to a file instead of STDOUT")
    p.add_argument("images", nargs="+")
    a = p.parse_args(argv)
    from engine.images.archive import check_output_target, save

    if a.output:
        check_output_target(a.output)
        out_path = Path(a.output)
        tmp = out_path.with_name(f".{out_path.name}.berth-tmp")
        try:
            with open(tmp, "wb") as f:
                save(g.ctx, a.images, f)
            tmp.replace(out_path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return 0
    if sys.stdout.isatty():
        raise InvalidArgument("save: refusing to write an archive to a terminal; use -o FILE or redirect",
                              field="output")
    sys.stdout.flush()
    save(g.ctx, a.images, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


def cmd_load(argv: list[str], g: Globals) -> int:
    p = parser("load", "Load images from a tar archive (docker save or OCI layout), STDIN by default")
    p.add_argument("-i", "--input", default=None, help="read from a file instead of STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")
    add_format(p)
    a = p.parse_args(argv)
    from engine.images.archive import load

    if a.input:
        path = Path(a.input)
        if not path.is_file():
            raise InvalidArgument(f"load: input file {a.input!r} does not exist", field="input")
        loaded = load(g.ctx, path)
    else:
        if sys.stdin.isatty():
            raise InvalidArgument("load: requested load from stdin, but stdin is empty (a terminal)", field="input")
        loaded = load(g.ctx, sys.stdin.buffer)
    if _want_json(a.format):
        emit_json([{"Id": i, "RepoTags": tags} for i, tags in loaded])
        return 0
    if not a.quiet:
        for i, tags in loaded:
            if tags:
                for t in tags:
                    print(f"Loaded image: {t}")
            else:
                print(f"Loaded image ID: {i}")
    return 0


def cmd_prune(argv: list[str], g: Globals) -> int:
    p = parser("image prune", "Remove unused images")
    p.add_argument("-a", "--all", action="store_true", help="remove all unused images, not just dangling ones")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="label=..., until=...")
    add_format(p)
    a = p.parse_args(argv)
    from engine.images.api import prune

    filters = _parse_filters(a.filter)
    for k in filters:
        if k not in ("label", "label!", "until"):
            raise InvalidArgument(f"invalid filter {k!r} for image prune (known: label, label!, until)",
                                  field="filter")
    cutoff = _until(filters["until"][-1]) if "until" in filters else None

    def select(img: Any) -> bool:
        labels = (img.config.get("config") or {}).get("Labels") or {}
        if not _label_filters_ok(labels, filters):
            return False
        return cutoff is None or _parse_time(img.created) < cutoff

    res = prune(g.ctx, all=a.all, select=select, collect=not filters)
    events, reclaimed = res["ImagesDeleted"], res["SpaceReclaimed"]
    if _want_json(a.format):
        emit_json({"ImagesDeleted": events, "SpaceReclaimed": reclaimed})
        return 0
    if events:
        print("Deleted Images:")
        for ev in events:
            for k, v in ev.items():
                print(f"{k.lower()}: {v}")
        print()
    print(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0


def _label_filters_ok(labels: dict[str, str], filters: dict[str, list[str]]) -> bool:
    for v in filters.get("label", []):
        k, eq, val = v.partition("=")
        if k not in labels or (eq and labels[k] != val):
            return False
    for v in filters.get("label!", []):
        k, eq, val = v.partition("=")
        if k in labels and (not eq or labels[k] == val):
            return False
    return True


def _until(v: str) -> float:
    import re

    m = re.fullmatch(r"(\d+)([smhd]?)", v.strip())
    if m:
        n, u = int(m.group(1)), m.group(2)
        if u:
            return time.time() - n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u]
        return float(n)
    t = _parse_time(v)
    if not t:
        raise InvalidArgument(f"invalid until filter {v!r} (a duration like 24h, a unix time or RFC 3339)",
                              field="filter")
    return t


def _runtime_version(runtime: str) -> str:
    import shutil
    import subprocess

    path = shutil.which(runtime)
    if not path:
        return ""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    first = out.splitlines()[0] if out else ""
    return first.split()[-1] if first else ""


def _cgroup_version() -> str:
    """2 on a unified hierarchy, 1 on legacy/hybrid ones (where /sys/fs/cgroup is a tmpfs)."""
    return "2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "1"


def _count_containers(ctx: Any) -> dict[str, int]:
    import json

    counts = {"Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0}
    d = ctx.containers_dir
    if not d.is_dir():
        return counts
    for c in d.iterdir():
        rec = c / "container.json"
        if not rec.is_file():
            continue
        counts["Containers"] += 1
        try:
            state = (json.loads(rec.read_text()).get("State") or {})
        except (OSError, ValueError):
            state = {}
        if state.get("Paused"):
            counts["ContainersPaused"] += 1
        elif state.get("Running"):
            counts["ContainersRunning"] += 1
        else:
            counts["ContainersStopped"] += 1
    return counts


def _count_dir(p: Path, suffix: str | None = None, marker: str | None = None) -> int:
    """Objects in a state dir: files ending in `suffix`, or dirs holding a `marker` file."""
    if not p.is_dir():
        return 0
    n = 0
    for e in p.iterdir():
        if marker:
            n += (e / marker).is_file()
        elif suffix:
            n += e.name.endswith(suffix) and not e.name.startswith(".")
        else:
            n += (e.is_dir() or e.name.endswith(".json")) and not e.name.startswith(".")
    return n


def cmd_info(argv: list[str], g: Globals) -> int:
    p = parser("info", "Show engine-wide information")
    add_format(p)
    a = p.parse_args(argv)
    import platform
    import shutil

    from engine import API_VERSION, __version__

    ctx = g.ctx
    cfg = ctx.config
    n_images = _count_dir(ctx.images_dir, ".json")
    seccomp = cfg.seccomp_profile
    info: dict[str, Any] = {
        "ServerVersion": __version__,
        "ApiVersion": API_VERSION,
        **_count_containers(ctx),
        "Images": n_images,
        "Networks": _count_dir(ctx.networks_dir, ".json"),
        "Volumes": _count_dir(ctx.volumes_dir, marker="volume.json"),
        "Driver": "overlay",
        "DockerRootDir": str(ctx.root),
        "RunRoot": str(ctx.runroot),
        "DefaultRuntime": cfg.runtime,
        "Runtimes": {cfg.runtime: {"path": shutil.which(cfg.runtime) or "", "version": _runtime_version(cfg.runtime)}},
        "Conmon": shutil.which(cfg.conmon) or "",
        "CgroupVersion": _cgroup_version(),
        "CgroupDriver": "cgroupfs",
        "Nftables": bool(shutil.which("nft")),
        "SeccompProfile": {"Path": seccomp, "Present": Path(seccomp).is_file()},
        "SecurityOptions": ["name=seccomp,profile=" + seccomp] if Path(seccomp).is_file() else [],
        "KernelVersion": platform.release(),
        "OperatingSystem": _os_name(),
        "OSType": "linux",
        "Architecture": platform.machine(),
        "NCPU": os.cpu_count() or 0,
        "MemTotal": _mem_total(),
        "Name": platform.node(),
        "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"], "InsecureRegistries": list(cfg.insecure_registries),
                           "Mirrors": list(cfg.registry_mirrors)},
        "MaxConcurrentDownloads": cfg.max_concurrent_downloads,
        "ConfigFile": str(ctx.config_path),
    }
    if _want_json(a.format):
        emit_json(info)
        return 0
    rt = info["Runtimes"][cfg.runtime]
    lines = [
        "Server:",
        f" Containers: {info['Containers']}",
        f"  Running: {info['ContainersRunning']}",
        f"  Paused: {info['ContainersPaused']}",
        f"  Stopped: {info['ContainersStopped']}",
        f" Images: {info['Images']}",
        f" Networks: {info['Networks']}",
        f" Volumes: {info['Volumes']}",
        f" Server Version: {__version__} (berth, api {API_VERSION})",
        " Storage Driver: overlay",
        " Cgroup Driver: cgroupfs",
        f" Cgroup Version: {info['CgroupVersion']}",
        f" Default Runtime: {cfg.runtime} ({rt['path'] or 'not found'}{', version ' + rt['version'] if rt['version'] else ''})",
        f" Nftables: {'available' if info['Nftables'] else 'not found'}",
        f" Seccomp Profile: {seccomp} ({'present' if info['SeccompProfile']['Present'] else 'missing'})",
        f" Kernel Version: {info['KernelVersion']}",
        f" Operating System: {info['OperatingSystem']}",
        f" Architecture: {info['Architecture']}",
        f" CPUs: {info['NCPU']}",
        f" Total Memory: {human_size(info['MemTotal'])}",
        f" Berth Root Dir: {ctx.root}",
        f" Berth Run Root: {ctx.runroot}",
        " Insecure Registries:",
        "  127.0.0.0/8",
    ] + [f"  {r}" for r in cfg.insecure_registries]
    if cfg.registry_mirrors:
        lines += [" Registry Mirrors:"] + [f"  {m}" for m in cfg.registry_mirrors]
    print("\n".join(lines))
    return 0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def cmd_version(argv: list[str], g: Globals) -> int:
    p = parser("version", "Show the Berth version information")
    add_format(p)
    a = p.parse_args(argv)
    import platform

    from engine import API_VERSION, __version__

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    v = {"Version": __version__, "ApiVersion": API_VERSION, "PythonVersion": platform.python_version(),
         "Os": "linux", "Arch": arch, "KernelVersion": platform.release()}
    if _want_json(a.format):
        emit_json(v)
        return 0
    print(f"Berth:\n Version:        {__version__}\n API version:    {API_VERSION}\n"
          f" Python version: {v['PythonVersion']}\n OS/Arch:        linux/{arch}\n Kernel:         {v['KernelVersion']}")
    return 0
