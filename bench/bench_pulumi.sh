#!/usr/bin/env bash
# Pulumi provider benchmark: the example stack (examples/pulumi) scaled to 20 containers (web +
# 19 clients, a network, a volume, a locally built image), driven through the SDK's mock mode
# by pulumi_berth.testing (the harness that acts as the Pulumi engine), over SSH to a loopback
# sshd and a throw-away engine root. Times the first run and the no-op rerun (hyperfine) and
# counts SSH exec round trips. Target: no-op rerun <= 1 exec per resource and <= 3 s.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CLIENTS=${CLIENTS:-19}
work=$(mktemp -d /var/tmp/bench-pulumi-XXXXXX)
cleanup() {
  if [ -f "$work/env.json" ]; then "$PY" bench/pulumi_driver.py "$work" destroy >/dev/null 2>&1 || true; fi
  if [ -f "$work/sshd.pid" ]; then kill "$(cat "$work/sshd.pid")" 2>/dev/null || true; fi
  "$PY" bench/pulumi_driver.py "$work" teardown >/dev/null 2>&1 || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

"$PY" bench/pulumi_driver.py "$work" setup "$CLIENTS"
resources=$((CLIENTS + 4))  # clients + web + network + volume + image
echo "== pulumi_berth: $resources resources ($((CLIENTS + 1)) containers) over SSH"

start=$(date +%s.%N)
"$PY" bench/pulumi_driver.py "$work" up > "$work/first.txt"
end=$(date +%s.%N)
printf "first run (create all): %.2f s, %s\n" "$(echo "$end - $start" | bc)" "$(cat "$work/first.txt")"

"$PY" bench/pulumi_driver.py "$work" up > "$work/noop.txt"
echo "no-op rerun: $(cat "$work/noop.txt")"
if command -v hyperfine >/dev/null; then
  hyperfine --runs 5 --warmup 1 --export-json "$work/hf.json" -N \
    "$PY bench/pulumi_driver.py $work up" >/dev/null
  "$PY" - "$work/hf.json" "$work/noop.txt" "$resources" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
execs = int(open(sys.argv[2]).read().split("ssh_execs=")[1].split()[0])
n = int(sys.argv[3])
print(f"no-op rerun (hyperfine, 5 runs, whole process): median {r['median']:.2f} s "
      f"(min {r['min']:.2f}, max {r['max']:.2f})")
print(f"no-op SSH execs per resource: {execs / n:.2f} (target <= 1); "
      f"time vs 3 s target: {r['median'] / 3:.2f}x")
print(f"target (<= 1 exec per resource, <= 3 s): {'met' if execs <= n and r['median'] <= 3 else 'NOT met'}")
PYEOF
fi
start=$(date +%s.%N)
"$PY" bench/pulumi_driver.py "$work" destroy > "$work/destroy.txt"
end=$(date +%s.%N)
printf "destroy: %.2f s, %s\n" "$(echo "$end - $start" | bc)" "$(cat "$work/destroy.txt")"
