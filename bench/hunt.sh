#!/usr/bin/env bash
# Speed of `sigwatch hunt` with all of sigma/rules/windows (~2,400 rules), side by side with
# its parse-only baseline (`sigwatch dump`) and with RSigma, on the same machine in one run.
#
#   SIGWATCH_DATA=/path/to/shared/data [WARMUP=1] [RSIGMA=path] bench/hunt.sh [runs]
#
# Inputs (made in a temporary folder under /tmp, removed at the end; nothing in the repo):
#   evtx   every .evtx of evtx-attack-samples copied into PASSES folders, all named on the
#          command line (>= 200,000 records; copies, as a file named twice is read once)
#   jsonl  security-datasets decompressed first (75 files, 443,201 lines), so neither tool
#          spends time in gzip
# Rows (hyperfine medians of RUNS runs, default 3, after WARMUP runs, default 1; both cores):
#   dump evtx / hunt evtx          -> events/s and the hunt/dump time ratio (target <= 1.5)
#   hunt jsonl / rsigma jsonl      -> events/s and the rsigma/hunt time ratio (target >= 3);
#                                     rsigma: `engine eval --logsource-routing` reading NDJSON
#                                     from stdin (one process over all files)
# Then the start-up: hunt over the first EVTX file alone (a few events: loading, resolving and
# compiling the rules is nearly all of it; what every small hunt pays), and the evtx ratio
# with each run's start-up taken out (what the engine adds per event).
# Then the match counts of hunt and rsigma on the jsonl input, and the peak memory (max RSS,
# /usr/bin/time -v) of hunt on each input and on the evtx input named twice as often (memory
# must not grow with the input).
# events/cpu_s (events per second of CPU time, user + system) moves less than wall time when
# other work shares the machine: compare rows of one run (ratios), not numbers across days.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="${SIGWATCH_DATA:?set SIGWATCH_DATA to the shared data folder}"
RUNS="${1:-3}"
WARMUP="${WARMUP:-1}"
PASSES=25
RULES="$DATA/sigma/rules/windows"
RSIGMA="${RSIGMA:-$(command -v rsigma || echo /root/.cargo/bin/rsigma)}"

cargo build --release -p sigwatch --quiet
BIN="$PWD/target/release/sigwatch"

WORK="$(mktemp -d /tmp/sigwatch-hunt-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/evtx/p01" "$WORK/jsonl"
i=0
while IFS= read -r -d '' file; do
    i=$((i + 1))
    cp "$file" "$WORK/evtx/p01/$(printf '%03d' "$i").evtx"
done < <(find "$DATA/evtx-attack-samples" -name '*.evtx' -print0 | sort -z)
# hunt and dump read a file reached twice once, so every pass is a copy of its own (links would
# name the same files): PASSES folders for the runs, twice as many for the memory check.
EVTX_ARGS=()
EVTX_ARGS2=()
for p in $(seq "$((2 * PASSES))"); do
    dir="$WORK/evtx/$(printf 'p%02d' "$p")"
    [[ -d $dir ]] || cp -r "$WORK/evtx/p01" "$dir"
    ((p <= PASSES)) && EVTX_ARGS+=("$dir")
    EVTX_ARGS2+=("$dir")
done
i=0
while IFS= read -r -d '' file; do
    i=$((i + 1))
    gzip -dc "$file" >"$WORK/jsonl/$(printf '%03d' "$i").jsonl"
done < <(find "$DATA/security-datasets" -name '*.gz' -print0 | sort -z)

events_of() { # args... -> event count from dump's summary line
    "$BIN" dump "$@" 2>&1 >/dev/null | sed -n 's/^dump: .* \([0-9][0-9]*\) events, .*/\1/p'
}

# name command -> "median_wall_s cpu_s"
timed() {
    local name="$1" cmd="$2"
    hyperfine --runs "$RUNS" --warmup "$WARMUP" --style none --export-json "$WORK/$name.json" \
        "$cmd" >/dev/null 2>"$WORK/$name.err" || { cat "$WORK/$name.err" >&2; exit 1; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["median"], r["user"]+r["system"])' \
        "$WORK/$name.json"
}

q() { printf '%q ' "$@"; }

EVTX_EVENTS="$(events_of "${EVTX_ARGS[@]}")"
JSONL_EVENTS="$(events_of "$WORK/jsonl")"
CAT_JSONL="cat $(q "$WORK"/jsonl/*.jsonl)"

