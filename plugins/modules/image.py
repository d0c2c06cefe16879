#!/usr/bin/python
# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: image
short_description: Manage images with the Berth engine (pull, build, load, tag, push, export, remove)
version_added: 0.1.0
description:
  - The all-in-one image module, with the options of M(community.docker.docker_image).
  - Makes sure an image is on the host (pulled, built, loaded from an archive, or already there), optionally tags it
    into another repository, pushes it and exports it; or removes it.
extends_documentation_fragment:
  - berth.engine.engine
  - berth.engine.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: The diff shows whether the image is present; tagging, pushing and exporting are listed in RV(actions).
  idempotent:
    support: partial
    details: With O(force_source=true) the image is pulled, built or loaded every run.
options:
  name:
    description:
      - Image reference, normalised like Docker's. With O(source=load) the name the archive holds.
      - A tag or digest in O(name) wins over O(tag).
    type: str
    required: true
  tag:
    description: Tag of the image.
    type: str
    default: latest
  state:
    description: V(present) makes sure the image is there, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - Where the image comes from when it is missing (or when O(force_source=true)).
      - V(pull) from its registry, V(build) from O(build), V(load) from O(load_path), V(local) only checks it is there.
    type: str
    choices: [pull, build, load, local]
  build:
    description: How to build the image with O(source=build).
    type: dict
    suboptions:
      path:
        description: Build context directory on the managed host.
        type: path
        required: true
      dockerfile:
        description: Dockerfile, relative to O(build.path) (default C(Dockerfile)).
        type: str
      args:
        description: Build arguments (C(ARG)).
        type: dict
      target:
        description: Stage to build.
        type: str
      nocache:
        description: Do not use the build cache.
        type: bool
        default: false
      pull:
        description: Pull the base images even when present.
        type: bool
        default: false
      labels:
        description: Labels to add to the image.
        type: dict
      network:
        description: Network mode of C(RUN) steps.
        type: str
      etc_hosts:
        description: Extra C(/etc/hosts) entries of C(RUN) steps.
        type: dict
      shm_size:
        description: Size of C(/dev/shm) in C(RUN) steps.
        type: str
      cache_from:
        description: Images to use as cache sources.
        type: list
        elements: str
      platform:
        description: Platform of the image.
        type: str
  push:
    description: Push the image (or O(repository)) to its registry.
    type: bool
    default: false
  repository:
    description: Also tag the image as this repository (with O(tag) unless it names one).
    type: str
  force_source:
    description: Pull, build or load again even when the image is there.
    type: bool
    default: false
  force_tag:
    description: Move the O(repository) tag even when it names another image.
    type: bool
    default: false
  force_absent:
    description: With O(state=absent), remove the image even when containers use it.
    type: bool
    default: false
  archive_path:
    description: Export the image to this archive on the managed host (C(docker save) format).
    type: path
  load_path:
    description: Archive on the managed host to load with O(source=load).
    type: path
author:
  - Berth developers (@berth)
seealso:
  - module: community.docker.docker_image
  - module: berth.engine.image_pull
  - module: berth.engine.image_build
"""

EXAMPLES = r"""
- name: Pull an image
  berth.engine.image:
    name: docker.io/library/busybox
    tag: "1.36"
    source: pull

- name: Build an image and push it
  berth.engine.image:
    name: registry.example.com/app
    tag: "2.1"
    source: build
    build:
      path: /srv/app
      args:
        VERSION: "2.1"
    push: true

- name: Remove an image
  berth.engine.image:
    name: registry.example.com/app:2.0
    state: absent
"""

RETURN = r"""
image:
  description: Facts of the image in the shape of C(docker image inspect); empty when absent.
  returned: success
  type: dict
  sample:
    Id: sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741
    RepoTags: [busybox:1.36]
actions:
  description: What the engine did (or, in check mode, would do).
  returned: success
  type: list
  elements: str
  sample: [pulled docker.io/library/busybox:1.36]
"""

from ansible_collections.berth.engine.plugins.module_utils._image import run_module


def main():
    run_module("present")


if __name__ == "__main__":
    main()
