"""Helpers of tools/lucene-compare/run.sh: queries file from `sigwatch convert --json`, and
comparison of the harness's hits with reference matches (hand-written expectations, or the
engine's matches from crates/engine/examples/match_lines.rs)."""
import json
import os
import sys
from collections import Counter, defaultdict


def query_id(doc, i, stem_ids):
    """The label of output i of a converted rule. Rules are named by path and id together: a
    rule id may repeat across files, and a file may hold several rules (collections)."""
    if stem_ids:
        return os.path.splitext(os.path.basename(doc["path"]))[0]
    return f"{doc['path']}|{doc['rule_id'] or ''}#{i}"


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


def read_engine(path, stem_ids=False):
    """Engine matches by query id: {id: set(lines)}."""
    engine = defaultdict(set)
    for line in open(path, encoding="utf-8"):
        m = json.loads(line)
        engine[query_id(m, m.get("variant", 0), stem_ids)].add(m["line"])
    return engine


def expected(hits_jsonl, expected_jsonl, engine_jsonl=None):
    """Fixtures: Lucene's hits (and the engine's matches, when given) must be the hand-checked
    expectation of every fixture rule."""
    hits = read_hits(hits_jsonl)
    engine = read_engine(engine_jsonl, stem_ids=True) if engine_jsonl else None
    bad = n = 0
    for line in open(expected_jsonl, encoding="utf-8"):
        e = json.loads(line)
        n += 1
        h = hits.get(e["rule"])
        got = None if h is None else h.get("hits")
        if h is None or h.get("error") or got != e["hits"]:
            bad += 1
            print(f"DIFF {e['rule']}: lucene {got} {h and h.get('error') or ''}, expected {e['hits']}")
        if engine is not None:
            mine = sorted(engine.get(e["rule"], set()))
            if mine != e["hits"]:
                bad += 1
                print(f"DIFF {e['rule']}: engine {mine}, expected {e['hits']}")
    who = "Lucene's hits and the engine's matches" if engine is not None else "Lucene's hits"
    print(f"lucene-compare fixtures: {n} rules, {bad} differences ({who} against expected.jsonl)")
    sys.exit(1 if bad else 0)


def group(reason):
    """A short class for a refusal message (without rule ids and paths)."""
    if reason is None:
        return None
    r = reason
    for sep in ("): ", ": "):
        if sep in r and r.startswith("rule "):
            r = r.split(sep, 1)[1]
            break
    return r.split(" (")[0][:110]


def report(convert_jsonl, hits_jsonl, engine_jsonl=None, status_jsonl=None, diffs_out=None):
    hits = read_hits(hits_jsonl)
    events = int(os.environ.get("EVENT_COUNT", "0"))
    docs = [json.loads(line) for line in open(convert_jsonl, encoding="utf-8")]
    converted = [d for d in docs if d["error"] is None]
    refused = Counter(group(d["error"]) for d in docs if d["error"] is not None)
    failed = {k: h for k, h in hits.items() if h.get("error")}
    warned = {k: h for k, h in hits.items() if h.get("warnings")}
    print(f"rules: {len(docs)}; converted: {len(converted)} ({len(hits)} queries); refused: {sum(refused.values())}")
    for reason, n in refused.most_common():
        print(f"  {n:5} refused: {reason}")
    print(f"queries parsed and run by Lucene: {len(hits) - len(failed)} of {len(hits)}; "
          f"failed: {len(failed)}; over a Lucene limit (warnings): {len(warned)}")
    for k, h in sorted(failed.items()):
        print(f"  FAILED {k}: {h['error'][-200:]}")
    for k, h in sorted(warned.items()):
        print(f"  WARNING {k}: {h['warnings'][0][-200:]}")
    if engine_jsonl is None:
        print("engine comparison: no engine matches given")
        sys.exit(1 if failed else 0)

    engine = read_engine(engine_jsonl)
    status = {}
    if status_jsonl and os.path.exists(status_jsonl):
        for line in open(status_jsonl, encoding="utf-8"):
            s = json.loads(line)
            status[f"{s['path']}|{s['rule_id'] or ''}"] = s
        st = Counter(s["status"] for s in status.values())
        print(f"engine: {len(status)} rules: " + ", ".join(f"{n} {k}" for k, n in sorted(st.items())))
    # Every converted query must be one the engine evaluated too.
    not_in_engine = []
    for d in converted:
        s = status.get(f"{d['path']}|{d['rule_id'] or ''}")
        if s is not None and (s["status"] != "ok" or s["variants"] != len(d["outputs"])):
            not_in_engine.append((d, s))
    for d, s in not_in_engine:
        print(f"  NOT COMPARED {d['path']}: engine {s['status']} {s.get('reason') or ''}"
              f" ({s['variants']} variants, {len(d['outputs'])} outputs)")
    skip = {query_id(d, i, False) for d, _ in not_in_engine for i in range(len(d["outputs"]))}
    compared = [k for k, h in hits.items() if not h.get("error") and k not in skip]
    only_engine_queries = sorted(set(engine) - set(hits))
    diffs = []
    agree_pairs = 0
    for qid in sorted(compared):
        lucene = set(hits[qid].get("hits") or [])
        ref = engine.get(qid, set())
        if lucene != ref:
            diffs.append({"id": qid, "only_lucene": sorted(lucene - ref), "only_engine": sorted(ref - lucene),
                          "both": len(lucene & ref), "warnings": hits[qid].get("warnings")})
    differing_pairs = sum(len(d["only_lucene"]) + len(d["only_engine"]) for d in diffs)
    for d in diffs:
        print(f"  DIFF {d['id']}: both {d['both']}, only lucene {len(d['only_lucene'])} {d['only_lucene'][:8]}, "
              f"only engine {len(d['only_engine'])} {d['only_engine'][:8]}")
    if diffs_out:
        with open(diffs_out, "w", encoding="utf-8") as f:
            for d in diffs:
                f.write(json.dumps(d) + "\n")
    matched = sum(len(engine.get(q, ())) for q in compared)
    print(f"engine matches in queries the engine and Lucene both ran: {matched} "
          f"(lucene hits: {sum(len(hits[q].get('hits') or []) for q in compared)})")
    if only_engine_queries:
        print(f"engine matches of rules without a compared Lucene query: {len(only_engine_queries)} "
              f"(e.g. {only_engine_queries[:3]})")
    if events:
        pairs = len(compared) * events
        agree_pairs = pairs - differing_pairs
        print(f"rule x event pairs compared: {len(compared)} queries x {events} events = {pairs}; "
              f"agreeing: {agree_pairs}; differing: {differing_pairs} in {len(diffs)} queries")
    else:
        print(f"queries compared: {len(compared)}; differing: {len(diffs)} ({differing_pairs} events)")
    sys.exit(1 if diffs or failed else 0)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    flags = [a for a in args if a.startswith("--")]
    args = [a for a in args if not a.startswith("--")]
    if cmd == "queries":
        queries(args[0], "--stem-ids" in flags)
    elif cmd == "expected":
        expected(*args)
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(f"unknown command {cmd}")
