"""`-u name|uid[:group|gid]` resolved like Docker/runc's libcontainer/user: through the
container's own /etc/passwd and /etc/group, with supplementary groups from /etc/group."""

from __future__ import annotations

from pathlib import Path

from engine.containers.paths import secure_join
from engine.errors import InvalidArgument


class ExecUser:
    def __init__(self, uid: int, gid: int, additional_gids: list[int] | None = None, home: str = "/") -> None:
        self.uid = uid
        self.gid = gid
        self.additional_gids = additional_gids if additional_gids is not None else []
        self.home = home

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecUser) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"ExecUser(uid={self.uid}, gid={self.gid}, additional_gids={self.additional_gids}, home={self.home!r})"


def _read_db(root: Path, path: str) -> list[list[str]]:
    try:
        text = secure_join(root, path).read_text(errors="replace")
    except OSError:  # missing, not a file, symlink loop
        return []
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rows.append(line.split(":"))
    return rows


def resolve(root: Path, spec: str, group_add: list[str] | None = None) -> ExecUser:
    """Resolve a user spec inside the rootfs at `root`. Raises InvalidArgument naming `User`."""
    spec = spec or ""
    user, _, group = spec.partition(":")
    passwd = _read_db(root, "/etc/passwd")
    groups = _read_db(root, "/etc/group")

    uid, gid, home, name = 0, 0, "/", "root"
    if user:
        entry = next((r for r in passwd if len(r) >= 4 and r[0] == user), None)
        if entry is None and user.isdigit():
            entry = next((r for r in passwd if len(r) >= 4 and r[2] == user), None)
            if entry is None:
                uid, gid, home, name = int(user), 0, "/", ""
        if entry is None and not user.isdigit():
            raise InvalidArgument(
                f"User {spec!r}: unable to find user {user}: no matching entries in passwd file",
                field="User")
        if entry is not None:
            name = entry[0]
            uid, gid = _int(entry[2], spec), _int(entry[3], spec)
            home = entry[5] if len(entry) > 5 and entry[5] else "/"
    else:
        entry = next((r for r in passwd if len(r) >= 4 and r[2] == "0"), None)
        if entry is not None:
            gid = _int(entry[3], spec)
            home = entry[5] if len(entry) > 5 and entry[5] else "/"

    if group:
        gid = _group_id(groups, group, spec)

    extra: list[int] = []
    if not group and name:
        # supplementary groups: every group listing the user as a member
        for r in groups:
            if len(r) >= 4 and name in r[3].split(","):
                g = _int(r[2], spec)
                if g != gid and g not in extra:
                    extra.append(g)
    for g in group_add or []:
        gv = _group_id(groups, g, g, field="GroupAdd")
        if gv not in extra:
            extra.append(gv)
    return ExecUser(uid=uid, gid=gid, additional_gids=extra, home=home)


def _group_id(groups: list[list[str]], group: str, spec: str, field: str = "User") -> int:
    entry = next((r for r in groups if len(r) >= 3 and r[0] == group), None)
    if entry is not None:
        return _int(entry[2], spec)
    if group.isdigit():
        return int(group)
    raise InvalidArgument(
        f"{field} {spec!r}: unable to find group {group}: no matching entries in group file", field=field)


def _int(v: str, spec: str) -> int:
    try:
        return int(v)
    except ValueError:
        raise InvalidArgument(f"User {spec!r}: malformed passwd/group entry ({v!r})", field="User") from None
