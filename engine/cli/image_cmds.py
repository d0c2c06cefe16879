"""Image verbs: pull, push, login, logout, images, image, tag, rmi, history, save, load, import,
info, version."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from engine.cli.common import Globals, add_format, emit_json, emit_table, parser
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


def _matches_filters(img: Any, filters: dict[str, list[str]], tag: str | None) -> bool:
    import fnmatch

    for key, vals in filters.items():
        if key == "dangling":
            want = vals[-1].lower() in ("true", "1")
            if want != (not img.tags):
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
    for img in store.images():
        tags: list[str | None] = list(img.repo_tags) or [None]
        for t in tags:
            if _matches_filters(img, filters, t):
                rows.append((img, t))
    rows.sort(key=lambda r: _parse_time(r[0].created), reverse=True)
    if _want_json(a.format):
        from engine.images.api import inspect_image

        seen: set[str] = set()
        out = []
        for img, _t in rows:
            if img.id not in seen:
                seen.add(img.id)
                out.append(inspect_image(img))
        emit_json(out)
        return 0
    if a.quiet:
        seen_q: set[str] = set()
        for img, _t in rows:
            if img.id not in seen_q:
                seen_q.add(img.id)
                print(img.id if a.no_trunc else img.short_id)
        return 0
    headers = ["REPOSITORY", "TAG"] + (["DIGEST"] if a.digests else []) + ["IMAGE ID", "CREATED", "SIZE"]
    table = []
    for img, t in rows:
        if t:
            repo, _, tag = t.rpartition(":") if ":" in t.rsplit("/", 1)[-1] else (t, "", "<none>")
        else:
            repo, tag = "<none>", "<none>"
        row = [repo, tag]
        if a.digests:
            digs = [d.split("@", 1)[1] for d in img.repo_digests
                    if t is None or d.split("@", 1)[0] == repo]
            row.append(digs[0] if digs else "<none>")
        row += [img.id if a.no_trunc else img.short_id, ago(img.created), human_size(img.size)]
        table.append(row)
    emit_table(headers, table)
    return 0


def cmd_inspect(argv: list[str], g: Globals) -> int:
    p = parser("image inspect", "Display detailed information on one or more images")
    add_format(p)
    p.add_argument("images", nargs="+")
    a = p.parse_args(argv)
    if a.format not in (None, "json"):
        raise InvalidArgument(f"unsupported --format {a.format!r} (use json)", field="format")
    from engine.images.api import inspect

    out, missing = [], []
    for name in a.images:
        try:
            out.append(inspect(g.ctx, name))
        except NotFound:
            missing.append(name)
    emit_json(out)
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
            events = store.remove(name, force=a.force)
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
