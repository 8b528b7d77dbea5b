#!/usr/bin/env bash
# Self-test of the Lucene harness: hand-written events and queries with their expected hits
# (selftest/*.jsonl, each query line carries "expect", "expect_error" or "expect_warning"), plus a
# few checks of the command line itself. Exits non-zero on any difference.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="$HERE/run.sh"
FIX="$HERE/selftest"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0

# Runs the harness in --check mode and adds its "N passed, N failed" line to the totals.
check() {
    local name="$1"
    shift
    echo "== $name"
    local rc=0
    "$RUN" "$@" --check --out "$TMP/out.jsonl" 2>"$TMP/err" || rc=$?
    grep -E '^FAIL |^lucene-harness' "$TMP/err" || true
    local line
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/err" | tail -1 || true)"
    if [ -z "$line" ]; then
        cat "$TMP/err"
        echo "   harness did not report a result (exit $rc)"
        failed=$((failed + 1))
        return
    fi
    echo "   $line"
    local p f
    p="${line%% passed*}"
    f="${line#*passed, }"
    f="${f%% failed}"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "   exit code $rc"
        failed=$((failed + 1))
    fi
}

# One command-line expectation: the harness exits with CODE and stderr contains TEXT.
expect_exit() {
    local name="$1" code="$2" text="$3"
    shift 3
    local rc=0
    "$RUN" "$@" >"$TMP/out.jsonl" 2>"$TMP/err" || rc=$?
    if [ "$rc" -eq "$code" ] && grep -qF -- "$text" "$TMP/err"; then
        echo "== $name: ok"
        passed=$((passed + 1))
    else
        echo "== $name: FAILED (exit $rc, wanted $code and stderr containing: $text)"
        sed 's/^/   /' "$TMP/err"
        failed=$((failed + 1))
    fi
}

check "query semantics (ES defaults: lenient, max_determinized_states 10000)" \
    --events "$FIX/events.jsonl" --queries "$FIX/queries.jsonl"
check "automaton state limit and its fallback" \
    --events "$FIX/events.jsonl" --queries "$FIX/queries-limits.jsonl" --max-states 1000
check "strict mode (lenient=false)" \
    --events "$FIX/events.jsonl" --queries "$FIX/queries-strict.jsonl" --strict --max-states 1000 \
    --max-states-fallback 0

# The same events split into a plain and a gzip file: numbering must run on across files.
head -n 10 "$FIX/events.jsonl" >"$TMP/part1.jsonl"
tail -n +11 "$FIX/events.jsonl" | gzip -c >"$TMP/part2.jsonl.gz"
check "--all-keyword over a plain + gzip file pair" \
    --events "$TMP/part1.jsonl" --events "$TMP/part2.jsonl.gz" --queries "$FIX/queries-all-keyword.jsonl" \
    --all-keyword

printf '{"a":"x"}\n\n{"a":"y"}\n' >"$TMP/blank.jsonl"
printf '%s\n' '{"id":"all","query":"*","expect":[0,1,2]}' '{"id":"y","query":"a:y","expect":[2]}' \
    '{"id":"exists","query":"_exists_:a","expect":[0,2]}' >"$TMP/blank-queries.jsonl"
expect_exit "a blank event line is an error" 2 "blank.jsonl:2: blank line (event 1)" \
    --events "$TMP/blank.jsonl" --queries "$TMP/blank-queries.jsonl"
check "--blank-lines empty keeps line numbers" \
    --events "$TMP/blank.jsonl" --queries "$TMP/blank-queries.jsonl" --blank-lines empty

printf '{"a":"x"}\n{"a":}\n' >"$TMP/bad.jsonl"
expect_exit "invalid JSON is reported with its place" 2 "bad.jsonl:2 (event 1): invalid JSON" \
    --events "$TMP/bad.jsonl" --queries "$TMP/blank-queries.jsonl"
printf '{"a":1,"a":2}\n' >"$TMP/dup.jsonl"
expect_exit "duplicate keys are rejected (as Elasticsearch does)" 2 "Duplicate field 'a'" \
    --events "$TMP/dup.jsonl" --queries "$TMP/blank-queries.jsonl"
printf '[1]\n' >"$TMP/array.jsonl"
expect_exit "an event must be an object" 2 "an event must be a JSON object" \
    --events "$TMP/array.jsonl" --queries "$TMP/blank-queries.jsonl"
printf '{"id":"x"}\n' >"$TMP/noquery.jsonl"
expect_exit "a query line needs id and query" 2 "needs \"id\" and \"query\"" \
    --events "$TMP/blank.jsonl" --blank-lines empty --queries "$TMP/noquery.jsonl"

expect_exit "a missing queries file is a usage error" 2 "cannot read queries file" \
    --events "$TMP/blank.jsonl" --blank-lines empty --queries "$TMP/does-not-exist.jsonl"

# Output format of a normal run: one line per query, in input order, errors inline.
printf '%s\n' '{"id":"q1","query":"a:x"}' '{"id":"q2","query":"a:("}' '{"id":"q3","query":"*"}' >"$TMP/fmt.jsonl"
"$RUN" --events "$TMP/blank.jsonl" --blank-lines empty --queries "$TMP/fmt.jsonl" >"$TMP/fmt.out" 2>"$TMP/err"
if [ "$(sed -n 1p "$TMP/fmt.out")" = '{"id":"q1","ok":true,"hits":[0],"count":1}' ] &&
    sed -n 2p "$TMP/fmt.out" | grep -q '^{"id":"q2","ok":false,"error":"Cannot parse ' &&
    [ "$(sed -n 3p "$TMP/fmt.out")" = '{"id":"q3","ok":true,"hits":[0,1,2],"count":3}' ] &&
    [ "$(wc -l <"$TMP/fmt.out")" -eq 3 ] &&
    grep -q '^queries: 3, parsed: 2, failed: 1,' "$TMP/err"; then
    echo "== output format: ok"
    passed=$((passed + 1))
else
    echo "== output format: FAILED"
    sed 's/^/   /' "$TMP/fmt.out" "$TMP/err"
    failed=$((failed + 1))
fi

echo "lucene-harness selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
