#!/usr/bin/env bash
# Loading and validating the 3,754 rules of rules/ + emerging threats + threat hunting:
# sigwatch check (pinned to one core) against pySigma's loader (what `sigma check` spends its
# time on before validators), side by side in one hyperfine run.
#
#   bench/check.sh            # needs SIGWATCH_DATA or ../shared/data, hyperfine, pip sigma-cli
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SIGWATCH_DATA:-$(cd .. && pwd)/shared/data}"
S="$DATA/sigma"
RULES=("$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting")
command -v hyperfine >/dev/null || { echo "install hyperfine: apt-get install -y hyperfine" >&2; exit 1; }
python3 -c "import sigma.collection" 2>/dev/null || { echo "install pySigma: pip install sigma-cli" >&2; exit 1; }
cargo build --release -q -p sigwatch
BIN=target/release/sigwatch
LOADER=$(mktemp --suffix=.py)
trap 'rm -f "$LOADER"' EXIT
cat > "$LOADER" <<'PY'
import sys
from sigma.collection import SigmaCollection
c = SigmaCollection.load_ruleset(sys.argv[1:])
assert len(c.rules) == 3754, len(c.rules)
PY
# Both commands must succeed on the corpus (sigwatch: 0 errors).
"$BIN" check -q "${RULES[@]}" | tail -1
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-json "${OUT:-/tmp/bench-check.json}" \
  -n "sigwatch check (1 core)" "taskset -c 0 $BIN check -q ${RULES[*]} > /dev/null" \
  -n "pySigma load_ruleset" "taskset -c 0 python3 $LOADER ${RULES[*]}"
python3 - "${OUT:-/tmp/bench-check.json}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
med = {x["command"]: x["median"] for x in r}
a, b = r[0]["median"], r[1]["median"]
print(f"median: sigwatch {a*1000:.1f} ms, pySigma {b:.2f} s, ratio {b/a:.0f}x")
PY
