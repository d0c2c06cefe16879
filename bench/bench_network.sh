#!/usr/bin/env bash
# Published-port throughput: wrk on loopback against busybox httpd serving a small file
#   1. directly on the host (the floor),
#   2. in a Berth container behind a published port (nftables DNAT, no proxy process),
#   3. in a docker container behind docker-proxy, when a docker daemon is usable here.
# Prints requests/s, average and p99 latency, and Berth's ratio to the direct figure.
# Also times `berth run --rm` with --network none vs the default bridge (network setup cost).
#
# Env: BENCH_SECONDS (wrk duration per target, default 5, at most 10), BENCH_CONNS (default 8).
#
# Why 8 connections: busybox httpd listens with a backlog of 9. With more connections than that
# its accept queue overflows whenever the forking parent falls behind, the kernel drops the
# handshake, and that connection waits out a 1 s SYN retransmit. At -c16 a 4 s run saw about 25
# such drops for either target, which cost a quarter of the connection time at random and
# made the figure measure timer luck rather than the network path. The bench counts the
# overflows (TcpExtListenOverflows, host and container) during the paired runs and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
SECS=${BENCH_SECONDS:-5}
[ "$SECS" -gt 10 ] && SECS=10
CONNS=${BENCH_CONNS:-8}
for t in wrk busybox runc conmon nft; do
  command -v "$t" >/dev/null || { echo "bench_network: $t not found, skipping"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "bench_network: needs root, skipping"; exit 0; }

