# Copyright (c) Berth developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Run the Berth engine on the managed host and turn its answers into module results.

Private to the berth.engine collection. Standard library only: this file is shipped to the
managed host with every module.
"""

from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule, _load_params

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


def upgrade_hint():
    return "install or upgrade it with the %s role" % HOST_ROLE


def engine_argv(params, *args):
    """`berth [--root ..] [--runroot ..] [--config ..] ARGS` from the module's engine options."""
    argv = [params["berth_path"]]
    for opt in ("root", "runroot", "config"):
        if params.get(opt):
            argv += ["--%s" % opt, params[opt]]
    argv.extend(args)
    return argv


# The environment `berth` runs with, on top of the task's `environment`.
ENGINE_ENVIRON = dict(LC_ALL="C.UTF-8", PYTHONDONTWRITEBYTECODE="1")


def not_installed(path, where):
    """The failure for an engine missing at `path`; `where` is "on host NAME"."""
    return dict(msg="the Berth engine is not installed at %s %s (berth_path): %s" % (path, where, upgrade_hint()),
                field="berth_path")


def _looks_too_old(out, err):
    return "unknown verb" in (err or "") or "unknown verb" in (out or "")


def engine_failure(path, where, verb, rc, out, err):
    """The module failure (fail_json's keyword arguments, msg included) for `berth VERB` that
    exited `rc`: the engine's own message and field, or what to do about a missing or too old
    engine. `where` is a callable returning "on host NAME" (called only when needed)."""
    if _looks_too_old(out, err):
        return dict(msg="the Berth engine at %s %s is too old for this collection (it does not know `%s`): %s"
                        % (path, where(), verb, upgrade_hint()),
                    rc=rc, stderr=err)
    error = None
    try:
        doc = json.loads(out)
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            error = doc["error"]
    except ValueError:
        pass
    if error is None:
        msg = (err or out or "").strip() or "berth %s failed with exit code %d" % (verb, rc)
        return dict(msg=msg, rc=rc, stderr=err, stdout=out)
    msg = error.get("message") or "berth %s failed" % verb
    if error.get("type") == "api_mismatch" and HOST_ROLE not in msg:
        msg = "%s (engine %s %s): %s" % (msg, path, where(), upgrade_hint())
    failure = dict(msg=msg, rc=rc, error_type=error.get("type"))
    field = error.get("field")
    if isinstance(field, str) and field.startswith("spec."):
        field = field[len("spec."):]  # the option as the user wrote it (`ipam_config.0.subnet`)
    if field is not None:
        failure["field"] = field
    if error.get("value") is not None:
        failure["value"] = error.get("value")
    return failure


def read_apply_output(path, where, rc, out, err):
    """`berth apply`'s answer: (result, None), or (None, failure) as engine_failure() returns."""
    if rc != 0:
        return None, engine_failure(path, where, "apply", rc, out, err)
    try:
        return json.loads(out), None
    except ValueError:
        return None, dict(msg="berth apply printed no JSON: %s" % out[:500], stderr=err)


class Engine(object):
    """The `berth` CLI on the managed host, called through module.run_command."""

    def __init__(self, module):
        self.module = module
        self.path = module.params["berth_path"]

    @staticmethod
    def _where():
        return "on host %s" % (os.uname()[1],)

    def _fail(self, failure):
        failure = dict(failure)
        self.module.fail_json(failure.pop("msg"), **failure)

    def run(self, args, data=None):
        """Run `berth ARGS`; returns (rc, stdout, stderr). Fails the module when the engine is
        missing or too old."""
        if not (os.path.isfile(self.path) and os.access(self.path, os.X_OK)):
            self._fail(not_installed(self.path, self._where()))
        rc, out, err = self.module.run_command(
            engine_argv(self.module.params, *args), data=data, binary_data=True, check_rc=False,
            environ_update=dict(ENGINE_ENVIRON),
        )
        if rc != 0 and _looks_too_old(out, err):
            self._fail(engine_failure(self.path, self._where, args[0], rc, out, err))
        return rc, out, err

    def apply(self, request):
        """Run `berth apply` with the request; returns the result dict or fails the module."""
        rc, out, err = self.run(["apply"], data=json.dumps(request))
        result, failure = read_apply_output(self.path, self._where, rc, out, err)
        if failure:
            self._fail(failure)
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


