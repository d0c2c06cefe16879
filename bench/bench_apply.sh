#!/usr/bin/env bash
# Benchmark `berth apply` start-up and no-op reconciliation (what every Ansible task / Pulumi
# step pays per resource): a bare interpreter start (the floor), `berth version`, a no-op apply of
# a network, a no-op apply of a running container, and its check-mode twin. hyperfine; medians
# and ratios to the interpreter floor are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
RUNS=${BENCH_RUNS:-20}

command -v hyperfine >/dev/null || { echo "bench_apply: hyperfine not installed, skipped"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "bench_apply: needs root, skipped"; exit 0; }

W=$(mktemp -d /var/tmp/berth-bench-apply-XXXXXX)
BERTH=("$PY" -m engine --root "$W/root" --runroot "$W/run" --config "$W/config.toml")
cleanup() {
  set +e
  cd /
  echo '{"api":1,"kind":"container","state":"absent","spec":{"name":"bench-web"}}' \
    | PYTHONPATH=$REPO "${BERTH[@]}" apply >/dev/null 2>&1
  echo '{"api":1,"kind":"network","state":"absent","spec":{"name":"bench-net"}}' \
    | PYTHONPATH=$REPO "${BERTH[@]}" apply >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap "exit 1" INT TERM
mkdir -p "$W/root" "$W/run"
touch "$W/config.toml"
export PYTHONPATH=$REPO
# an installed engine has its bytecode compiled (pip does it); do the same so start-up is comparable
unset PYTHONDONTWRITEBYTECODE
"$PY" -m compileall -q "$REPO/engine" >/dev/null 2>&1 || true

"$PY" -c "
from pathlib import Path
from tests.fixtures.images import build_busybox_rootfs
build_busybox_rootfs(Path('$W/rootfs.tar'))"
"${BERTH[@]}" import -c 'CMD ["sh"]' "$W/rootfs.tar" berth-test/busybox:latest >/dev/null

cat > "$W/net.json" <<'EOF'
{"api": 1, "kind": "network", "spec": {"name": "bench-net", "labels": {"bench": "1"}}}
EOF
cat > "$W/ctr.json" <<'EOF'
{"api": 1, "kind": "container", "state": "started",
 "spec": {"name": "bench-web", "image": "berth-test/busybox:latest", "command": "sleep 600",
          "network_mode": "none", "memory": "64m", "env": {"A": "1"}, "labels": {"app": "bench"},
          "restart_policy": "unless-stopped"}}
EOF
sed 's/"state": "started"/"state": "started", "check": true/' "$W/ctr.json" > "$W/ctr-check.json"
"${BERTH[@]}" apply -f "$W/net.json" >/dev/null
HAVE_CTR=1
timeout 60 "${BERTH[@]}" apply -f "$W/ctr.json" >/dev/null 2>&1 || { HAVE_CTR=0; echo "bench_apply: container apply failed, container rows skipped"; }

CMDS=("$PY -c pass" "${BERTH[*]} version" "${BERTH[*]} apply -f $W/net.json")
NAMES=("python -c pass" "berth version" "apply network (no-op)")
if [ "$HAVE_CTR" = 1 ]; then
  CMDS+=("${BERTH[*]} apply -f $W/ctr.json" "${BERTH[*]} apply -f $W/ctr-check.json")
  NAMES+=("apply container (no-op)" "apply container check (no-op)")
fi
ARGS=()
for i in "${!CMDS[@]}"; do ARGS+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/out.json" "${ARGS[@]}" >/dev/null 2>&1 || \
  hyperfine -w 3 -r "$RUNS" --export-json "$W/out.json" "${ARGS[@]}" >/dev/null

"$PY" - "$W/out.json" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
floor = res[0]["median"]
print("bench_apply (median of %d runs)" % len(res[0]["times"]))
for r in res:
    print(f"  {r['command']:<34} {r['median'] * 1000:8.1f} ms   x{r['median'] / floor:5.2f} of python start")
EOF
