"""Test-only Ansible callback: write every task's per-host result and the play recap as JSON to
the file named by $BERTH_ANSIBLE_RESULTS (the json callback left ansible-core for ansible.posix)."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: berth_results
type: aggregate
short_description: write task results as JSON to $BERTH_ANSIBLE_RESULTS (tests only)
description: [Collects each task's result per host and the recap; writes them at the end.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "berth_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[dict] = []

    def _record(self, result, status: str) -> None:
        res = dict(result._result)
        res["_status"] = status
        res["_time"] = time.monotonic()
        if status == "failed":
            res["failed"] = True
        self.tasks.append({"task": result._task.get_name(), "host": result._host.get_name(), "result": res})

    def v2_runner_on_ok(self, result) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result) -> None:
        self._record(result, "failed")

    def v2_playbook_on_stats(self, stats) -> None:
        summary = {h: stats.summarize(h) for h in sorted(stats.processed)}
        path = os.environ.get("BERTH_ANSIBLE_RESULTS")
        if path:
            with open(path, "w") as f:
                json.dump({"tasks": self.tasks, "stats": summary}, f, default=str)