W=$(mktemp -d /var/tmp/berth-bench-net.XXXXXX)
B=("$PY" -m engine --root "$W/root" --runroot "$W/run" --config "$W/config.toml")
HOST_PID=""
DOCKER_CID=""
cleanup() {
  [ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null || true
  "${B[@]}" rm -f bench-web bench-ns >/dev/null 2>&1 || true
  [ -n "$DOCKER_CID" ] && docker rm -f "$DOCKER_CID" >/dev/null 2>&1 || true
  [ -n "$DOCKER_CID" ] && docker rmi -f berth-bench/busybox >/dev/null 2>&1 || true
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
touch "$W/config.toml"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

mkdir -p "$W/www"
head -c 612 /dev/zero | tr '\0' 'x' > "$W/www/index.html"   # nginx's default page size

echo "== bench_network: importing a busybox image"
PYTHONPATH=$REPO "$PY" - "$W" <<'PYEOF'
import sys
from pathlib import Path
from engine.context import Context
from engine.images import api
from tests.fixtures.images import build_busybox_rootfs
w = Path(sys.argv[1])
tar = build_busybox_rootfs(w / "rootfs.tar")
ctx = Context(root=w / "root", runroot=w / "run", config_path=w / "config.toml")
api.import_tarball(ctx, tar, "bench/busybox:latest", ['CMD ["sh"]'], source_name=str(tar))
PYEOF

declare -A RPS LAT P99 ROUNDS_OF
ROUNDS=${BENCH_ROUNDS:-3}
# One wrk run; the figures of every round are kept and the median round is reported, so a
# passing burst of load on this shared machine moves one round, not the result.
wrk_round() {  # name url
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$2")
  ROUNDS_OF[$1]+="$(awk '/^Requests\/sec:/ {r=$2} $1 == "Latency" && !l {l=$2} $1 == "99%" {p=$2} END {print r, l, p}' <<<"$out");"
  printf '    %-22s %12s req/s\n' "$1" "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
}
report() {  # name: print the median round
  local med
  med=$(tr ';' '\n' <<<"${ROUNDS_OF[$1]}" | sed '/^$/d' | sort -n -k1,1 | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
  read -r RPS[$1] LAT[$1] P99[$1] <<<"$med"
  printf '  %-22s %12s req/s   avg %8s   p99 %8s\n' "$1" "${RPS[$1]}" "${LAT[$1]}" "${P99[$1]}"
}

P1=$(free_port)
busybox httpd -f -p "127.0.0.1:$P1" -h "$W/www" &
HOST_PID=$!
wait_port "$P1"

P2=$(free_port)
"${B[@]}" run -d --name bench-web -p "$P2:80" -v "$W/www:/www:ro" bench/busybox httpd -f -p 80 -h /www >/dev/null
wait_port "$P2"
WEB_NS=$("${B[@]}" inspect bench-web | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["NetworkSettings"]["SandboxKey"])')
# Listen-queue overflows so far in the host's and in bench-web's network namespace.
overflows() {
  awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") c = i; h = 1 } else print $c }' /proc/net/netstat
}

# The container's processes form one CPU scheduling group (its cgroup); on a busy host that
# group gets less CPU than loose host processes. The same server in a cgroup of its own
# separates that scheduling effect from the network path (veth, bridge, DNAT).
CG=""
if [ -d /sys/fs/cgroup/cpu ]; then CG=/sys/fs/cgroup/cpu/berth-bench-$$
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then CG=/sys/fs/cgroup/berth-bench-$$; fi
[ -n "$CG" ] && ! mkdir "$CG" 2>/dev/null && CG=""
# The network path alone: a container publishing a port while the same host httpd serves in
# the container's network namespace (veth + bridge + DNAT, no container cgroup or seccomp).
P4=$(free_port)
"${B[@]}" run -d --name bench-ns -p "$P4:80" bench/busybox sleep 600 >/dev/null
NS=$("${B[@]}" inspect bench-ns | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["NetworkSettings"]["SandboxKey"])')
nsenter --net="$NS" busybox httpd -f -p 80 -h "$W/www" &
NS_PID=$!
wait_port "$P4"

HAVE_DOCKER=0
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  P3=$(free_port)
  docker image inspect berth-bench/busybox >/dev/null 2>&1 || docker import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-bench/busybox >/dev/null
  DOCKER_CID=$(docker run -d -p "127.0.0.1:$P3:80" -v "$W/www:/www:ro" berth-bench/busybox httpd -f -p 80 -h /www)
  wait_port "$P3"
  HAVE_DOCKER=1
  # (the bench's dockerd runs with --iptables=false; on loopback docker-proxy carries the
  # traffic either way, as docker's OUTPUT DNAT rule excludes 127.0.0.0/8)
fi

# The target compares Berth with the direct server. This machine's speed drifts by tens of
# percent within minutes, so the two are measured in back-to-back pairs (order alternating) and
# the result is the median of the per-pair ratios: drift between pairs cancels out.
PAIRS=${BENCH_PAIRS:-12}
PSECS=${BENCH_PAIR_SECONDS:-3}
rps_of() { wrk -t2 -c"$CONNS" -d"${PSECS}s" "$1" | awk '/^Requests\/sec:/ {print $2}'; }
echo "== paired: direct and berth back to back, $PAIRS pairs of wrk -t2 -c$CONNS -d${PSECS}s"
PAIR_RATIOS=""
OV_HOST=$(overflows); OV_WEB=$(nsenter --net="$WEB_NS" bash -c "$(declare -f overflows); overflows")
for i in $(seq "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then
    d=$(rps_of "http://127.0.0.1:$P1/index.html"); b=$(rps_of "http://127.0.0.1:$P2/index.html")
  else
    b=$(rps_of "http://127.0.0.1:$P2/index.html"); d=$(rps_of "http://127.0.0.1:$P1/index.html")
  fi
  r=$(awk -v a="$b" -v c="$d" 'BEGIN { printf "%.3f", (c > 0) ? a / c : 0 }')
  PAIR_RATIOS+="$r "
  printf '    pair %d: direct %10s  berth %10s  ratio %s\n' "$i" "$d" "$b" "$r"
done
PAIRED=$(tr ' ' '\n' <<<"$PAIR_RATIOS" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f", (a[NR/2] + a[NR/2+1]) / 2}')
echo "  listen-queue overflows during the pairs: direct $(( $(overflows) - OV_HOST )), berth $(( $(nsenter --net="$WEB_NS" bash -c "$(declare -f overflows); overflows") - OV_WEB ))"
echo "  paired median ratio berth / direct = $PAIRED (pairs from $(tr ' ' '\n' <<<"$PAIR_RATIOS" | sed '/^$/d' | sort -n | head -1) to $(tr ' ' '\n' <<<"$PAIR_RATIOS" | sed '/^$/d' | sort -n | tail -1))"

echo "== wrk -t2 -c$CONNS -d${SECS}s, loopback, 612-byte page; $ROUNDS interleaved rounds, median round reported"
one_round() {  # the targets of one round, in the order given
  for t in "$@"; do
    case $t in
      direct) wrk_round direct "http://127.0.0.1:$P1/index.html" ;;
      berth) wrk_round berth "http://127.0.0.1:$P2/index.html" ;;
      direct-own-cgroup)
        echo "$HOST_PID" > "$CG/cgroup.procs"
        wrk_round direct-own-cgroup "http://127.0.0.1:$P1/index.html"
        echo "$HOST_PID" > "$(dirname "$CG")/cgroup.procs" ;;
      berth-netpath-only) wrk_round berth-netpath-only "http://127.0.0.1:$P4/index.html" ;;
      docker) wrk_round docker "http://127.0.0.1:$P3/index.html" ;;
    esac
  done
}
TARGETS=(direct berth)
[ -n "$CG" ] && TARGETS+=(direct-own-cgroup)
TARGETS+=(berth-netpath-only)
[ "$HAVE_DOCKER" = 1 ] && TARGETS+=(docker)
for r in $(seq "$ROUNDS"); do
  echo "  round $r"
  if [ $((r % 2)) = 1 ]; then one_round "${TARGETS[@]}"; else
    rev=(); for ((i=${#TARGETS[@]}-1; i>=0; i--)); do rev+=("${TARGETS[i]}"); done; one_round "${rev[@]}"
  fi
done
[ -n "$CG" ] && rmdir "$CG"
kill "$NS_PID" 2>/dev/null || true
"${B[@]}" rm -f bench-ns >/dev/null
echo "== medians"
for t in "${TARGETS[@]}"; do report "$t"; done
[ "$HAVE_DOCKER" = 1 ] || echo "  docker                 (no usable docker daemon here: skipped)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "== ratios (requests/s)"
echo "  berth / direct (paired median, the result) = $PAIRED   (target >= 0.90)"
echo "  berth / direct (median rounds) = $(ratio "${RPS[berth]}" "${RPS[direct]}")"
echo "  berth network path only / direct = $(ratio "${RPS[berth-netpath-only]}" "${RPS[direct]}")"
[ -n "${RPS[direct-own-cgroup]:-}" ] && \
  echo "  berth / direct in a cgroup of its own = $(ratio "${RPS[berth]}" "${RPS[direct-own-cgroup]}")"
[ -n "${RPS[docker]:-}" ] && echo "  berth / docker  = $(ratio "${RPS[berth]}" "${RPS[docker]}")"
echo "  target berth within 10% of direct: $(awk -v r="$PAIRED" 'BEGIN { print (r >= 0.9) ? "met" : "NOT met" }')"

if command -v hyperfine >/dev/null; then
  echo "== berth run --rm: --network none vs default bridge (network setup + teardown)"
  hyperfine -N -w 1 -r "${BENCH_RUNS:-5}" --export-json "$W/hf.json" \
    -n none "${B[*]} run --rm --network none bench/busybox true" \
    -n bridge "${B[*]} run --rm bench/busybox true" >/dev/null
  "$PY" - "$W/hf.json" <<'PYEOF'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
for k, v in r.items():
    print(f"  {k:<8} median {v * 1000:7.1f} ms")
print(f"  bridge / none = {r['bridge'] / r['none']:.2f}")
PYEOF
fi
