from __future__ import annotations

import pytest

from engine.build.executor import _check_signal, _expand_vars, _heredoc_script, _parse_ports
from engine.build.instructions import RunCmd
from engine.build.parser import Heredoc


@pytest.mark.parametrize(("spec", "want"), [
    ("80", ["80/tcp"]), ("53/udp", ["53/udp"]), ("8000-8002", ["8000/tcp", "8001/tcp", "8002/tcp"]),
    ("9/SCTP", ["9/sctp"]),
])
def test_ports(spec: str, want: list[str]) -> None:
    assert _parse_ports(spec) == want


@pytest.mark.parametrize("spec", ["0", "70000", "80/icmp", "x", "9-8"])
def test_bad_ports(spec: str) -> None:
    with pytest.raises(ValueError, match="EXPOSE"):
        _parse_ports(spec)


@pytest.mark.parametrize("sig", ["SIGTERM", "TERM", "sigkill", "9", "SIGRTMIN+3"])
def test_signals(sig: str) -> None:
    _check_signal(sig)


@pytest.mark.parametrize("sig", ["SIGNOPE", "0", "99"])
def test_bad_signals(sig: str) -> None:
    with pytest.raises(ValueError, match="invalid signal"):
        _check_signal(sig)


def _run(cmd: str, *docs: Heredoc) -> RunCmd:
    return RunCmd(keyword="RUN", line=1, original="", cmd=[cmd], heredocs=list(docs))


def test_heredoc_scripts() -> None:
    assert _heredoc_script(_run("<<EOF", Heredoc("EOF", "echo a\necho b\n"))) == "echo a\necho b\n"
    assert _heredoc_script(_run("<<-EOF", Heredoc("EOF", "\techo a\n", chomp=True))) == "echo a\n"
    py = _heredoc_script(_run("<<EOF", Heredoc("EOF", "#!/usr/bin/env python3\nprint(1)\n")))
    assert py.startswith("/usr/bin/env python3 <<'BERTH_HEREDOC_EOF'\n#!/usr/bin/env python3\nprint(1)\n")
    both = _heredoc_script(_run("cat <<A > /a && cat <<B > /b", Heredoc("A", "1\n"), Heredoc("B", "2\n")))
    assert both == "cat <<A > /a && cat <<B > /b\n1\nA\n2\nB\n"


def test_expand_vars_in_copy_heredoc() -> None:
    assert _expand_vars("a=$A b=${B} c=$C $", {"A": "1", "B": "2"}) == "a=1 b=2 c= $"
    env = {"A": "1", "E": ""}
    assert _expand_vars("${U:-dflt} ${E:-e} ${A:+set} ${A+x}${U+y} ${P:-${A}0}", env) == "dflt e set x 10"
    assert _expand_vars("\\$A \\\\$A '$A' \"$A\" \\n", env) == "$A \\1 '1' \"1\" \\n"
    with pytest.raises(ValueError, match="U: must be set"):
        _expand_vars("${U:?must be set}", env)
