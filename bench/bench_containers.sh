#!/usr/bin/env bash
# Benchmark the container runtime path (issue 3): `run --rm --network none` of a trivial command,
# `run -d` + `stop` + `rm`, and fifty detached containers (time to start them all, RSS of each
# container's monitor, time to remove them). Berth, bare `runc run` (the floor), and docker /
# podman when installed and working, side by side in one run. Medians and ratios are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
RUNS=${BENCH_RUNS:-15}
N=${BENCH_FLEET:-50}

command -v hyperfine >/dev/null || { echo "bench_containers: hyperfine not installed, skipped"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "bench_containers: needs root, skipped"; exit 0; }
command -v runc >/dev/null && command -v conmon >/dev/null || { echo "bench_containers: runc/conmon missing, skipped"; exit 0; }

W=$(mktemp -d "$(bash bench/workdir.sh)/berth-bench-ctr-XXXXXX")
export PYTHONPATH=$REPO
# What an operator types: the `berth` console script pip installs (as the host role does),
# else the package run as a module.
if [ -x "$(dirname "$PY")/berth" ]; then BERTH_CMD=("$(dirname "$PY")/berth"); else BERTH_CMD=("$PY" -m engine); fi
BERTH=("${BERTH_CMD[@]}" --root "$W/root" --runroot "$W/run" --config "$W/config.toml")
B="${BERTH[*]}"
cleanup() {
  set +e
  cd /
  ids=$("${BERTH[@]}" ps -aq 2>/dev/null)
  [ -n "$ids" ] && "${BERTH[@]}" rm -f $ids >/dev/null 2>&1
  runc --root "$W/runc-floor" delete -f bench-floor >/dev/null 2>&1
  if [ "${HAVE_DOCKER:-0}" = 1 ]; then
    ids=$(docker ps -aq --filter label=berth-bench=1 2>/dev/null); [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
    docker rmi -f berth-bench/busybox >/dev/null 2>&1
  fi
  if [ "${HAVE_PODMAN:-0}" = 1 ]; then
    ids=$(podman ps -aq --filter label=berth-bench=1 2>/dev/null); [ -n "$ids" ] && podman rm -f -t 0 $ids >/dev/null 2>&1
    podman rmi -f localhost/berth-bench/busybox >/dev/null 2>&1
  fi
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap "exit 1" INT TERM
mkdir -p "$W/root" "$W/run" "$W/floor/rootfs"
touch "$W/config.toml"

"$PY" -c "
from pathlib import Path
from tests.fixtures.images import build_busybox_rootfs
build_busybox_rootfs(Path('$W/rootfs.tar'))"
"${BERTH[@]}" import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-test/busybox:latest >/dev/null
IMG=berth-test/busybox:latest

# the floor: a bare runc bundle of the same rootfs
tar -xf "$W/rootfs.tar" -C "$W/floor/rootfs"
(cd "$W/floor" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)

median() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$1"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A RESULT
bench() {  # name command...
  local name=$1; shift
  hyperfine -N -w 2 -r "$RUNS" --export-json "$W/h.json" "$@" >/dev/null 2>&1 || { echo "  $name: failed"; return; }
  RESULT[$name]=$(median "$W/h.json")
  printf "  %-42s %8.3f s\n" "$name" "${RESULT[$name]}"
}

bench_sh() {  # name "shell command"
  local name=$1; shift
  hyperfine -w 1 -r "$RUNS" --export-json "$W/h.json" "$@" >/dev/null 2>&1 || { echo "  $name: failed"; return; }
  RESULT[$name]=$(median "$W/h.json")
  printf "  %-42s %8.3f s\n" "$name" "${RESULT[$name]}"
}

echo "== run --rm --network none (trivial command), median of $RUNS"
bench "runc run (floor)" "runc --root $W/runc-floor run --bundle $W/floor bench-floor"
bench "berth run --rm" "$B run --rm --network none $IMG true"
# docker and podman: the same rootfs imported as berth-bench/busybox, when usable here
HAVE_DOCKER=0; HAVE_PODMAN=0
if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1 \
   && docker import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-bench/busybox >/dev/null; then
  HAVE_DOCKER=1
else
  echo "  (docker: no usable daemon here, not compared)"
fi
if command -v podman >/dev/null && timeout 10 podman info >/dev/null 2>&1 \
   && podman import -q -c 'CMD ["sh"]' "$W/rootfs.tar" localhost/berth-bench/busybox >/dev/null 2>&1; then
  HAVE_PODMAN=1
else
  echo "  (podman: not installed or not usable, not compared)"
fi
DIMG=berth-bench/busybox
PIMG=localhost/berth-bench/busybox
[ "$HAVE_DOCKER" = 1 ] && bench "docker run --rm" "docker run --rm --network none $DIMG true"
[ "$HAVE_PODMAN" = 1 ] && bench "podman run --rm" "podman run --rm --network none $PIMG true"

echo "== run -d + stop + rm (a process that exits on SIGTERM), median of $RUNS"
STOPPABLE="sh -c 'trap \"exit 0\" TERM; sleep 600 & wait'"
bench_sh "berth run -d; stop; rm" "$B run -d --name bench1 --network none $IMG $STOPPABLE >/dev/null && $B stop bench1 >/dev/null && $B rm bench1 >/dev/null"
[ "$HAVE_DOCKER" = 1 ] && bench_sh "docker run -d; stop; rm" \
  "docker run -d --label berth-bench=1 --name bench1 --network none $DIMG $STOPPABLE >/dev/null && docker stop bench1 >/dev/null && docker rm bench1 >/dev/null"
[ "$HAVE_PODMAN" = 1 ] && bench_sh "podman run -d; stop; rm" \
  "podman run -d --label berth-bench=1 --name bench1 --network none $PIMG $STOPPABLE >/dev/null && podman stop bench1 >/dev/null && podman rm bench1 >/dev/null"

# fleet TOOL: start N detached containers one by one, sum the RSS of each container's monitor
# (the parent of its init: conmon for Berth and podman, containerd-shim for docker), remove them.
fleet() {
  local tool=$1 t0 t1 t2 t3 total=0 count=0 pid ppid="" ids r running monitor
  local -a run_cmd ps_cmd rm_cmd pid_cmd
  case $tool in
    berth)  run_cmd=("${BERTH[@]}" run -d --network none); ps_cmd=("${BERTH[@]}" ps -q)
            rm_cmd=("${BERTH[@]}" rm -f); pid_cmd=("${BERTH[@]}" inspect -f '{{.State.Pid}}') ;;
    docker) run_cmd=(docker run -d --label berth-bench=1 --network none); ps_cmd=(docker ps -q --filter label=berth-bench=1)
            rm_cmd=(docker rm -f); pid_cmd=(docker inspect -f '{{.State.Pid}}') ;;
    podman) run_cmd=(podman run -d --label berth-bench=1 --network none); ps_cmd=(podman ps -q --filter label=berth-bench=1)
            rm_cmd=(podman rm -f -t 0); pid_cmd=(podman inspect -f '{{.State.Pid}}') ;;
  esac
  local img=$IMG; [ "$tool" = docker ] && img=$DIMG; [ "$tool" = podman ] && img=$PIMG
  t0=$(date +%s.%N)
  for i in $(seq 1 "$N"); do "${run_cmd[@]}" --name "fleet$i" "$img" sleep 600 >/dev/null; done
  t1=$(date +%s.%N)
  ids=$("${ps_cmd[@]}")
  running=$(wc -w <<<"$ids")
  for id in $ids; do
    pid=$("${pid_cmd[@]}" "$id" 2>/dev/null | tr -d '[]' | head -1 || true)
    [ -n "$pid" ] && [ "$pid" != 0 ] || continue
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$ppid" ] || continue
    r=$(rss_kib "$ppid"); total=$((total + r)); count=$((count + 1))
  done
  if [ "$tool" = berth ] && [ "$count" = 0 ]; then  # no inspect Pid: read conmon's pidfiles
    for pidf in "$W"/run/conmon/*/conmon.pid; do
      r=$(rss_kib "$(cat "$pidf")"); total=$((total + r)); count=$((count + 1))
    done
  fi
  monitor=conmon
  [ -n "${ppid:-}" ] && monitor=$(ps -o comm= -p "$ppid" 2>/dev/null)
  t2=$(date +%s.%N)
  # shellcheck disable=SC2046
  "${rm_cmd[@]}" $("${ps_cmd[@]}") >/dev/null
  t3=$(date +%s.%N)
  "$PY" - "$tool" "$t0" "$t1" "$t2" "$t3" "$N" "$total" "$count" "$running" "$monitor" <<'PY'
import sys
tool = sys.argv[1]
t0, t1, t2, t3 = map(float, sys.argv[2:6]); n, total, count, running = map(int, sys.argv[6:10])
print(f"  {tool}: start {n} (sequential run -d):    {t1 - t0:8.2f} s  ({(t1 - t0) / n:.3f} s each), {running} running")
print(f"  {tool}: monitor ({sys.argv[10]}) RSS per container: {total / max(count, 1) / 1024:8.2f} MiB  ({count} measured)")
print(f"  {tool}: remove {n} (one rm -f):           {t3 - t2:8.2f} s")
PY
  FLEET_RSS[$tool]=$(awk -v t="$total" -v c="$count" 'BEGIN { if (c > 0) printf "%.3f", t / c / 1024; else print 0 }')
}

declare -A FLEET_RSS
echo "== $N detached containers"
fleet berth
[ "$HAVE_DOCKER" = 1 ] && fleet docker
[ "$HAVE_PODMAN" = 1 ] && fleet podman

echo "== ratios"
"$PY" - "${RESULT[berth run --rm]:-0}" "${RESULT[runc run (floor)]:-0}" "${RESULT[docker run --rm]:-}" \
  "${RESULT[podman run --rm]:-}" "${FLEET_RSS[berth]:-0}" "${FLEET_RSS[docker]:-}" "${FLEET_RSS[podman]:-}" \
  "${RESULT[berth run -d; stop; rm]:-0}" "${RESULT[docker run -d; stop; rm]:-}" "${RESULT[podman run -d; stop; rm]:-}" <<'PY'
import sys
a = [float(x) if x else None for x in sys.argv[1:]]
berth, floor, docker, podman, rss, drss, prss, cyc, dcyc, pcyc = a
if floor:
    print(f"  berth run --rm / runc run:  {berth / floor:6.2f}x")
ref = docker if docker else 0.28
src = "measured" if docker else "issue's reference 0.28 s (docker not available here)"
print(f"  berth run --rm / docker:    {berth / ref:6.2f}x  ({src}; target <= 0.5x: "
      f"{'met' if berth <= 0.5 * ref else 'NOT met'})")
if podman:
    print(f"  berth run --rm / podman:    {berth / podman:6.2f}x")
if dcyc:
    print(f"  berth run -d;stop;rm / docker: {cyc / dcyc:6.2f}x")
if pcyc:
    print(f"  berth run -d;stop;rm / podman: {cyc / pcyc:6.2f}x")
ref = drss if drss else 12.9
src = "measured containerd-shim" if drss else "issue's reference containerd-shim 12.9 MiB"
print(f"  monitor RSS berth / docker: {rss / ref:6.2f}x  ({rss:.2f} vs {ref:.2f} MiB, {src}; target <= 0.2x: "
      f"{'met' if rss <= 0.2 * ref else 'NOT met'})")
if prss:
    print(f"  monitor RSS berth / podman: {rss / prss:6.2f}x  ({prss:.2f} MiB conmon)")
PY
