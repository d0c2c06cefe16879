# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The action plugin behind every berth.engine module: run `berth apply` straight from the
controller.

A module run costs a Python start on the managed host, the import of AnsibleModule and then a
second Python start for `berth apply`. All the module does besides that is validate its options,
build the request and read the answer, and none of that needs the managed host. So the action
plugin validates the task's options on the controller against the module's own argument spec,
builds the same request with the same code (module_utils/_berth.py ApplyModule: one source of
truth for options, requests and results), and runs `berth [--root ..] apply` on the host with
the request on stdin: one command over the connection, no module transfer, one Python start.

It runs the module instead whenever that path is not equivalent (see `fast_path_blocker`): the
variable `berth_engine_fast_path` is false, the task is async, the connection cannot pipe stdin
or uses a non-POSIX shell, privilege escalation is on while pipelining is off (a password prompt
or `requiretty` needs what the module path does), or a `type: path` option must be expanded on
the host (`~`, `$VAR`).
"""

from __future__ import annotations

import json
import shlex
import typing as t

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.json_utils import _filter_non_json_lines
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.berth.engine.plugins.module_utils import _container, _image, _kinds
from ansible_collections.berth.engine.plugins.module_utils._berth import (
    ENGINE_ENVIRON,
    ApplyModule,
    engine_argv,
    not_installed,
    read_apply_output,
)

display = Display()

# The variable that turns the direct path off (the module runs instead).
FAST_PATH_VAR = "berth_engine_fast_path"

# What the wrapper command prints when the engine is not an executable file on the host.
_MISSING = "berth-engine-not-installed"

MODULES: dict[str, ApplyModule] = {}
for _defs in (_container.MODULES, _image.MODULES, _kinds.MODULES):
    MODULES.update(_defs)


def _path_needs_host(spec: dict[str, t.Any], args: t.Any) -> str | None:
    """The first `type: path` option (or sub-option) whose value the host must expand (`~`,
    `$VAR`), or None. The module expands paths on the host; the controller would expand them
    in its own environment."""
    if not isinstance(args, dict):
        return None
    for name, opt in spec.items():
        for key in [name] + list(opt.get("aliases") or []):
            value = args.get(key)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            if "path" in (opt.get("type"), opt.get("elements")):
                for v in values:
                    if isinstance(v, str) and (v.startswith("~") or "$" in v):
                        return key
            if opt.get("options"):
                for v in values:
                    found = _path_needs_host(opt["options"], v)
                    if found:
                        return "%s.%s" % (key, found)
    return None


class ApplyAction(ActionBase):
    """Subclasses (plugins/action/<module>.py) set MODULE to their module's name."""

    MODULE = ""
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        task_vars = task_vars or {}
        definition = MODULES[self.MODULE]
        blocker = self.fast_path_blocker(definition, task_vars)
        if blocker:
            display.vvv("berth.engine.%s: running the module (%s)" % (self.MODULE, blocker),
                        host=self._play_context.remote_addr)
            return self._run_module(tmp, task_vars)
        display.vvv("berth.engine.%s: running berth apply directly" % self.MODULE, host=self._play_context.remote_addr)
        result = super().run(tmp, task_vars)
        result.update(self._run_apply(definition))
        return result

    def fast_path_blocker(self, definition: ApplyModule, task_vars: dict[str, t.Any]) -> str | None:
        """Why `berth apply` cannot run directly for this task (then the module runs), or None."""
        if not boolean(task_vars.get(FAST_PATH_VAR, True), strict=False):
            return "%s is false" % FAST_PATH_VAR
        if self._task.async_val:
            return "async task"
        conn = self._connection
        if getattr(conn._shell, "SHELL_FAMILY", None) != "sh":
            return "shell %s is not POSIX" % getattr(conn._shell, "SHELL_FAMILY", "?")
        if not conn.has_pipelining:
            return "connection %s cannot send stdin" % conn.transport
        if conn.become is not None and not conn.is_pipelining_enabled():
            return "become without pipelining"
        path = _path_needs_host(definition.argument_spec(), self._task.args)
        if path:
            return "%s must be expanded on the host" % path
        return None

    def _run_module(self, tmp: str | None, task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        """What ansible.builtin.normal does: transfer and run the module."""
        result = super().run(tmp, task_vars)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run_apply(self, definition: ApplyModule) -> dict[str, t.Any]:
        """The module's work, on the controller, with one `berth apply` on the host. Returns
        exactly what the module would."""
        name = self._task.action
        if definition.raw_check is not None:
            problem = definition.raw_check(dict(self._task.args))
            if problem:
                return dict(failed=True, msg=problem[1], field=problem[0])
        validator = ArgumentSpecValidator(definition.argument_spec(), **definition.module_kwargs)
        validation = validator.validate(dict(self._task.args))
        params = validation.validated_parameters
        warnings = ["Both option %s and its alias %s are set." % (w["option"], w["alias"])
                    for w in validation._warnings]

        def finish(values: dict[str, t.Any]) -> dict[str, t.Any]:
            # AnsibleModule.exit_json/fail_json: invocation, warnings, no_log values masked
            values.setdefault("invocation", {"module_args": params})
            if warnings:
                values["warnings"] = warnings
            preserved = {k: v for k, v in values.items() if v is None or isinstance(v, bool)}
            values = remove_values(values, validation._no_log_values)
            values.update(preserved)
            # ActionBase._execute_module splits stdout/stderr into lines
            for key in ("stdout", "stderr"):
                if key in values and "%s_lines" % key not in values:
                    values["%s_lines" % key] = (values[key] or "").splitlines()
            return values

        try:
            error = validation.errors[0]
        except IndexError:
            error = None
        if error is not None:
            msg = validation.errors.msg
            if isinstance(error, UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (name, msg)
            return finish(dict(failed=True, msg=msg))
        if self._task.check_mode and not definition.supports_check_mode:
            return finish(dict(skipped=True, msg="remote module (%s) does not support check mode" % name))

        request, problem = definition.request(params, bool(self._task.check_mode), bool(self._task.diff))
        if problem:
            return finish(dict(failed=True, msg=problem[1], field=problem[0]))

        path = params["berth_path"]
        rc, out, err = self._berth(engine_argv(params, "apply"), json.dumps(request))
        if rc == 127 and _MISSING in out:
            host = out[out.rindex(_MISSING) + len(_MISSING):].strip()
            return finish(dict(failed=True, **not_installed(path, "on host %s" % host)))
        result, failure = read_apply_output(path, self._where, rc, out, err)
        if failure:
            return finish(dict(failed=True, **failure))
        values, engine_warnings = definition.result(result, bool(self._task.diff))
        warnings.extend(engine_warnings)
        return finish(values)

    def _berth(self, argv: list[str], data: str) -> tuple[int, str, str]:
        """Run `berth ARGV` on the host with `data` on stdin, as the module would (as the become
        user, the task's environment plus ENGINE_ENVIRON); rc 127 and _MISSING on stdout when
        the engine is not an executable file there."""
        shell = self._connection._shell
        path = shlex.quote(argv[0])
        env = " ".join(x for x in (self._compute_environment_string(), shell.env_prefix(**ENGINE_ENVIRON)) if x)
        cmd = ("if [ -f %s ] && [ -x %s ]; then %s %s; else echo %s $(uname -n); exit 127; fi"
               % (path, path, env, shlex.join(argv), _MISSING))
        res = self._low_level_execute_command(cmd, sudoable=True, in_data=to_bytes(data))
        out = res["stdout"]
        try:
            # as ActionBase does with a module's output: drop a login banner or other noise
            out, junk = _filter_non_json_lines(out, objects_only=True)
            for warning in junk:
                display.warning(warning)
        except ValueError:
            pass  # no JSON at all: read as it is
        return res["rc"], out, res["stderr"]

    def _where(self) -> str:
        """"on host NAME" like the module's message (its os.uname()); only for failures."""
        try:
            res = self._low_level_execute_command("uname -n", sudoable=False)
        except AnsibleError:
            return "on host %s" % self._play_context.remote_addr
        return "on host %s" % (res["stdout"].strip() or self._play_context.remote_addr)
