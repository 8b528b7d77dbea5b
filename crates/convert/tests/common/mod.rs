//! Checks of the rule files the alerting targets write: ElastAlert YAML (with our YAML reader,
//! and with PyYAML when python3 has it), ee-outliers INI (with a small reader here, and with
//! Python's configparser as ee-outliers reads it, when python3 is present).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use sigma::yaml::{Node, Value};

/// What an ElastAlert rule file says, after checking that it has the keys ElastAlert 2 needs.
#[derive(Debug)]
pub struct ElastAlertRule {
    pub name: String,
    pub kind: String,
    /// The `query_string` of the filter (default format).
    pub query: Option<String>,
}

fn str_of<'a>(doc: &'a Node, key: &str) -> Result<&'a str, String> {
    doc.get(key)
        .and_then(Node::as_str)
        .ok_or_else(|| format!("{key} is missing or not a string"))
}

fn int_of(doc: &Node, key: &str) -> Result<i64, String> {
    match doc.get(key).map(|n| &n.value) {
        Some(Value::Int(i, _)) => Ok(*i),
        _ => Err(format!("{key} is missing or not an integer")),
    }
}

fn time_of(doc: &Node, key: &str) -> Result<(), String> {
    let m = doc
        .get(key)
        .and_then(Node::as_map)
        .ok_or_else(|| format!("{key} is missing or not a map"))?;
    let units = [
        "weeks",
        "days",
        "hours",
        "minutes",
        "seconds",
        "milliseconds",
    ];
    if m.len() != 1
        || !units.contains(&m[0].0.scalar_text().unwrap_or(""))
        || !matches!(m[0].1.value, Value::Int(..))
    {
        return Err(format!("{key} is not one time unit with a number"));
    }
    Ok(())
}

/// Parse an ElastAlert rule file and check its keys.
pub fn check_elastalert(text: &str) -> Result<ElastAlertRule, String> {
    let d = sigma::yaml::parse(text);
    if let Some(e) = d.errors.first() {
        return Err(format!("YAML error: {}", e.message));
    }
    let [doc] = d.docs.as_slice() else {
        return Err(format!("{} YAML documents", d.docs.len()));
    };
    let name = str_of(doc, "name")?.to_owned();
    if name.is_empty() {
        return Err("empty name".into());
    }
    if str_of(doc, "index")?.is_empty() {
        return Err("empty index".into());
    }
    str_of(doc, "description")?;
    let kind = str_of(doc, "type")?.to_owned();
    let alert = doc
        .get("alert")
        .and_then(Node::as_seq)
        .ok_or("alert is missing or not a list")?;
    if alert.is_empty() || alert.iter().any(|a| a.as_str().is_none()) {
        return Err("alert is not a list of alerter names".into());
    }
    let p = int_of(doc, "priority")?;
    if !(1..=5).contains(&p) {
        return Err(format!("priority {p}"));
    }
    time_of(doc, "realert")?;
    let filter = doc
        .get("filter")
        .and_then(Node::as_seq)
        .ok_or("filter is missing or not a list")?;
    if filter.len() != 1 {
        return Err(format!("{} filters", filter.len()));
    }
    let query = filter[0]
        .get("query")
        .and_then(|q| q.get("query_string"))
        .and_then(|q| q.get("query"))
        .and_then(Node::as_str)
        .map(str::to_owned);
    match kind.as_str() {
        "any" => {}
        "frequency" => {
            if int_of(doc, "num_events")? < 1 {
                return Err("num_events < 1".into());
            }
            time_of(doc, "timeframe")?;
        }
        "cardinality" => {
            str_of(doc, "cardinality_field")?;
            int_of(doc, "max_cardinality")?;
            time_of(doc, "timeframe")?;
        }
        k => return Err(format!("unexpected type {k}")),
    }
    Ok(ElastAlertRule { name, kind, query })
}

/// One INI section: its name and its `key = value` lines.
pub type Section = (String, Vec<(String, String)>);

