# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment:

    # Where the Berth engine is on the managed host, and which state it works on.
    DOCUMENTATION = r"""
options:
  berth_path:
    description:
      - Path of the C(berth) executable on the managed host.
      - The C(berth.engine.host) role installs it there.
    type: path
    default: /opt/berth/bin/berth
  root:
    description:
      - Directory of the engine's persistent state (images, containers, volumes, networks).
      - When not set, the engine's default applies (C(BERTH_ROOT) or C(/var/lib/berth)).
    type: path
  runroot:
    description:
      - Directory of the engine's runtime state.
      - When not set, the engine's default applies (C(BERTH_RUNROOT) or C(/run/berth)).
    type: path
  config:
    description:
      - The engine's configuration file.
      - When not set, the engine's default applies (C(BERTH_CONFIG) or C(/etc/berth/config.toml)).
    type: path
notes:
  - The modules run the C(berth) engine on the managed host, which needs no Docker daemon.
    Install the engine with the C(berth.engine.host) role. A missing engine, or one too old for
    this collection, makes the module fail with a message that names that role.
  - Each module has an action plugin that, where it can, runs C(berth apply) on the host directly
    from the controller (the same validation, request and result, one command, no module transfer).
    It runs the module instead for async tasks, connections that cannot pipe stdin, become without
    pipelining, and path options that start with C(~) or hold C($). Set the variable
    C(berth_engine_fast_path=false) to always run the module.
requirements:
  - The Berth engine on the managed host (role C(berth.engine.host)), run as root.
"""