declare -A CMD=(
    [dump-evtx]="$BIN dump $(q "${EVTX_ARGS[@]}") >/dev/null 2>&1"
    [hunt-evtx]="$BIN hunt -q --format jsonl -r $(q "$RULES") $(q "${EVTX_ARGS[@]}") >/dev/null"
    [dump-jsonl]="$BIN dump $(q "$WORK/jsonl") >/dev/null 2>&1"
    [hunt-jsonl]="$BIN hunt -q --format jsonl -r $(q "$RULES") $(q "$WORK/jsonl") >/dev/null"
    [rsigma-jsonl]="$CAT_JSONL | $RSIGMA engine eval -q --logsource-routing -r $(q "$RULES") >/dev/null"
)
declare -A EVENTS=(
    [dump-evtx]=$EVTX_EVENTS [hunt-evtx]=$EVTX_EVENTS
    [dump-jsonl]=$JSONL_EVENTS [hunt-jsonl]=$JSONL_EVENTS [rsigma-jsonl]=$JSONL_EVENTS
)
declare -A WALL CPU
printf '%-14s %8s %9s %10s %9s %12s\n' run events median_s events/s cpu_s events/cpu_s
for name in dump-evtx hunt-evtx dump-jsonl hunt-jsonl rsigma-jsonl; do
    if [[ $name == rsigma-* ]] && [[ ! -x $RSIGMA ]]; then
        echo "$name: rsigma not found (set RSIGMA)"
        continue
    fi
    read -r WALL[$name] CPU[$name] <<<"$(timed "$name" "${CMD[$name]}")"
    events="${EVENTS[$name]}"
    printf '%-14s %8s %9.3f %10.0f %9.3f %12.0f\n' "$name" "$events" "${WALL[$name]}" \
        "$(python3 -c "print($events / ${WALL[$name]})")" "${CPU[$name]}" \
        "$(python3 -c "print($events / ${CPU[$name]})")"
done
ratio() { python3 -c "print(f'{($1) / ($2):.2f}')"; }
echo
echo "hunt/dump time, evtx:    wall $(ratio "${WALL[hunt-evtx]}" "${WALL[dump-evtx]}")  cpu $(ratio "${CPU[hunt-evtx]}" "${CPU[dump-evtx]}")  (target <= 1.5)"
echo "hunt/dump time, jsonl:   wall $(ratio "${WALL[hunt-jsonl]}" "${WALL[dump-jsonl]}")  cpu $(ratio "${CPU[hunt-jsonl]}" "${CPU[dump-jsonl]}")"
ONE="$WORK/evtx/p01/001.evtx"
read -r one_wall one_cpu <<<"$(timed hunt-one "$BIN hunt -q --format jsonl -r $(q "$RULES") $(q "$ONE") >/dev/null")"
read -r dump_one_wall dump_one_cpu <<<"$(timed dump-one "$BIN dump $(q "$ONE") >/dev/null 2>&1")"
printf 'start-up, hunt over one evtx file (%s events): wall %.3f s  cpu %.3f s (dump: %.3f s, %.3f s)\n' \
    "$(events_of "$ONE")" "$one_wall" "$one_cpu" "$dump_one_wall" "$dump_one_cpu"
# The evtx ratio split: what the engine adds per event (both runs less their start-up, as
# measured on the one small file) and what the start-up adds (rules loaded and compiled once).
echo "hunt/dump time, evtx, start-up left out: wall $(ratio "${WALL[hunt-evtx]} - $one_wall" "${WALL[dump-evtx]} - $dump_one_wall")  cpu $(ratio "${CPU[hunt-evtx]} - $one_cpu" "${CPU[dump-evtx]} - $dump_one_cpu")"
if [[ -n ${WALL[rsigma-jsonl]:-} ]]; then
    echo "rsigma/hunt time, jsonl: wall $(ratio "${WALL[rsigma-jsonl]}" "${WALL[hunt-jsonl]}")  cpu $(ratio "${CPU[rsigma-jsonl]}" "${CPU[hunt-jsonl]}")  (target >= 3)"
    echo
    hunt_matches="$("$BIN" hunt -q --format jsonl -r "$RULES" "$WORK/jsonl" | wc -l)"
    # shellcheck disable=SC2086
    rsigma_matches="$(eval "$CAT_JSONL" | "$RSIGMA" engine eval -q --logsource-routing -r "$RULES" | wc -l)"
    echo "matches on jsonl: hunt $hunt_matches, rsigma $rsigma_matches"
fi
echo
for name in evtx evtx-x2 jsonl; do
    case "$name" in
        evtx) args=("${EVTX_ARGS[@]}") ;;
        evtx-x2) args=("${EVTX_ARGS2[@]}") ;;
        jsonl) args=("$WORK/jsonl") ;;
    esac
    /usr/bin/time -v "$BIN" hunt -q --format jsonl -r "$RULES" "${args[@]}" >/dev/null 2>"$WORK/time.txt"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")"
    echo "peak memory, hunt $name: $((rss / 1024)) MB"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
