"""Turn bench/out/*.txt (written by bench/run.sh) into the Markdown tables of bench/RESULTS.md:
per issue, Berth's medians next to docker's and podman's, the ratios, and whether the issue's
target is met, with the load average when each benchmark started.

Usage: python bench/results.py [bench/out] > bench/RESULTS.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def _read(out: Path, name: str) -> str:
    p = out / f"{name}.txt"
    return p.read_text(errors="replace") if p.exists() else ""


def _load(text: str) -> str:
    m = re.search(r"^===== bench_\S+ \((\S+), load ([\d. ]+)\)", text, re.M)
    return f"started {m.group(1)} UTC, load average {m.group(2).strip()}" if m else "not run"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "–"


def _fmt(v: float | None, unit: str = "s", digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f} {unit}"


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def pull(t: str) -> list[str]:
    med = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(berth|skopeo|tar-floor|docker|podman)\s+"
                                                             r"([\d.]+)\s+CPU", t, re.M)}
    b = med.get("berth")
    rows = ["| tool | median | Berth / tool |", "|---|---|---|"]
    for k in ("berth", "docker", "podman", "skopeo", "tar-floor"):
        if k in med:
            rows.append(f"| {k} | {_fmt(med[k])} | {'' if k == 'berth' else _ratio(b, med[k])} |")
    d, f = med.get("docker"), med.get("tar-floor")
    rows += ["", f"Target ≤ 0.8× docker: {_met(None if b is None or d is None else b <= 0.8 * d)}; "
                 f"≤ 1.3× the tar floor: {_met(None if b is None or f is None else b <= 1.3 * f)}."]
    return rows


def containers(t: str) -> list[str]:
    med = {m.group(1).strip(): float(m.group(2)) for m in re.finditer(r"^\s{2}(\S.*?)\s+([\d.]+) s$", t, re.M)}
    fleet: dict[str, dict[str, float]] = {}
    for m in re.finditer(r"^\s+(\w+): start \d+ .*?([\d.]+) s\s+\(", t, re.M):
        fleet.setdefault(m.group(1), {})["start"] = float(m.group(2))
    for m in re.finditer(r"^\s+(\w+): monitor \((.*?)\) RSS per container:\s+([\d.]+) MiB", t, re.M):
        fleet.setdefault(m.group(1), {})["rss"] = float(m.group(3))
    for m in re.finditer(r"^\s+(\w+): remove \d+ .*?([\d.]+) s$", t, re.M):
        fleet.setdefault(m.group(1), {})["rm"] = float(m.group(2))
    n = re.search(r"== (\d+) detached", t)
    rows = ["| measure | Berth | docker | podman | Berth/docker | Berth/podman |", "|---|---|---|---|---|---|"]

    def row(label: str, b: float | None, d: float | None, p: float | None, unit: str = "s") -> None:
        rows.append(f"| {label} | {_fmt(b, unit)} | {_fmt(d, unit)} | {_fmt(p, unit)} | {_ratio(b, d)} | "
                    f"{_ratio(b, p)} |")

    row("`run --rm --network none` (median)", med.get("berth run --rm"), med.get("docker run --rm"),
        med.get("podman run --rm"))
    row("`run -d` + `stop` + `rm` (median)", med.get("berth run -d; stop; rm"), med.get("docker run -d; stop; rm"),
        med.get("podman run -d; stop; rm"))
    cnt = n.group(1) if n else "N"
    for key, label, unit in (("start", f"start {cnt} detached, one by one", "s"),
                             ("rss", "monitor RSS per container (conmon / containerd-shim)", "MiB"),
                             ("rm", f"remove {cnt} (one `rm -f`)", "s")):
        row(label, fleet.get("berth", {}).get(key), fleet.get("docker", {}).get(key),
            fleet.get("podman", {}).get(key), unit)
    floor = med.get("runc run (floor)")
    b, d = med.get("berth run --rm"), med.get("docker run --rm")
    rb, rd = fleet.get("berth", {}).get("rss"), fleet.get("docker", {}).get("rss")
    rows += ["", f"Bare `runc run` (floor): {_fmt(floor)}; Berth / floor {_ratio(b, floor)}.",
             f"Target `run --rm` ≤ 0.5× docker: {_met(None if b is None or d is None else b <= 0.5 * d)}; "
             f"monitor RSS ≤ 1/5 of containerd-shim: {_met(None if rb is None or rd is None else rb <= rd / 5)}."]
    return rows


def network(t: str) -> list[str]:
    rows = ["| target | requests/s | avg latency | p99 latency | Berth / target (req/s) |", "|---|---|---|---|---|"]
    vals = {m.group(1): (float(m.group(2)), m.group(3), m.group(4))
            for m in re.finditer(r"^\s+(\S+)\s+([\d.]+) req/s\s+avg\s+(\S+)\s+p99\s+(\S+)", t, re.M)}
    b = vals.get("berth", (None,))[0]
    for k, (rps, avg, p99) in vals.items():
        rows.append(f"| {k} | {rps:.0f} | {avg} | {p99} | {'' if k == 'berth' else _ratio(b, rps)} |")
    pm = re.search(r"paired median ratio berth / direct = ([\d.]+) \(pairs from ([\d.]+) to ([\d.]+)\)", t)
    paired = float(pm.group(1)) if pm else None
    br = re.search(r"bridge / none = ([\d.]+)", t)
    ov = re.search(r"listen-queue overflows during the pairs: (.*)", t)
    shown = "–" if pm is None else f"{paired:.2f} (single pairs from {pm.group(2)} to {pm.group(3)})"
    rows += ["", f"Berth / direct, median of back-to-back pairs (the result): {shown}.",
             f"Target Berth within 10% of direct: {_met(None if paired is None else paired >= 0.9)}."]
    if ov:
        rows.append(f"Listen-queue overflows (1 s SYN retransmits) during the pairs: {ov.group(1)}.")
    if br:
        rows.append(f"`run --rm` on the default bridge vs `--network none`: {br.group(1)}× (network set-up cost).")
    return rows


def build(t: str) -> list[str]:
    med = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+((?:berth|docker|podman)-\S+)\s+([\d.]+) s$",
                                                             t, re.M)}
    rows = ["| build | Berth | docker | podman | Berth/docker | Berth/podman |", "|---|---|---|---|---|---|"]
    for kind in ("cold", "cold-nonet", "warm"):
        b, d, p = med.get(f"berth-{kind}"), med.get(f"docker-{kind}"), med.get(f"podman-{kind}")
        rows.append(f"| {kind} | {_fmt(b)} | {_fmt(d)} | {_fmt(p)} | {_ratio(b, d)} | {_ratio(b, p)} |")
    b, d, w = med.get("berth-cold"), med.get("docker-cold"), med.get("berth-warm")
    rows += ["", "cold-nonet: RUN steps with `--network none` (podman is measured only so, to leave the "
                 "host's firewall alone).",
             f"Target cold ≤ docker: {_met(None if b is None or d is None else b <= d)}; warm < 0.5 s: "
             f"{_met(None if w is None else w < 0.5)}."]
    return rows


def ansible(t: str) -> list[str]:
    def g(pat: str) -> float | None:
        m = re.search(pat + r"\s+([\d.]+) s", t)
        return float(m.group(1)) if m else None
    bf, bn = g(r"berth first run \(20 containers \+ network\):"), g(r"berth no-op rerun:")
    df, dn = g(r"community.docker first run:"), g(r"community.docker no-op rerun:")
    rows = ["| run | berth.engine | community.docker | ratio |", "|---|---|---|---|",
            f"| first run (20 containers + network) | {_fmt(bf, 's', 2)} | {_fmt(df, 's', 2)} | {_ratio(bf, df)} |",
            f"| no-op rerun | {_fmt(bn, 's', 2)} | {_fmt(dn, 's', 2)} | {_ratio(bn, dn)} |", "",
            f"Target first run ≤ community.docker: {_met(None if bf is None or df is None else bf <= df)}; "
            f"no-op rerun ≤ 0.7×: {_met(None if bn is None or dn is None else bn <= 0.7 * dn)}."]
    return rows


def pulumi(t: str) -> list[str]:
    first = re.search(r"first run \(create all\): ([\d.]+) s, .*?ssh_execs=(\d+)", t)
    noop = re.search(r"no-op rerun: .*?ssh_execs=(\d+)", t)
    med = re.search(r"whole process\): median ([\d.]+) s", t)
    per = re.search(r"no-op SSH execs per resource: ([\d.]+)", t)
    dest = re.search(r"destroy: ([\d.]+) s, .*?ssh_execs=(\d+)", t)
    rows = ["| run | time | SSH execs |", "|---|---|---|"]
    if first:
        rows.append(f"| first run (23 resources, 20 containers) | {float(first.group(1)):.2f} s | {first.group(2)} |")
    if med and noop:
        rows.append(f"| no-op rerun (median, whole process) | {float(med.group(1)):.2f} s | {noop.group(1)} |")
    if dest:
        rows.append(f"| destroy | {float(dest.group(1)):.2f} s | {dest.group(2)} |")
    ok = None if not (med and per) else float(per.group(1)) <= 1 and float(med.group(1)) <= 3
    rows += ["", f"Target no-op ≤ 1 SSH exec per resource and ≤ 3 s: {_met(ok)}. "
                 "(The issue sets no docker/podman comparison.)"]
    return rows


def apply(t: str) -> list[str]:
    rows = ["| command | median | × python start |", "|---|---|---|"]
    for m in re.finditer(r"^\s+(\S.*?)\s+([\d.]+) ms\s+x\s*([\d.]+)", t, re.M):
        rows.append(f"| {m.group(1)} | {m.group(2)} ms | {m.group(3)} |")
    return rows


SECTIONS = (("pull", "Issue 2: cold pull (~150 MB, three layers, local registry)", pull),
            ("containers", "Issue 3: container runtime", containers),
            ("network", "Issue 4: published-port throughput (wrk, loopback, 612-byte page)", network),
            ("build", "Issue 5: build (5 RUN steps, 20 MB COPY)", build),
            ("ansible", "Issue 6: Ansible playbook, 20 containers on one network, over SSH", ansible),
            ("pulumi", "Issue 8: Pulumi provider, example stack at 20 containers", pulumi),
            ("apply", "`berth apply` start-up (every Ansible task / Pulumi step pays it)", apply))


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out")
    summary = (out / "summary.txt").read_text() if (out / "summary.txt").exists() else ""
    lines = ["# Benchmark results", "",
             "Produced by `make bench` (bench/run.sh, then `python bench/results.py`); docker and podman are "
             "Debian's packages run here only as references (private dockerd with `--iptables=false`, "
             "podman with private storage and cgroupfs).", "", "```", summary.split("\n\n")[0].strip(), "```", ""]
    for name, title, fn in SECTIONS:
        text = _read(out, name)
        lines += [f"## {title}", "", f"bench/bench_{name}.sh — {_load(text)}.", ""]
        lines += fn(text) if text else ["(not run)"]
        lines.append("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