/// Read ee-outliers use cases (INI) and check the simplequery keys; the `es_dsl_filter` JSON is
/// returned per section.
pub fn check_outliers(text: &str) -> Result<Vec<(String, serde_json::Value)>, String> {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_owned(), Vec::new()));
            continue;
        }
        let (k, v) = line
            .split_once(" = ")
            .ok_or_else(|| format!("not key = value: {line}"))?;
        let s = sections.last_mut().ok_or("a key before any section")?;
        s.1.push((k.to_owned(), v.to_owned()));
    }
    let mut out = Vec::new();
    for (name, kv) in &sections {
        if !name.starts_with("simplequery_") || name.contains(char::is_whitespace) {
            return Err(format!("section name {name}"));
        }
        let get = |k: &str| kv.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        for k in [
            "es_dsl_filter",
            "es_index",
            "outlier_type",
            "outlier_reason",
            "outlier_summary",
            "run_model",
            "test_model",
        ] {
            if get(k).is_none_or(|v| v.trim().is_empty()) {
                return Err(format!("{name}: {k} missing or empty"));
            }
        }
        if get("run_model") != Some("1") || get("test_model") != Some("0") {
            return Err(format!("{name}: run_model/test_model"));
        }
        let filter: serde_json::Value = serde_json::from_str(get("es_dsl_filter").unwrap())
            .map_err(|e| format!("{name}: es_dsl_filter is not JSON: {e}"))?;
        if filter.get("query").is_none() {
            return Err(format!("{name}: es_dsl_filter has no query"));
        }
        out.push((name.clone(), filter));
    }
    Ok(out)
}

/// Is python3 here, with the module?
pub fn python_with(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Load every `.yml` file of a folder with PyYAML (`safe_load`, as ElastAlert reads rules) and
/// check ElastAlert 2's required keys and unique names. Returns how many files were checked.
pub fn pyyaml_check(dir: &Path) -> Result<usize, String> {
    const SCRIPT: &str = r#"
import os, sys, yaml
d = sys.argv[1]
names = {}
bad = []
n = 0
for f in sorted(os.listdir(d)):
    if not f.endswith(".yml"):
        continue
    n += 1
    with open(os.path.join(d, f), encoding="utf-8") as fh:
        try:
            r = yaml.safe_load(fh)
        except Exception as e:
            bad.append(f"{f}: {e}")
            continue
    for k in ("name", "type", "index", "alert", "filter"):
        if k not in r:
            bad.append(f"{f}: no {k}")
    t = r.get("type")
    need = {"any": [], "frequency": ["num_events", "timeframe"],
            "cardinality": ["cardinality_field", "timeframe"]}.get(t)
    if need is None:
        bad.append(f"{f}: type {t}")
        need = []
    for k in need:
        if k not in r:
            bad.append(f"{f}: {t} without {k}")
    if t == "cardinality" and "max_cardinality" not in r and "min_cardinality" not in r:
        bad.append(f"{f}: cardinality without max/min_cardinality")
    if not isinstance(r.get("filter"), list) or not isinstance(r.get("alert"), list):
        bad.append(f"{f}: filter and alert must be lists")
    if not isinstance(r.get("index"), str) or not isinstance(r.get("name"), str):
        bad.append(f"{f}: index and name must be strings")
    if r.get("name") in names:
        bad.append(f"{f}: name {r.get('name')!r} also in {names[r.get('name')]}")
    names[r.get("name")] = f
for b in bad[:20]:
    print(b)
print(n)
sys.exit(1 if bad else 0)
"#;
    run_python(SCRIPT, dir)
}

/// Read every `.conf` file of a folder into ONE Python `configparser` (no interpolation, as
/// ee-outliers reads its configuration; a section name twice is an error), and check the
/// simplequery keys and that `es_dsl_filter` loads as JSON with a `query`.
pub fn configparser_check(dir: &Path) -> Result<usize, String> {
    const SCRIPT: &str = r#"
import configparser, json, os, sys
d = sys.argv[1]
files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".conf"))
c = configparser.ConfigParser(interpolation=None)
c.optionxform = str
bad = []
for f in files:
    try:
        with open(f, encoding="utf-8") as fh:
            c.read_file(fh, source=f)
    except Exception as e:
        bad.append(f"{f}: {e}")
for s in c.sections():
    if not s.startswith("simplequery_"):
        bad.append(f"{s}: not a simplequery section")
    sec = c[s]
    for k in ("es_dsl_filter", "es_index", "outlier_type", "outlier_reason", "outlier_summary", "run_model", "test_model"):
        if not sec.get(k):
            bad.append(f"{s}: no {k}")
    try:
        if "query" not in json.loads(sec.get("es_dsl_filter", "")):
            bad.append(f"{s}: es_dsl_filter without query")
    except Exception as e:
        bad.append(f"{s}: es_dsl_filter: {e}")
    if sec.getint("run_model") != 1 or sec.getint("test_model") != 0:
        bad.append(f"{s}: run_model/test_model")
for b in bad[:20]:
    print(b)
print(len(c.sections()))
sys.exit(1 if bad else 0)
"#;
    run_python(SCRIPT, dir)
}

fn run_python(script: &str, dir: &Path) -> Result<usize, String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
    }
    stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("unexpected python output: {stdout}"))
}
