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


NET_DOC = {"Name": "/web", "Args": ["-f", "-p", "80"], "Config": {"Env": [], "Labels": {"b": "2", "a": "1"}},
           "NetworkSettings": {"Networks": {"n1": {"IPAddress": "10.0.0.2"}, "bridge": {"IPAddress": "172.17.0.2"}}},
           "Mounts": [{"Source": "/srv", "Destination": "/data"}]}


@pytest.mark.parametrize("fmt,out", [
    # docker's idiom for a container's addresses: a map ranges in key order
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "172.17.0.2 10.0.0.2 "),
    ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}",
     "bridge=172.17.0.2;n1=10.0.0.2;"),
    ("{{range $v := .Config.Labels}}{{$v}}{{end}}", "12"),
    ("{{range $i, $m := .Mounts}}{{$i}}:{{$m.Source}}:{{$.Name}}{{end}}", "0:/srv:/web"),
    ("{{range .Config.Env}}x{{else}}none{{end}}", "none"),
    ("{{if .Config.Env}}env{{else}}no env{{end}} {{if .Args}}{{len .Args}} args{{end}}", "no env 3 args"),
    ('{{join .Args " "}}|{{join .Args ","}}', "-f -p 80|-f,-p,80"),
    ("{{ range .Args -}} [{{ . }}] {{- end }}", "[-f][-p][80]"),
    ("{{- .Name -}} \\n", "/web"),
    ('{{index .NetworkSettings.Networks "n1"}}', "map[IPAddress:10.0.0.2]"),
])
def test_render_control_flow(fmt, out):
    assert render(fmt, NET_DOC) == out


@pytest.mark.parametrize("fmt,needle", [
    ("{{range .Args}}", "without {{end}}"),
    ("{{.Name}}{{end}}", "unexpected {{end}}"),
    ("{{$x.Name}}", "undefined variable $x"),
    ("{{range .Name}}{{end}}", "can't iterate over /web"),
    ('{{printf "%s" .Name}}', "unsupported action"),
])
def test_control_flow_errors_name_the_problem(fmt, needle):
    with pytest.raises(InvalidArgument) as e:
        render(fmt, NET_DOC)
    assert needle in e.value.message and e.value.field == "format"


ROWS = [{"ID": "abc", "Name": "web", "Labels": "a=1"}, {"ID": "defgh", "Name": "db", "Labels": ""}]
COLUMNS = [("ID", "NETWORK ID"), ("Name", "NAME")]


@pytest.mark.parametrize("fmt,out", [
    (None, ["NETWORK ID", "abc", "defgh"]),
    ("{{.Name}}", ["web", "db"]),
    ("json", ['{"ID":"abc","Labels":"a=1","Name":"web"}', '{"ID":"defgh","Labels":"","Name":"db"}']),
    # a table template: docker's column names, cells aligned
    ("table {{.ID}}\\t{{.Labels}}", ["NETWORK ID   LABELS", "abc          a=1", "defgh"]),
    ("table {{.Name}}: {{.ID}}", ["NAME: NETWORK ID", "web: abc", "db: defgh"]),
])
def test_ls_formats(fmt, out, capsys):
    from engine.cli.common import emit_rows

    emit_rows(fmt, ROWS, COLUMNS, 1)
    assert capsys.readouterr().out.splitlines() == out


def test_ps_table_template_aligns_with_docker_headers_and_label_method(capsys):
    from engine.cli.container_cmds import _ps_template

    recs = [{"Id": "a" * 64, "Name": "/web", "Path": "httpd", "Args": ["-f"], "Created": "2026-01-01T00:00:00Z",
             "State": {"Status": "running", "Running": True, "StartedAt": "2026-01-01T00:00:00Z"},
             "Config": {"Image": "busybox", "Labels": {"tier": "front"}}, "NetworkSettings": {"Ports": {}},
             "Mounts": []}]
    _ps_template('table {{.ID}}\\t{{.Names}}\\t{{.Label "tier"}}|{{.Label "none"}}', recs, False)
    assert capsys.readouterr().out.splitlines() == ["CONTAINER ID   NAMES   LABEL|LABEL", "aaaaaaaaaaaa   web     front|"]
    with pytest.raises(InvalidArgument, match="wrong number of arguments"):
        _ps_template("{{.Label}}", recs, False)
