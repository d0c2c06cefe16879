"""Volumes end to end through the real `berth` CLI (runc, overlayfs, mounts)."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile

import pytest

from tests.fixtures.images import import_into

pytestmark = pytest.mark.requires("root", "runc", "conmon", "busybox", "overlay")


def _rootfs_with_dir(rootfs, tar, path: str, mode: int, owner: tuple[int, int], fname: str, body: bytes,
                     fmode: int):  # type: ignore[no-untyped-def]
    """A copy of the busybox rootfs tar plus the directory `path` holding one file, both owned by `owner`."""
    shutil.copy(rootfs, tar)
    with tarfile.open(tar, "a") as tf:
        d = tarfile.TarInfo(path)
        d.type, d.mode, (d.uid, d.gid) = tarfile.DIRTYPE, mode, owner
        tf.addfile(d)
        f = tarfile.TarInfo(f"{path}/{fname}")
        f.size, f.mode, (f.uid, f.gid) = len(body), fmode, owner
        tf.addfile(f, io.BytesIO(body))
    return tar


@pytest.fixture
def owned_image(berth_host, busybox_rootfs, tmp_path) -> str:
    """busybox plus /data (1234:5678, 0750) holding seed.txt (1234:5678, 0640) and a symlink."""
    tar = _rootfs_with_dir(busybox_rootfs, tmp_path / "owned.tar", "data", 0o750, (1234, 5678),
                           "seed.txt", b"from the image\n", 0o640)
    with tarfile.open(tar, "a") as tf:
        s = tarfile.TarInfo("data/link")
        s.type, s.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(s)
    return import_into(berth_host, tar, "berth-test/owned:latest", ['CMD ["sh"]'])


def test_data_survives_recreate_and_readonly(berth_host, busybox_image):
    h = berth_host
    h.run("run", "--name", "w1", "-v", "keep:/data", busybox_image, "sh", "-c", "echo persisted > /data/f")
    h.run("rm", "w1")
    assert h.run("run", "--rm", "-v", "keep:/data", busybox_image, "cat", "/data/f").stdout == "persisted\n"
    p = h.run("run", "--rm", "-v", "keep:/data:ro", busybox_image, "sh", "-c", "echo x > /data/g", check=False)
    assert p.returncode != 0 and "Read-only" in p.stderr + p.stdout
    vol = h.json("volume", "inspect", "keep")[0]
    assert not os.path.exists(os.path.join(vol["Mountpoint"], "g"))


def test_copy_up_keeps_owners_and_modes(berth_host, owned_image):
    h = berth_host
    out = h.run("run", "--rm", "-v", "cu:/data", owned_image, "stat", "-c", "%u:%g %a %n",
                "/data", "/data/seed.txt").stdout.splitlines()
    assert out == ["1234:5678 750 /data", "1234:5678 640 /data/seed.txt"]
    mp = h.json("volume", "inspect", "cu")[0]["Mountpoint"]
    st = os.lstat(os.path.join(mp, "seed.txt"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1234, 5678, 0o640)
    assert os.readlink(os.path.join(mp, "link")) == "/etc/passwd"  # copied as a link, never followed
    # a volume that has content is not overwritten; nocopy leaves a new one empty
    h.run("run", "--rm", "-v", "cu:/data", owned_image, "sh", "-c", "echo mine > /data/seed.txt")
    assert h.run("run", "--rm", "-v", "cu:/data", owned_image, "cat", "/data/seed.txt").stdout == "mine\n"
    out = h.run("run", "--rm", "--mount", "type=volume,src=nc,dst=/data,volume-nocopy", owned_image,
                "ls", "-A", "/data").stdout
    assert out == ""


def test_in_use_removal_refused_and_rm_v_removes_anonymous_only(berth_host, busybox_image):
    h = berth_host
    cid = h.run("create", "--name", "user1", "-v", "named:/n", "-v", "/anon", busybox_image, "sleep", "1").stdout.strip()
    mounts = h.json("inspect", cid)[0]["Mounts"]
    anon = next(m["Name"] for m in mounts if m["Destination"] == "/anon")
    p = h.run("volume", "rm", "named", check=False)
    assert p.returncode != 0 and "user1" in p.stderr
    assert "named" in h.run("volume", "ls", "-q").stdout.split()
    h.run("rm", "-v", "user1")
    names = h.run("volume", "ls", "-q").stdout.split()
    assert "named" in names and anon not in names
    h.run("volume", "rm", "named")
    assert "named" not in h.run("volume", "ls", "-q").stdout.split()


def test_option_volume_tmpfs_is_mounted_while_used(berth_host, busybox_image):
    h = berth_host
    h.run("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m", "--label", "k=v", "tv")
    out = h.run("run", "--rm", "-v", "tv:/t", busybox_image, "sh", "-c", "grep ' /t ' /proc/mounts").stdout
    assert out.startswith("tmpfs /t tmpfs") and "size=2048k" in out
    mp = h.json("volume", "inspect", "tv")[0]["Mountpoint"]
    assert mp not in open("/proc/self/mountinfo").read()
    ls = [json.loads(x) for x in h.run("volume", "ls", "--format", "json").stdout.splitlines()]
    assert [v["Labels"] for v in ls if v["Name"] == "tv"] == ["k=v"]
    h.run("volume", "create", "spare")
    assert h.run("volume", "prune", "-f", "-a").stdout.startswith("Deleted Volumes:")
    assert h.run("volume", "ls", "-q").stdout.split() == []


def test_option_volume_bind_of_a_directory(berth_host, busybox_image, tmp_path):
    h = berth_host
    src = tmp_path / "shared"
    src.mkdir()
    (src / "hello").write_text("from the host\n")
    p = h.run("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/nonexistent/dir", "bad",
              check=False)
    assert p.returncode == 2 and "/nonexistent/dir" in p.stderr
    assert h.run("volume", "ls", "-q").stdout.split() == []
    h.run("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", f"device={src}", "hostdir")
    out = h.run("run", "--rm", "-v", "hostdir:/srv", busybox_image, "sh", "-c",
                "cat /srv/hello && echo back > /srv/reply").stdout
    assert out == "from the host\n" and (src / "reply").read_text() == "back\n"
    h.run("volume", "rm", "hostdir")
    assert (src / "hello").exists()  # removing the volume unmounts, never deletes the device's files


def test_image_volume_is_anonymous_copied_up_and_removed_with_rm_v(berth_host, busybox_rootfs, tmp_path):
    h = berth_host
    tar = _rootfs_with_dir(busybox_rootfs, tmp_path / "vol.tar", "vol", 0o711, (4321, 8765), "seed", b"seed\n", 0o600)
    img = import_into(h, tar, "berth-test/withvol:latest", ['CMD ["sh"]', "VOLUME /vol"])
    before = set(h.run("volume", "ls", "-q").stdout.split())
    # --rm removes the anonymous volume it made
    assert h.run("run", "--rm", img, "cat", "/vol/seed").stdout == "seed\n"
    assert set(h.run("volume", "ls", "-q").stdout.split()) == before
    h.run("run", "-d", "--name", "iv", "-v", "kept:/kept", img, "sleep", "300")
    m = {x["Destination"]: x for x in h.json("inspect", "iv")[0]["Mounts"]}
    anon = m["/vol"]["Name"]
    assert m["/vol"]["Type"] == "volume" and len(anon) == 64 and m["/kept"]["Name"] == "kept"
    st = os.stat(h.json("volume", "inspect", anon)[0]["Mountpoint"] + "/seed")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (4321, 8765, 0o600)
    # writes land in the volume, not in the container's layer: a new container does not see them
    h.run("exec", "iv", "sh", "-c", "echo more > /vol/more")
    assert h.run("run", "--rm", img, "ls", "/vol").stdout.split() == ["seed"]
    h.run("rm", "-f", "-v", "iv")
    left = set(h.run("volume", "ls", "-q").stdout.split())
    assert anon not in left and "kept" in left


def test_mount_forms_readonly_and_tmpfs(berth_host, busybox_image, tmp_path):
    h = berth_host
    (tmp_path / "f").write_text("host\n")
    p = h.run("run", "--rm",
              "--mount", "type=volume,src=mv,dst=/v,readonly",
              "--mount", f"type=bind,source={tmp_path},target=/b,readonly",
              "--mount", "type=tmpfs,destination=/t,tmpfs-size=1048576,tmpfs-mode=1770",
              busybox_image, "sh", "-c",
              "cat /b/f; echo x > /v/x || echo v-refused; echo x > /b/x || echo b-refused; "
              "echo x > /t/x && stat -c %a /t && grep ' /t ' /proc/mounts", check=False)
    lines = p.stdout.splitlines()
    assert lines[:4] == ["host", "v-refused", "b-refused", "1770"], p.stdout + p.stderr
    assert lines[4].startswith("tmpfs /t tmpfs") and "size=1024k" in lines[4]
    assert not (tmp_path / "x").exists()
    assert os.listdir(h.json("volume", "inspect", "mv")[0]["Mountpoint"]) == []


def test_mount_volume_opt_creates_an_option_volume(berth_host, busybox_image):
    h = berth_host
    p = h.run("run", "--rm", "--mount", "type=volume,src=bad,dst=/t,volume-opt=colour=red", busybox_image, "true",
              check=False)
    assert p.returncode == 2 and "colour" in p.stderr
    assert h.run("volume", "ls", "-q").stdout.split() == []
    out = h.run("run", "--rm", "--mount", 'type=volume,src=ov,dst=/t,volume-opt=type=tmpfs,volume-opt=device=tmpfs,'
                '"volume-opt=o=size=2m,mode=0700",volume-label=team=db', busybox_image,
                "sh", "-c", "grep ' /t ' /proc/mounts").stdout
    assert out.startswith("tmpfs /t tmpfs") and "size=2048k" in out and "mode=700" in out
    vol = h.json("volume", "inspect", "ov")[0]
    assert vol["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=2m,mode=0700"}
    assert vol["Labels"] == {"team": "db"}
    # the same volume asked for with other options is refused, naming them
    p = h.run("run", "--rm", "--mount", "type=volume,src=ov,dst=/t,volume-opt=type=tmpfs,volume-opt=device=none",
              busybox_image, "true", check=False)
    assert p.returncode != 0 and "ov" in p.stderr and "different options" in p.stderr
    assert h.run("ps", "-aq").stdout.split() == []
