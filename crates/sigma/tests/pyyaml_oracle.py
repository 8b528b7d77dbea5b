#!/usr/bin/env python3
"""PyYAML's view of YAML files, as JSON lines, for the differential test in yaml_pyyaml.rs.

Usage: pyyaml_oracle.py FILE...   (or file names, one per line, on stdin when no FILE is given)

For each file prints one JSON object:
  {"path": ..., "docs": [VALUE, ...], "scalars": [[line, column, text], ...]}
or {"path": ..., "error": "..."} when PyYAML refuses the file.

VALUE is typed so that the Rust side can compare exactly:
  {"t": "null"} | {"t": "bool", "v": true} | {"t": "int", "v": "123"} (decimal text, any size)
  | {"t": "float", "v": "1.5"} (Python repr) | {"t": "str", "v": "..."}
  | {"t": "seq", "v": [VALUE, ...]} | {"t": "map", "v": [[VALUE, VALUE], ...]} (dict order)
  | {"t": "other", "v": "<python type>"}

The loader is yaml.SafeLoader (the pure-Python one: what yaml.safe_load_all uses) with one
change that sigwatch's model documents: timestamps stay strings (their text as written).

"scalars" lists every scalar node of the composed (not constructed) documents in document order
(mapping key before its value), with its 1-based line and column, so that positions can be
checked too.
"""

import json
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def _timestamp_as_text(loader, node):
    return loader.construct_scalar(node)


Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def typed(v):
    if v is None:
        return {"t": "null"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        return {"t": "float", "v": repr(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, list):
        return {"t": "seq", "v": [typed(x) for x in v]}
    if isinstance(v, dict):
        return {"t": "map", "v": [[typed(k), typed(x)] for k, x in v.items()]}
    return {"t": "other", "v": type(v).__name__}


def scalars(node, out):
    if isinstance(node, yaml.ScalarNode):
        out.append([node.start_mark.line + 1, node.start_mark.column + 1, node.value])
    elif isinstance(node, yaml.SequenceNode):
        for n in node.value:
            scalars(n, out)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            scalars(k, out)
            scalars(v, out)


def view(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # What yaml.load_all does, keeping the composed nodes to read their positions first.
        loader = Loader(text)
        docs, marks = [], []
        try:
            while loader.check_node():
                node = loader.get_node()
                scalars(node, marks)
                docs.append(typed(loader.construct_document(node)))
        finally:
            loader.dispose()
        return {"path": path, "docs": docs, "scalars": marks}
    except Exception as e:  # PyYAML raises more than YAMLError (e.g. ValueError from int())
        return {"path": path, "error": f"{type(e).__name__}: {e}"}


def main():
    paths = sys.argv[1:] or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for p in paths:
        print(json.dumps(view(p), ensure_ascii=True))


if __name__ == "__main__":
    main()
