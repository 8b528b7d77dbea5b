#!/usr/bin/env bash
# Benchmark: `sigwatch convert` against sigma-cli (pySigma) on the SigmaHQ corpus (rules/,
# rules-emerging-threats/, rules-threat-hunting/: 3,754 rules), side by side with hyperfine,
# for two targets:
#   - lucene:     one output file (both tools);
#   - elastalert: sigwatch writes one ElastAlert rule file per rule and log source (-o DIR);
#                 sigma-cli writes all rules into one file (it has no per-rule output).
#
#   bench/convert.sh [RUNS]          (default 5 runs each, WARMUP=1; SIGWATCH_DATA as for the tests)
#
# Prints hyperfine's table and, per target, the medians of wall time and CPU time (user+sys)
# and their ratios (sigma-cli / sigwatch).
# Prerequisites: hyperfine (apt-get install -y hyperfine). sigma-cli with the Elasticsearch
# backend is taken from PATH, else installed into a venv under target/ (pip install sigma-cli
# pysigma-backend-elasticsearch).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
WARMUP="${WARMUP:-1}"
DATA="${SIGWATCH_DATA:-$(cd .. && pwd)/shared/data}"
S="$DATA/sigma"
RULES=("$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting")
for t in hyperfine python3; do
    command -v "$t" >/dev/null || { echo "bench/convert.sh: $t not found" >&2; exit 2; }
done
SIGMA="$(command -v sigma || true)"
if [ -z "$SIGMA" ] || ! "$SIGMA" list targets 2>/dev/null | grep -q elastalert; then
    VENV="$PWD/target/bench-venv"
    if [ ! -x "$VENV/bin/sigma" ]; then
        python3 -m venv "$VENV" >&2
        "$VENV/bin/pip" install -q sigma-cli pysigma-backend-elasticsearch >&2
    fi
    SIGMA="$VENV/bin/sigma"
fi
cargo build --release -p sigwatch >&2
SW="$PWD/target/release/sigwatch"
# Outputs go to tmpfs (/dev/shm) when there is one: on this machine's disk, creating a file
# costs about a millisecond of system time, so 4,000 ElastAlert files would measure the disk,
# not the converters. BENCH_TMP=DIR chooses another place.
TMPBASE="${BENCH_TMP:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}"
OUT="$(mktemp -d "$TMPBASE/sigwatch-bench.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

# Every run starts without sigwatch's ElastAlert folder (--prepare), so files are created anew.
hyperfine --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/h.json" --prepare "rm -rf $OUT/sw.ea" \
    -n "sigwatch lucene" "$SW convert -t lucene -p ecs-windows -q ${RULES[*]} -o $OUT/sw.lucene" \
    -n "sigma-cli lucene" "$SIGMA convert -t lucene -p ecs_windows -s ${RULES[*]} -o $OUT/pysigma.lucene" \
    -n "sigwatch elastalert" "$SW convert -t elastalert -p ecs-windows -q ${RULES[*]} -o $OUT/sw.ea/" \
    -n "sigma-cli elastalert" "$SIGMA convert -t elastalert -p ecs_windows --disable-pipeline-check -s ${RULES[*]} -o $OUT/pysigma.elastalert"

"$SW" convert -t elastalert -p ecs-windows -q "${RULES[@]}" -o "$OUT/count.ea/" 2>&1 | grep "converted" || true
echo "sigwatch elastalert files: $(find "$OUT/count.ea" -type f | wc -l)"
python3 - "$OUT/h.json" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def cpu(x):
    return statistics.median(u + s for u, s in zip(x["user"], x["system"])) if isinstance(x.get("user"), list) else x["user"] + x["system"]
for target in ("lucene", "elastalert"):
    sw, py = r[f"sigwatch {target}"], r[f"sigma-cli {target}"]
    for name, x in (("sigwatch", sw), ("sigma-cli", py)):
        print(f"{target:10} {name:10} median wall {statistics.median(x['times']):.3f} s, CPU (user+sys) {cpu(x):.3f} s")
    print(f"{target:10} sigma-cli / sigwatch: wall {statistics.median(py['times']) / statistics.median(sw['times']):.1f}x, "
          f"CPU {cpu(py) / cpu(sw):.1f}x")
PY
