# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""berth.engine.container_exec: runs `berth apply` directly when it can, else the module (plugin_utils/_apply_action.py)."""

from __future__ import annotations

from ansible_collections.berth.engine.plugins.plugin_utils._apply_action import ApplyAction


class ActionModule(ApplyAction):
    MODULE = "container_exec"
