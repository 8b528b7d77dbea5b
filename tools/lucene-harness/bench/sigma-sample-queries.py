#!/usr/bin/env python3
"""Benchmark input for the Lucene harness: turns Sigma rules into query_string queries of the
shapes a converter produces (exact terms, *contains*, prefix/suffix wildcards, regexes, OR lists,
AND/OR/NOT conditions, field-less keywords, _exists_).

This is a LOAD GENERATOR, not a converter: it ignores case-insensitivity, most modifiers'
exact semantics and field mappings. Use its output to time the harness, never as a reference.

usage: sigma-sample-queries.py RULES_DIR > queries.jsonl    (needs PyYAML)
"""
import json
import re
import sys
from pathlib import Path

import yaml

SPECIAL = set('\\+-!():^[]"{}~*?|&/ <>=')


def esc(s, keep_wildcards):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if keep_wildcards and c in "*?":
            out.append(c)
        elif keep_wildcards and c == "\\" and i + 1 < len(s) and s[i + 1] in "*?\\":
            out.append("\\" + s[i + 1])
            i += 1
        elif c in SPECIAL:
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def value_query(field, mods, v):
    prefix = f"{esc(field, False)}:" if field else ""
    if v is None:
        return f"NOT _exists_:{esc(field, False)}" if field else None
    if isinstance(v, bool):
        v = "true" if v else "false"
    if isinstance(v, (int, float)) and not mods:
        return f"{prefix}{v}"
    s = str(v)
    if "re" in mods:
        return prefix + "/" + s.replace("/", "\\/") + "/"
    if "exists" in mods:
        return f"_exists_:{esc(field, False)}" if v else f"NOT _exists_:{esc(field, False)}"
    body = esc(s, True)
    if "contains" in mods:
        body = "*" + body + "*"
    elif "startswith" in mods:
        body = body + "*"
    elif "endswith" in mods:
        body = "*" + body
    elif "*" not in s and "?" not in s:
        return prefix + quote(s)
    return prefix + body


def selection_query(sel):
    if isinstance(sel, list):
        parts = []
        for item in sel:
            if isinstance(item, dict):
                q = selection_query(item)
            else:
                q = value_query(None, [], item)
            if q:
                parts.append(q)
        return "(" + " OR ".join(parts) + ")" if parts else None
    if not isinstance(sel, dict):
        return value_query(None, [], sel)
    clauses = []
    for key, vals in sel.items():
        field, *mods = str(key).split("|")
        vals = vals if isinstance(vals, list) else [vals]
        qs = [q for q in (value_query(field, mods, v) for v in vals) if q]
        if not qs:
            continue
        joiner = " AND " if "all" in mods else " OR "
        clauses.append(qs[0] if len(qs) == 1 else "(" + joiner.join(qs) + ")")
    return "(" + " AND ".join(clauses) + ")" if clauses else None


def condition_query(cond, sels):
    tokens = re.findall(r"\(|\)|[^\s()]+", cond)
    out = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        low = t.lower()
        if low in ("and", "or", "not"):
            out.append(low.upper())
        elif t in "()":
            out.append(t)
        elif low in ("1", "all") and i + 2 < len(tokens) and tokens[i + 1] == "of":
            pat = tokens[i + 2]
            names = [n for n in sels if pat == "them" or re.fullmatch(pat.replace("*", ".*"), n)]
            qs = [sels[n] for n in names if sels.get(n)]
            out.append("(" + (" OR " if low == "1" else " AND ").join(qs) + ")" if qs else "*:*")
            i += 2
        elif t in sels and sels[t]:
            out.append(sels[t])
        else:
            return None
        i += 1
    return " ".join(out)


def main():
    root = Path(sys.argv[1])
    n = 0
    for path in sorted(root.rglob("*.yml")):
        try:
            rule = yaml.safe_load(path.read_text(encoding="utf-8"))
        except Exception:
            continue
        if not isinstance(rule, dict) or not isinstance(rule.get("detection"), dict):
            continue
        det = dict(rule["detection"])
        cond = det.pop("condition", None)
        det.pop("timeframe", None)
        if not isinstance(cond, str):
            continue
        sels = {name: selection_query(s) for name, s in det.items()}
        q = condition_query(cond, sels)
        if not q:
            continue
        if (rule.get("logsource") or {}).get("category") == "process_creation":
            q = f"EventID:1 AND ({q})"
        print(json.dumps({"id": rule.get("id") or str(path), "query": q}))
        n += 1
    print(f"{n} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