class ApplyModule(object):
    """A module that maps its options onto one `berth apply` request: its options (declared once,
    in module_utils), how they become the request, and how the engine's answer becomes the
    module's result. The module (on the managed host) and its action plugin (on the controller,
    plugins/action/, which runs `berth apply` without the module when it can) both use it."""

    def __init__(self, option_spec, kind, return_key, state_key="state", operation=None, extra_keys=(),
                 check_spec=None, supports_check_mode=True, spec_extra=None, rename=None, raw_check=None,
                 **module_kwargs):
        self.option_spec = option_spec
        self.kind = kind
        self.return_key = return_key
        self.state_key = state_key
        self.operation = operation
        self.extra_keys = extra_keys
        self.check_spec = check_spec
        self.supports_check_mode = supports_check_mode
        self.spec_extra = spec_extra
        self.rename = rename
        # raw_check(task args) -> (field, message) or None: a refusal that must come before the
        # argument spec's own ("Unsupported parameters"), e.g. naming a docker_container option
        # Berth lacks. The module runs it itself before AnsibleModule; the action plugin here.
        self.raw_check = raw_check
        # mutually_exclusive, required_if, ...: AnsibleModule's and ArgumentSpecValidator's
        self.module_kwargs = module_kwargs

    def argument_spec(self):
        return argument_spec(self.option_spec)

    def request(self, params, check, diff):
        """The `berth apply` request for the validated params: (request, None), or (None,
        (field, message)) when the options are refused before the engine runs."""
        spec = spec_from_params(params, self.option_spec, exclude=(self.state_key,) if self.state_key else ())
        for old, new in (self.rename or {}).items():
            if old in spec:
                spec[new] = spec.pop(old)
        if self.spec_extra:
            spec.update(self.spec_extra)
        if self.check_spec is not None:
            problem = self.check_spec(spec)
            if problem:
                return None, problem
        state = params.get(self.state_key) if self.state_key else None
        options = dict(operation=self.operation) if self.operation else None
        return build_request(self.kind, state, spec, options, check, diff), None

    def result(self, result, diff):
        """The module's return values from the engine's result: (values, warnings)."""
        out = dict(
            changed=bool(result.get("changed")),
            actions=result.get("actions") or [],
        )
        if self.return_key:
            out[self.return_key] = result.get("resource") or {}
        if diff and result.get("diff") is not None:
            out["diff"] = result["diff"]
        for key in self.extra_keys:
            if key in result:
                out[key] = result[key]
        return out, [str(w) for w in result.get("warnings") or []]

    def _refuse_raw(self):
        """raw_check before AnsibleModule's own argument checks (which would only say
        "Unsupported parameters")."""
        try:
            params = _load_params()
        except Exception:  # no arguments to read (argument spec introspection): AnsibleModule decides
            return
        problem = self.raw_check(params) if isinstance(params, dict) else None
        if problem:
            accept_all = dict((k, dict(type="raw")) for k in params if not k.startswith("_ansible_"))
            AnsibleModule(argument_spec=accept_all, supports_check_mode=True).fail_json(
                msg=problem[1], field=problem[0])

    def run(self):
        """The whole module, on the managed host."""
        if self.raw_check is not None:
            self._refuse_raw()
        module = AnsibleModule(argument_spec=self.argument_spec(), supports_check_mode=self.supports_check_mode,
                               **self.module_kwargs)
        request, problem = self.request(module.params, module.check_mode, module._diff)
        if problem:
            module.fail_json(msg=problem[1], field=problem[0])
        values, warnings = self.result(Engine(module).apply(request), module._diff)
        for warning in warnings:
            module.warn(warning)
        module.exit_json(**values)


def run_apply_module(*args, **kwargs):
    """The whole of a module that maps its options onto one `berth apply` request."""
    ApplyModule(*args, **kwargs).run()
