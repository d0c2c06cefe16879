"""Providers are pickled into the Pulumi state: by reference to the installed package, with no
live client and nothing secret inside."""

from __future__ import annotations

import base64
import pickle

import dill
import pulumi_berth
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_berth import _ssh

PROVIDERS = [pulumi_berth.ContainerProvider, pulumi_berth.ImageProvider, pulumi_berth.RemoteImageProvider,
             pulumi_berth.NetworkProvider, pulumi_berth.VolumeProvider]


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda c: c.__name__)
def test_provider_round_trips_through_dill_by_reference(cls) -> None:
    _ssh.POOL._clients[("x",)] = object()  # a live client elsewhere must not leak into the pickle
    try:
        data = base64.b64decode(serialize_provider(cls()))  # exactly what pulumi.dynamic does
    finally:
        _ssh.POOL._clients.pop(("x",), None)
    assert len(data) < 200, "pickled by value instead of by reference"
    assert cls.__module__.encode() in data and cls.__name__.encode() in data
    obj = dill.loads(data)
    assert type(obj) is cls  # the very class of the installed package
    assert pickle.loads(pickle.dumps(obj)).__class__ is cls
    assert obj.__dict__ == {}


def test_class_paths_are_stable() -> None:
    assert [f"{c.__module__}.{c.__qualname__}" for c in PROVIDERS] == [
        "pulumi_berth.container.ContainerProvider", "pulumi_berth.image.ImageProvider",
        "pulumi_berth.image.RemoteImageProvider", "pulumi_berth.network.NetworkProvider",
        "pulumi_berth.volume.VolumeProvider"]
