#!/usr/bin/env bash
# Benchmark: `sigwatch convert` against sigma-cli (pySigma) on the SigmaHQ corpus (rules/,
# rules-emerging-threats/, rules-threat-hunting/: 3,754 rules), side by side with hyperfine.
#
#   bench/convert.sh [RUNS]          (default 5 runs each; SIGWATCH_DATA as for the tests)
#
# Prints hyperfine's table and the ratios of the medians (wall time and CPU time, user+sys).
# Prerequisites: hyperfine (apt-get install -y hyperfine), sigma-cli with the Elasticsearch
# backend (pip install sigma-cli pysigma-backend-elasticsearch).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
DATA="${SIGWATCH_DATA:-$(cd .. && pwd)/shared/data}"
S="$DATA/sigma"
RULES=("$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting")
for t in hyperfine sigma python3; do
    command -v "$t" >/dev/null || { echo "bench/convert.sh: $t not found" >&2; exit 2; }
done
cargo build --release -p sigwatch >&2
SW="$PWD/target/release/sigwatch"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/h.json" \
    -n "sigwatch lucene" "$SW convert -t lucene -p ecs-windows -q ${RULES[*]} -o $OUT/sw.lucene" \
    -n "sigma-cli lucene" "sigma convert -t lucene -p ecs_windows -s ${RULES[*]} -o $OUT/pysigma.lucene"

python3 - "$OUT/h.json" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
sw, py = r["sigwatch lucene"], r["sigma-cli lucene"]
for name, x in (("sigwatch", sw), ("sigma-cli", py)):
    print(f"{name:10} median wall {statistics.median(x['times']):.3f} s, mean CPU (user+sys) {x['user'] + x['system']:.3f} s")
print(f"sigma-cli / sigwatch: wall {statistics.median(py['times']) / statistics.median(sw['times']):.1f}x (medians), "
      f"CPU {(py['user'] + py['system']) / (sw['user'] + sw['system']):.1f}x (means)")
PY
