#!/usr/bin/env bash
# `lucene` queries against real Lucene: convert rules with `sigwatch convert -t lucene`, run the
# queries with the Lucene harness (tools/lucene-harness) over events, and compare the hits with
# the reference matches.
#
#   tools/lucene-compare/run.sh fixtures
#       The fixture rules of crates/convert/tests/fixtures over its events; the reference is the
#       hand-checked expected.jsonl, which Lucene's hits and the engine's matches must both give.
#       Exit 1 on any difference.
#   tools/lucene-compare/run.sh corpus [ENGINE_MATCHES.jsonl]
#       All rules of rules/windows under the windows-flat pipeline over the security-datasets
#       events (SIGWATCH_DATA). Reports how many queries parse, fail or exceed Lucene's limits,
#       runs the engine over the same events (crates/engine/examples/match_lines.rs; or takes
#       its matches from ENGINE_MATCHES, one {"rule_id", "path", "variant", "line"} per match,
#       line = 0-based line of the concatenated events) and compares every rule x event pair.
#       Exit 1 on any difference. REUSE_HITS=1 reuses the previous Lucene hits when the queries
#       are unchanged. See tools/lucene-compare/README.md.
#
# The harness is tools/lucene-harness/run.sh (LUCENE_HARNESS overrides). Work files go to
# target/lucene-compare/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tools/lucene-compare"
HARNESS="${LUCENE_HARNESS:-$ROOT/tools/lucene-harness/run.sh}"
WORK="$ROOT/target/lucene-compare"
MODE="${1:-fixtures}"
[ -x "$HARNESS" ] || [ -f "$HARNESS" ] || { echo "lucene-compare: harness $HARNESS not found" >&2; exit 2; }
mkdir -p "$WORK"
# The fixtures are small: the dev build (which `cargo test` has already made) is enough there;
# the corpus run wants the release build.
if [ "$MODE" = fixtures ]; then
    cargo build -q -p sigwatch -p sigwatch-engine --example match_lines --manifest-path "$ROOT/Cargo.toml"
    cargo build -q -p sigwatch --manifest-path "$ROOT/Cargo.toml"
    SW="$ROOT/target/debug/sigwatch"
    MATCH="$ROOT/target/debug/examples/match_lines"
else
    cargo build --release -q -p sigwatch-engine --example match_lines --manifest-path "$ROOT/Cargo.toml"
    cargo build --release -q -p sigwatch --manifest-path "$ROOT/Cargo.toml"
    SW="$ROOT/target/release/sigwatch"
    MATCH="$ROOT/target/release/examples/match_lines"
fi

case "$MODE" in
fixtures)
    FIX="$ROOT/crates/convert/tests/fixtures"
    "$SW" convert -t lucene --json -q "$FIX/rules" > "$WORK/fixtures-convert.jsonl"
    python3 "$HERE/compare.py" queries "$WORK/fixtures-convert.jsonl" --stem-ids > "$WORK/fixtures-queries.jsonl"
    bash "$HARNESS" --events "$FIX/events.jsonl" --queries "$WORK/fixtures-queries.jsonl" \
        --out "$WORK/fixtures-hits.jsonl"
    "$MATCH" "$FIX/rules" "$FIX/events.jsonl" > "$WORK/fixtures-engine.jsonl"
    python3 "$HERE/compare.py" expected "$WORK/fixtures-hits.jsonl" "$FIX/expected.jsonl" \
        "$WORK/fixtures-engine.jsonl"
    ;;
corpus)
    DATA="${SIGWATCH_DATA:-$(cd "$ROOT/.." && pwd)/shared/data}"
    EVENTS="$WORK/security-datasets.jsonl"
    if [ ! -s "$EVENTS" ]; then
        # One file without blank lines, so that hit line numbers are lines of this file (sorted
        # for stability); the engine must read the same file.
        find "$DATA/security-datasets" -name '*.gz' | sort | xargs zcat | grep -v '^[[:space:]]*$' > "$EVENTS"
    fi
    RULES="$DATA/sigma/rules/windows"
    started=$(date +%s)
    "$SW" convert -t lucene -p windows-flat --json -q "$RULES" > "$WORK/corpus-convert.jsonl" || true
    python3 "$HERE/compare.py" queries "$WORK/corpus-convert.jsonl" > "$WORK/corpus-queries.jsonl"
    ENGINE="${2:-}"
    if [ -z "$ENGINE" ]; then
        ENGINE="$WORK/corpus-engine.jsonl"
        echo "== engine: $MATCH" >&2
        "$MATCH" -p windows-flat --status "$WORK/corpus-engine-status.jsonl" "$RULES" "$EVENTS" > "$ENGINE"
    fi
    if [ "${REUSE_HITS:-0}" = 1 ] && cmp -s "$WORK/corpus-queries.jsonl" "$WORK/corpus-hits.queries.jsonl"; then
        # The queries are byte for byte those of the last harness run: its hits still hold.
        echo "== lucene harness: same queries as the last run, reusing its hits (REUSE_HITS=1)" >&2
    else
        echo "== lucene harness" >&2
        rm -f "$WORK/corpus-hits.queries.jsonl"
        bash "$HARNESS" --events "$EVENTS" --queries "$WORK/corpus-queries.jsonl" \
            --out "$WORK/corpus-hits.jsonl"
        cp "$WORK/corpus-queries.jsonl" "$WORK/corpus-hits.queries.jsonl"
    fi
    EVENT_COUNT=$(wc -l < "$EVENTS") python3 "$HERE/compare.py" report "$WORK/corpus-convert.jsonl" \
        "$WORK/corpus-hits.jsonl" "$ENGINE" "$WORK/corpus-engine-status.jsonl" "$WORK/corpus-diffs.jsonl" \
        && rc=0 || rc=$?
    echo "corpus comparison: $(( $(date +%s) - started )) s wall; differences in $WORK/corpus-diffs.jsonl" >&2
    exit $rc
    ;;
*)
    echo "usage: $0 fixtures | corpus [ENGINE_MATCHES.jsonl]" >&2
    exit 2
    ;;
esac
