#!/usr/bin/env bash
# Throughput of `sigwatch dump` (reading, decompressing, EVTX rendering, JSON validation and
# output; no matching): the parse-only baseline of the hunt benchmark.
#
#   SIGWATCH_DATA=/path/to/shared/data bench/dump.sh [runs]
#
# Inputs:
#   evtx      every .evtx of evtx-attack-samples (277 files, 8,255 records), copied PASSES
#             times (a file named twice is read once) to reach >= 200,000 records
#   jsonl.gz  security-datasets (75 gzip JSON-lines files, 443,200 events, plus its SOURCE
#             note read as one text line)
# Each is dumped to /dev/null with --threads 2 and --threads 1; hyperfine (apt-get install
# hyperfine) times RUNS runs (default 3) and the median is reported as events/s. Without
# hyperfine, a plain loop takes the median. events/cpu_s (events per second of CPU time, user +
# system, mean of the runs) moves less than wall time when other work shares the machine. The
# machine is shared: compare the rows of one run with each other (ratios), not with numbers
# from another day.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="${SIGWATCH_DATA:?set SIGWATCH_DATA to the shared data folder}"
RUNS="${1:-3}"
PASSES=25

cargo build --release -p sigwatch --quiet
BIN="$PWD/target/release/sigwatch"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/evtx/p01"
i=0
while IFS= read -r -d '' file; do
    i=$((i + 1))
    cp "$file" "$WORK/evtx/p01/$(printf '%03d' "$i").evtx"
done < <(find "$DATA/evtx-attack-samples" -name '*.evtx' -print0 | sort -z)
# dump reads a file reached twice once: every pass is a copy of its own.
EVTX_ARGS=("$WORK/evtx/p01")
for p in $(seq 2 "$PASSES"); do
    cp -r "$WORK/evtx/p01" "$WORK/evtx/$(printf 'p%02d' "$p")"
    EVTX_ARGS+=("$WORK/evtx/$(printf 'p%02d' "$p")")
done

events_of() { # args... -> event count from dump's summary line
    "$BIN" dump "$@" 2>&1 >/dev/null | sed -n 's/^dump: .* \([0-9][0-9]*\) events, .*/\1/p'
}

median_seconds() { # threads args... -> "median wall seconds" "mean CPU seconds" of RUNS runs
    local threads="$1"
    shift
    if command -v hyperfine >/dev/null; then
        local quoted
        quoted="$(printf '%q ' "$@")"
        hyperfine --runs "$RUNS" --warmup 1 --style none \
            --export-json "$WORK/h.json" \
            "$BIN dump --threads $threads $quoted >/dev/null 2>&1" >/dev/null 2>"$WORK/h.err" ||
            { cat "$WORK/h.err" >&2; exit 1; }
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["median"], r["user"]+r["system"])' \
            "$WORK/h.json"
    else
        for _ in $(seq "$RUNS"); do
            /usr/bin/time -f '%e %U %S' -o "$WORK/t" "$BIN" dump --threads "$threads" "$@" >/dev/null 2>&1
            cat "$WORK/t"
        done | sort -n | awk '{w[NR]=$1; c+=$2+$3} END {print w[int((NR+1)/2)], c/NR}'
    fi
}

printf '%-20s %7s %8s %9s %10s %9s %12s\n' input threads events median_s events/s cpu_s events/cpu_s
for name in "evtx x$PASSES" security-datasets; do
    case "$name" in
        evtx*) args=("${EVTX_ARGS[@]}") ;;
        *) args=("$DATA/security-datasets") ;;
    esac
    events="$(events_of "${args[@]}")"
    for threads in 2 1; do
        read -r seconds cpu <<<"$(median_seconds "$threads" "${args[@]}")"
        rate="$(python3 -c "print(round($events / $seconds))")"
        cpu_rate="$(python3 -c "print(round($events / $cpu))")"
        printf '%-20s %7s %8s %9.3f %10s %9.3f %12s\n' \
            "$name" "$threads" "$events" "$seconds" "$rate" "$cpu" "$cpu_rate"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
