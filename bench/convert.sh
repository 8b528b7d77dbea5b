#!/usr/bin/env bash
# Benchmark: `sigwatch convert` against sigma-cli (pySigma) on the SigmaHQ corpus (rules/,
# rules-emerging-threats/, rules-threat-hunting/: 3,754 rules), side by side with hyperfine,
# for two targets:
#   - lucene:     the queries to standard output (both tools; hyperfine discards it);
#   - elastalert: one ElastAlert rule file per rule and log source in a folder (sigwatch -o DIR/,
#                 sigma-cli --output-dir DIR).
# Each without a pipeline (sigma-cli --without-pipeline) and, with PIPELINE=1, also with the
# Winlogbeat ECS pipeline (sigwatch -p ecs-windows, sigma-cli -p ecs_windows).
#
#   bench/convert.sh [RUNS]       (default 5 runs each; WARMUP=1 warm-up runs; SIGWATCH_DATA as
#                                  for the tests; PIPELINE=1 adds the ecs-windows pair, which
#                                  doubles sigma-cli's minutes; SIGMA_RUNS=N runs of sigma-cli,
#                                  default RUNS, with no warm-up: it takes minutes per run)
#
# Prints hyperfine's table, the load average before and after, and per target the median wall
# time, the CPU time (user+sys; median when hyperfine exports it per run, else its mean) and
# their ratios (sigma-cli / sigwatch). The machine is shared: compare the ratios and the CPU
# times, and read the load next to them.
# Prerequisites: hyperfine (apt-get install -y hyperfine). sigma-cli with the Elasticsearch
# backend is taken from PATH, else installed into a venv under target/ (pip install sigma-cli
# pysigma-backend-elasticsearch).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
WARMUP="${WARMUP:-1}"
SIGMA_RUNS="${SIGMA_RUNS:-$RUNS}"
DATA="${SIGWATCH_DATA:-$(cd .. && pwd)/shared/data}"
S="$DATA/sigma"
RULES="$S/rules $S/rules-emerging-threats $S/rules-threat-hunting"
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

# One pair per (target, pipeline): sigwatch's and sigma-cli's command.
SW_CMDS=()
PY_CMDS=()
NAMES=()
add() { # name, sigwatch args, sigma-cli args
    NAMES+=("$1")
    SW_CMDS+=("$SW convert $2 -q $RULES")
    PY_CMDS+=("$SIGMA convert $3 -s $RULES")
}
add "lucene" "-t lucene" "-t lucene --without-pipeline"
add "elastalert" "-t elastalert -o $OUT/sw.ea/" "-t elastalert --without-pipeline -od $OUT/py.ea"
if [ "${PIPELINE:-0}" = 1 ]; then
    add "lucene ecs-windows" "-t lucene -p ecs-windows" "-t lucene -p ecs_windows"
    add "elastalert ecs-windows" "-t elastalert -p ecs-windows -o $OUT/sw.ea/" \
        "-t elastalert -p ecs_windows --disable-pipeline-check -od $OUT/py.ea"
fi

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Every run starts without the ElastAlert folders (--prepare), so files are created anew.
args=()
for i in "${!NAMES[@]}"; do
    args+=(-n "sigwatch ${NAMES[$i]}" "${SW_CMDS[$i]}")
done
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/sw.json" \
    --prepare "rm -rf $OUT/sw.ea" "${args[@]}"
echo "load between: $(cut -d' ' -f1-3 /proc/loadavg)"
args=()
for i in "${!NAMES[@]}"; do
    args+=(-n "sigma-cli ${NAMES[$i]}" "${PY_CMDS[$i]}")
done
hyperfine --runs "$SIGMA_RUNS" --export-json "$OUT/py.json" \
    --prepare "rm -rf $OUT/py.ea && mkdir -p $OUT/py.ea" "${args[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$SW" convert -t elastalert -q $RULES -o "$OUT/count.ea/" 2>&1 | grep "converted" || true
echo "sigwatch elastalert files: $(find "$OUT/count.ea" -type f | wc -l)"
python3 - "$OUT/sw.json" "$OUT/py.json" "${NAMES[@]}" <<'PY'
import json, statistics, sys
r = {}
for f in sys.argv[1:3]:
    r.update({x["command"]: x for x in json.load(open(f))["results"]})
def wall(x):
    return statistics.median(x["times"])
# hyperfine 1.x exports the mean user and system time only; newer ones give them per run.
per_run = isinstance(next(iter(r.values())).get("user"), list)
def cpu(x):
    return statistics.median(u + s for u, s in zip(x["user"], x["system"])) if per_run else x["user"] + x["system"]
kind = "median" if per_run else "mean"
for target in sys.argv[3:]:
    sw, py = r[f"sigwatch {target}"], r[f"sigma-cli {target}"]
    for name, x in (("sigwatch", sw), ("sigma-cli", py)):
        print(f"{target:22} {name:10} median wall {wall(x):7.3f} s, {kind} CPU (user+sys) {cpu(x):7.3f} s  ({len(x['times'])} runs)")
    print(f"{target:22} sigma-cli / sigwatch: wall {wall(py) / wall(sw):.0f}x, CPU {cpu(py) / cpu(sw):.0f}x")
PY
