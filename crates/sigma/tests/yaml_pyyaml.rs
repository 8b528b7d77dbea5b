//! PyYAML as an independent oracle: every YAML file of the SigmaHQ corpus must read to the same
//! typed values (and the same scalar positions) as PyYAML's `safe_load_all` gives.
//!
//! Runs `tests/pyyaml_oracle.py` (two processes, one per core) when `SIGWATCH_DATA` is set and
//! `python3 -c "import yaml"` works; otherwise prints why it skips. With
//! `SIGWATCH_REQUIRE_DATA=1`, a missing corpus fails, a missing PyYAML still only skips (it is
//! an optional tool: `pip install pyyaml`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value as J, json};
use sigma::yaml::{Documents, Node, Value, parse};

fn pyyaml_available() -> bool {
    Command::new("python3")
        .args(["-c", "import yaml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Our tree in the oracle's typed JSON form.
fn typed(n: &Node) -> J {
    match &n.value {
        Value::Null => json!({"t": "null"}),
        Value::Bool(b, _) => json!({"t": "bool", "v": b}),
        Value::Int(i, _) => json!({"t": "int", "v": i.to_string()}),
        Value::Float(f, _) => json!({"t": "float", "v": f.to_string()}),
        Value::Str(s, _) => json!({"t": "str", "v": s}),
        Value::Seq(items) => json!({"t": "seq", "v": items.iter().map(typed).collect::<Vec<_>>()}),
        Value::Map(entries) => json!({
            "t": "map",
            "v": entries.iter().map(|(k, v)| json!([typed(k), typed(v)])).collect::<Vec<_>>()
        }),
    }
}

/// Compare one of our typed values with PyYAML's, allowing only the documented model limits.
fn same(ours: &J, py: &J, node: Option<&Node>) -> bool {
    let (t1, t2) = (ours["t"].as_str(), py["t"].as_str());
    match (t1, t2) {
        (Some("float"), Some("float")) => {
            let a: f64 = ours["v"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            let b = py["v"].as_str().map_or(f64::NAN, |s| match s {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                s => s.parse().unwrap_or(f64::NAN),
            });
            a == b || (a.is_nan() && b.is_nan())
        }
        // Integers beyond i64 stay plain strings with the text as written.
        (Some("str"), Some("int")) => {
            node.is_some_and(|n| n.as_str().is_some())
                && py["v"]
                    .as_str()
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_none()
        }
        (Some("seq"), Some("seq")) => {
            let (a, b) = (ours["v"].as_array(), py["v"].as_array());
            let kids = node.and_then(Node::as_seq);
            match (a, b) {
                (Some(a), Some(b)) if a.len() == b.len() => a
                    .iter()
                    .zip(b)
                    .enumerate()
                    .all(|(i, (x, y))| same(x, y, kids.and_then(|k| k.get(i)))),
                _ => false,
            }
        }
        (Some("map"), Some("map")) => {
            let (a, b) = (ours["v"].as_array(), py["v"].as_array());
            let kids = node.and_then(Node::as_map);
            match (a, b) {
                (Some(a), Some(b)) if a.len() == b.len() => {
                    a.iter().zip(b).enumerate().all(|(i, (x, y))| {
                        let kv = kids.and_then(|k| k.get(i));
                        same(&x[0], &y[0], kv.map(|e| &e.0)) && same(&x[1], &y[1], kv.map(|e| &e.1))
                    })
                }
                _ => false,
            }
        }
        _ => ours == py,
    }
}

/// Every scalar of our tree in document order: (line, column, text or None for null).
fn scalar_marks(n: &Node, out: &mut Vec<(u64, u64, Option<String>)>) {
    let here = (u64::from(n.span.start.line), u64::from(n.span.start.column));
    match &n.value {
        Value::Seq(items) => items.iter().for_each(|i| scalar_marks(i, out)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            scalar_marks(k, out);
            scalar_marks(v, out);
        }),
        Value::Null => out.push((here.0, here.1, None)),
        _ => out.push((here.0, here.1, n.scalar_text().map(str::to_owned))),
    }
}

fn compare(view: &J, ours: &Documents) -> Option<String> {
    compare_with(view, ours, true)
}

/// `positions`: also compare scalar positions (not meaningful where PyYAML's composed tree and
/// ours differ in shape: aliases, merge keys, repeated keys).
fn compare_with(view: &J, ours: &Documents, positions: bool) -> Option<String> {
    let only_duplicates = ours
        .errors
        .iter()
        .all(|e| !e.fatal && e.message.starts_with("duplicate key"));
    if let Some(err) = view.get("error") {
        return if ours.errors.is_empty() {
            Some(format!(
                "PyYAML refuses it ({err}) but we read it without error"
            ))
        } else {
            None
        };
    }
    if !only_duplicates {
        return Some(format!("PyYAML reads it but we report {:?}", ours.errors));
    }
    let py_docs = view["docs"].as_array()?;
    if py_docs.len() != ours.docs.len() {
        return Some(format!(
            "{} documents vs PyYAML's {}",
            ours.docs.len(),
            py_docs.len()
        ));
    }
    for (i, (d, p)) in ours.docs.iter().zip(py_docs).enumerate() {
        if !same(&typed(d), p, Some(d)) {
            return Some(format!("document {i}: ours {} vs PyYAML {p}", typed(d)));
        }
    }
    if !positions {
        return None;
    }
    let mut marks = Vec::new();
    ours.docs.iter().for_each(|d| scalar_marks(d, &mut marks));
    let py_marks = view["scalars"].as_array()?;
    if marks.len() != py_marks.len() {
        return Some(format!(
            "{} scalars vs PyYAML's {}",
            marks.len(),
            py_marks.len()
        ));
    }
    for ((line, col, text), p) in marks.iter().zip(py_marks) {
        let (pl, pc) = (p[0].as_u64(), p[1].as_u64());
        if (Some(*line), Some(*col)) != (pl, pc) {
            return Some(format!("scalar {text:?} at {line}:{col}, PyYAML says {p}"));
        }
    }
    None
}

/// Run the oracle on some files; their views in the same order.
fn oracle(files: &[PathBuf]) -> Vec<J> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyyaml_oracle.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "pyyaml_oracle.py failed");
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle prints JSON"))
        .collect()
}

/// Hand-written YAML covering each construct (tests/yaml_fixtures), read by PyYAML and by us.
/// Files named `err_*` must be refused by both; fixtures whose composed tree differs in shape
/// from the constructed one (aliases, merges, repeated keys) skip the position check.
#[test]
fn fixtures_read_like_pyyaml() {
    if !pyyaml_available() {
        eprintln!("python3 with PyYAML is not available: skipping the PyYAML fixture test");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml_fixtures");
    let files = testkit::rule_files(&dir);
    assert!(files.len() >= 30, "fixtures missing");
    let views = oracle(&files);
    assert_eq!(views.len(), files.len());
    let mut mismatches = Vec::new();
    for (path, view) in files.iter().zip(&views) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
        let ours = parse(&text);
        let positions = !["aliases", "merge_keys", "duplicates"]
            .iter()
            .any(|p| name.starts_with(p));
        if name.starts_with("err_") {
            if view.get("error").is_none() || ours.errors.is_empty() {
                mismatches.push(format!(
                    "{name}: both must refuse it (PyYAML: {:?}, ours: {:?})",
                    view.get("error"),
                    ours.errors
                ));
            }
        } else if view.get("error").is_some() {
            mismatches.push(format!(
                "{name}: PyYAML refuses this fixture: {}",
                view["error"]
            ));
        } else if let Some(why) = compare_with(view, &ours, positions) {
            mismatches.push(format!("{name}: {why}"));
        }
    }
    for m in &mismatches {
        eprintln!("  {m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} fixtures read differently from PyYAML",
        mismatches.len()
    );
}

#[test]
fn corpus_reads_like_pyyaml() {
    let Some(root) = testkit::data_root("PyYAML oracle") else {
        return;
    };
    if !pyyaml_available() {
        eprintln!("python3 with PyYAML is not available: skipping the PyYAML oracle test");
        return;
    }
    let files = testkit::rule_files(&root.join("sigma"));
    assert!(!files.is_empty());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyyaml_oracle.py");

    // Two halves, two processes.
    let mid = files.len() / 2;
    let children: Vec<_> = [&files[..mid], &files[mid..]]
        .into_iter()
        .map(|part| {
            let mut child = Command::new("python3")
                .arg(&script)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3 runs");
            let list: String = part.iter().map(|p| format!("{}\n", p.display())).collect();
            let mut stdin = child.stdin.take().expect("piped stdin");
            std::thread::spawn(move || stdin.write_all(list.as_bytes()).expect("write file list"));
            child
        })
        .collect();
    let mut views = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("oracle runs");
        assert!(out.status.success(), "pyyaml_oracle.py failed");
        for line in String::from_utf8(out.stdout).expect("UTF-8").lines() {
            views.push(serde_json::from_str::<J>(line).expect("oracle prints JSON"));
        }
    }
    assert_eq!(views.len(), files.len());

    let mut mismatches = Vec::new();
    let mut refused = 0;
    for view in &views {
        let path = view["path"].as_str().expect("path");
        if view.get("error").is_some() {
            refused += 1;
        }
        let text = std::fs::read_to_string(path).expect("corpus files are UTF-8");
        if let Some(why) = compare(view, &parse(&text)) {
            mismatches.push(format!("{path}: {why}"));
        }
    }
    eprintln!(
        "{} files compared with PyYAML, {} refused by PyYAML, {} mismatches",
        views.len(),
        refused,
        mismatches.len()
    );
    for m in &mismatches {
        eprintln!("  {m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} files read differently from PyYAML",
        mismatches.len()
    );
}

/// The comparison must be able to fail: a value, a type, or a position that differs is caught.
#[test]
fn oracle_comparison_detects_differences() {
    let ours = parse("a: 1\nb: x\n");
    let good = json!({
        "docs": [{"t": "map", "v": [
            [{"t": "str", "v": "a"}, {"t": "int", "v": "1"}],
            [{"t": "str", "v": "b"}, {"t": "str", "v": "x"}]
        ]}],
        "scalars": [[1, 1, "a"], [1, 4, "1"], [2, 1, "b"], [2, 4, "x"]]
    });
    assert_eq!(compare(&good, &ours), None);
    let mut wrong_type = good.clone();
    wrong_type["docs"][0]["v"][0][1] = json!({"t": "str", "v": "1"});
    assert!(compare(&wrong_type, &ours).is_some());
    let mut wrong_pos = good.clone();
    wrong_pos["scalars"][3] = json!([2, 5, "x"]);
    assert!(compare(&wrong_pos, &ours).is_some());
    let refused = json!({"error": "boom"});
    assert!(compare(&refused, &ours).is_some());
}
