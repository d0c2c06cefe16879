"""`berth inspect --format` with docker's Go-template forms."""

from __future__ import annotations

import pytest

from engine.cli.gotemplate import render
from engine.errors import InvalidArgument

DOC = {"Id": "abc", "Name": "/web", "State": {"Status": "running", "Running": True, "Pid": 42, "Health": None},
       "Config": {"Labels": {"tier": "front"}, "Cmd": ["sleep", "600"]},
       "HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}}}


@pytest.mark.parametrize("fmt,out", [
    ("{{.State.Status}}", "running"),
    ("{{ .Name }}:{{.State.Pid}}", "/web:42"),
    ("{{.State.Running}} {{.State.Health}}", "true <nil>"),
    ("{{.Config.Cmd}}", "[sleep 600]"),
    ("{{.HostConfig.RestartPolicy}}", "map[MaximumRetryCount:0 Name:always]"),
    ("{{json .Config.Labels}}", '{"tier":"front"}'),
    ('{{index .Config.Labels "tier"}}', "front"),
    ("{{.Config.Labels.tier}}|{{.Config.Labels.other}}", "front|<no value>"),
    ("{{upper .State.Status}}\\t{{.Id}}", "RUNNING\tabc"),
])
def test_render(fmt, out):
    assert render(fmt, DOC) == out


@pytest.mark.parametrize("fmt", ["{{.State.Nope}}", "{{printf .Id}}", "{{.Config.Nope}}"])
def test_errors_name_the_format(fmt):
    with pytest.raises(InvalidArgument) as e:
        render(fmt, DOC)
    assert e.value.field == "format"
