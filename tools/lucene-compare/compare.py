"""Helpers of tools/lucene-compare/run.sh: queries file from `sigwatch convert --json`, and
comparison of the harness's hits with reference matches."""
import json
import os
import sys
from collections import defaultdict


def query_id(doc, i, stem_ids):
    if stem_ids:
        return os.path.splitext(os.path.basename(doc["path"]))[0]
    return f"{doc['rule_id'] or doc['path']}#{i}"


def queries(convert_jsonl, stem_ids=False):
    for line in open(convert_jsonl, encoding="utf-8"):
        doc = json.loads(line)
        for i, out in enumerate(doc["outputs"]):
            print(json.dumps({"id": query_id(doc, i, stem_ids), "query": out["text"]}))


def read_hits(path):
    hits = {}
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        hits[d["id"]] = d
    return hits


def expected(hits_jsonl, expected_jsonl):
    hits = read_hits(hits_jsonl)
    bad = 0
    for line in open(expected_jsonl, encoding="utf-8"):
        e = json.loads(line)
        h = hits.get(e["rule"])
        got = None if h is None else h.get("hits")
        if h is None or h.get("error") or got != e["hits"]:
            bad += 1
            print(f"DIFF {e['rule']}: lucene {got} {h and h.get('error') or ''}, expected {e['hits']}")
    n = sum(1 for _ in open(expected_jsonl, encoding="utf-8"))
    print(f"lucene-compare fixtures: {n - bad} of {n} rules give the expected hits")
    sys.exit(1 if bad else 0)


def report(convert_jsonl, hits_jsonl, engine_jsonl=None):
    hits = read_hits(hits_jsonl)
    rules = refused = 0
    for line in open(convert_jsonl, encoding="utf-8"):
        d = json.loads(line)
        rules += 1
        refused += d["error"] is not None
    failed = [h for h in hits.values() if h.get("error")]
    warned = [h for h in hits.values() if h.get("warnings")]
    print(f"rules: {rules}, refused: {refused}, queries: {len(hits)}, "
          f"parsed and ran: {len(hits) - len(failed)}, failed: {len(failed)}, with warnings: {len(warned)}")
    for h in failed:
        print(f"  FAILED {h['id']}: {h['error'][-200:]}")
    for h in warned:
        print(f"  WARNING {h['id']}: {h['warnings'][0][-200:]}")
    if engine_jsonl is None:
        print("engine comparison: no engine matches given")
        sys.exit(1 if failed else 0)
    engine = defaultdict(set)
    for line in open(engine_jsonl, encoding="utf-8"):
        m = json.loads(line)
        engine[f"{m['rule_id']}#{m.get('variant', 0)}"].add(m["line"])
    events = int(os.environ.get("EVENT_COUNT", "0"))
    diffs = 0
    for qid, h in sorted(hits.items()):
        if h.get("error"):
            continue
        lucene = set(h.get("hits") or [])
        ref = engine.get(qid, set())
        if lucene != ref:
            diffs += 1
            print(f"  DIFF {qid}: only lucene {sorted(lucene - ref)[:10]}, only engine {sorted(ref - lucene)[:10]}")
    pairs = len(hits) * events if events else "?"
    print(f"rule x event pairs compared: {pairs}; rules with differences: {diffs}")
    sys.exit(1 if diffs or failed else 0)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "queries":
        queries(args[0], "--stem-ids" in args)
    elif cmd == "expected":
        expected(*args)
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(f"unknown command {cmd}")
