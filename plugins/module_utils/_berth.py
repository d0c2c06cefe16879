# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Run the Berth engine on the managed host and turn its answers into module results.

Private to the berth.engine collection. Standard library only: this file is shipped to the
managed host with every module.
"""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule

API_VERSION = 1
HOST_ROLE = "berth.engine.host"
DEFAULT_BERTH_PATH = "/opt/berth/bin/berth"

# The options every module shares (documented in the berth.engine.engine doc fragment).
ENGINE_ARGUMENT_SPEC = dict(
    berth_path=dict(type="path", default=DEFAULT_BERTH_PATH),
    root=dict(type="path"),
    runroot=dict(type="path"),
    config=dict(type="path"),
)


ENGINE_KEYS = frozenset(ENGINE_ARGUMENT_SPEC)


def argument_spec(spec):
    """The module's own options plus the shared engine options."""
    merged = dict(spec)
    merged.update(ENGINE_ARGUMENT_SPEC)
    return merged


def prune_none(value):
    """Drop None values (options the user did not set) recursively from dicts and lists."""
    if isinstance(value, dict):
        return dict((k, prune_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [prune_none(v) for v in value]
    return value


class Engine(object):
    """The `berth` CLI on the managed host, called through module.run_command."""

    def __init__(self, module):
        self.module = module
        self.path = module.params["berth_path"]

    def _where(self):
        return "on host %s" % (os.uname()[1],)

    def _upgrade_hint(self):
        return "install or upgrade it with the %s role" % HOST_ROLE

    def _ensure_installed(self):
        if not (os.path.isfile(self.path) and os.access(self.path, os.X_OK)):
            self.module.fail_json(
                msg="the Berth engine is not installed at %s %s (berth_path): %s"
                    % (self.path, self._where(), self._upgrade_hint()),
                field="berth_path",
            )

    def argv(self, *args):
        argv = [self.path]
        for opt in ("root", "runroot", "config"):
            if self.module.params.get(opt):
                argv += ["--%s" % opt, self.module.params[opt]]
        argv.extend(args)
        return argv

    def run(self, args, data=None):
        """Run `berth ARGS`; returns (rc, stdout, stderr)."""
        self._ensure_installed()
        rc, out, err = self.module.run_command(
            self.argv(*args), data=data, binary_data=True, check_rc=False,
            environ_update=dict(LC_ALL="C.UTF-8", PYTHONDONTWRITEBYTECODE="1"),
        )
        if rc != 0 and self._looks_too_old(out, err):
            self.module.fail_json(
                msg="the Berth engine at %s %s is too old for this collection (it does not know `%s`): %s"
                    % (self.path, self._where(), args[0], self._upgrade_hint()),
                rc=rc, stderr=err,
            )
        return rc, out, err

    @staticmethod
    def _looks_too_old(out, err):
        return "unknown verb" in (err or "") or "unknown verb" in (out or "")

    def fail_from_output(self, rc, out, err, args):
        """Turn an engine failure into fail_json with the engine's message and field."""
        error = None
        try:
            doc = json.loads(out)
            if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
                error = doc["error"]
        except ValueError:
            pass
        if error is None:
            msg = (err or out or "").strip() or "berth %s failed with exit code %d" % (args[0], rc)
            self.module.fail_json(msg=msg, rc=rc, stderr=err, stdout=out)
        msg = error.get("message") or "berth %s failed" % args[0]
        if error.get("type") == "api_mismatch" and HOST_ROLE not in msg:
            msg = "%s (engine %s %s): %s" % (msg, self.path, self._where(), self._upgrade_hint())
        extra = dict(rc=rc, error_type=error.get("type"))
        field = error.get("field")
        if isinstance(field, str) and field.startswith("spec."):
            field = field[len("spec."):]  # the option as the user wrote it (`ipam_config.0.subnet`)
        if field is not None:
            extra["field"] = field
        if error.get("value") is not None:
            extra["value"] = error.get("value")
        self.module.fail_json(msg=msg, **extra)

    def apply(self, kind, state, spec, options=None):
        """Run `berth apply` with the request; returns the result dict or fails the module."""
        request = build_request(kind, state, spec, options, self.module.check_mode, self.module._diff)
        rc, out, err = self.run(["apply"], data=json.dumps(request))
        if rc != 0:
            self.fail_from_output(rc, out, err, ["apply"])
        try:
            result = json.loads(out)
        except ValueError:
            self.module.fail_json(msg="berth apply printed no JSON: %s" % out[:500], stderr=err)
        return result


def check_env(spec):
    """community.docker's rule for `env`: values are strings; a YAML boolean (yes, true) is
    refused rather than turned into "True". Returns (field, message) or None."""
    for key, value in (spec.get("env") or {}).items():
        if isinstance(value, bool):
            return ("env", "env %s=%r: a boolean is ambiguous in an environment variable, quote it ('%s')"
                    % (key, value, str(value).lower()))
        if isinstance(value, (dict, list)):
            return ("env", "env %s: the value must be a string, got %r" % (key, value))
    return None


def build_request(kind, state, spec, options=None, check=False, diff=False):
    request = dict(api=API_VERSION, kind=kind, spec=spec, check=bool(check), diff=bool(diff))
    if state is not None:
        request["state"] = state
    if options:
        request["options"] = options
    return request


def spec_from_params(params, option_spec, exclude=("state",)):
    """The request's `spec`: every option of the module the user set (or that has a default),
    under its canonical name, without the engine options and without None values."""
    spec = {}
    for key in option_spec:
        if key in ENGINE_KEYS or key in exclude:
            continue
        value = params.get(key)
        if value is not None:
            spec[key] = prune_none(value)
    return spec


def exit_with_result(module, result, return_key, extra_keys=()):
    """Finish the module from an apply result: changed, actions, diff, the kind's facts."""
    for warning in result.get("warnings") or []:
        module.warn(str(warning))
    out = dict(
        changed=bool(result.get("changed")),
        actions=result.get("actions") or [],
    )
    if return_key:
        out[return_key] = result.get("resource") or {}
    if module._diff and result.get("diff") is not None:
        out["diff"] = result["diff"]
    for key in extra_keys:
        if key in result:
            out[key] = result[key]
    module.exit_json(**out)


def run_apply_module(option_spec, kind, return_key, state_key="state", operation=None, extra_keys=(),
                     check_spec=None, supports_check_mode=True, spec_extra=None, rename=None, **module_kwargs):
    """The whole of a module that maps its options onto one `berth apply` request."""
    module = AnsibleModule(argument_spec=argument_spec(option_spec), supports_check_mode=supports_check_mode,
                           **module_kwargs)
    spec = spec_from_params(module.params, option_spec, exclude=(state_key,) if state_key else ())
    for old, new in (rename or {}).items():
        if old in spec:
            spec[new] = spec.pop(old)
    if spec_extra:
        spec.update(spec_extra)
    if check_spec is not None:
        problem = check_spec(spec)
        if problem:
            module.fail_json(msg=problem[1], field=problem[0])
    state = module.params.get(state_key) if state_key else None
    options = dict(operation=operation) if operation else None
    result = Engine(module).apply(kind, state, spec, options)
    exit_with_result(module, result, return_key, extra_keys)
