"""Overlay mounts: many layers fit in one page of mount options; the init layer hides mount points."""

from __future__ import annotations

import os

import pytest

from engine.containers import rootfs

pytestmark = pytest.mark.requires("root", "overlay")


def test_many_layers_fit_in_the_mount_options(tmp_path):
    layers_dir = tmp_path / "layers"
    lower = []
    for i in range(200):  # 200 absolute 64-hex paths would need far more than a 4 KiB page
        d = layers_dir / f"{i:064x}"
        d.mkdir(parents=True)
        (d / f"f{i}").write_text(str(i))
        lower.append(str(d))
    assert len(":".join(lower)) > os.sysconf("SC_PAGESIZE")
    target = tmp_path / "merged"
    rootfs.mount_overlay(list(reversed(lower)), tmp_path / "upper", tmp_path / "work", target,
                         init=rootfs.make_init_layer(tmp_path / "init"))
    try:
        assert rootfs.is_mounted(target)
        assert (target / "f0").read_text() == "0" and (target / "f199").read_text() == "199"
        assert (target / "etc" / "hosts").exists() and (target / "proc").is_dir()
        (target / "new").write_text("x")
        assert (tmp_path / "upper" / "new").exists()
        assert not (tmp_path / "upper" / "etc").exists()  # mount points live in the init layer
    finally:
        rootfs.umount(target)
    assert not rootfs.is_mounted(target)
