//! `sigwatch check` and `sigwatch fields` as a user runs them: exit codes, output formats.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::run as sigwatch;

const GOOD: &str = "title: Whoami\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection\nlevel: high\n";
const BAD: &str = "title: Broken\nid: 929a690e-bef0-4204-a928-ef5e620d6fcd\nlogsource:\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    condition: selection and not filter\n";
const WARN: &str = "title: No id\nlogsource:\n    product: windows\ndetection:\n    selection:\n        Image: x\n    condition: selection\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn clean_rules_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yml", GOOD);
    write(dir.path(), "warn.yml", WARN);
    let (code, stdout, _) = sigwatch(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("warning[missing-id]"), "{stdout}");
    assert!(
        stdout.ends_with("checked 2 rules in 2 files: 0 errors, 1 warning\n"),
        "{stdout}"
    );
    // --quiet hides warnings but still counts them.
    let (code, stdout, _) = sigwatch(&["check", "-q", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("warning["), "{stdout}");
    assert!(stdout.contains("1 warning"), "{stdout}");
}

#[test]
fn an_error_exits_one_with_a_snippet() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yml", GOOD);
    write(dir.path(), "bad.yml", BAD);
    let (code, stdout, _) = sigwatch(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[unknown-identifier]: unknown identifier 'filter'"),
        "{stdout}"
    );
    assert!(stdout.contains("bad.yml:8:34"), "{stdout}");
    assert!(stdout.contains("^^^^^^"), "{stdout}");
}

#[test]
fn json_format() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.yml", BAD);
    write(dir.path(), "good.yml", GOOD);
    let (code, stdout, _) = sigwatch(&["check", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["files"], 2);
    assert_eq!(v["rules"], 2);
    assert_eq!(v["errors"], 1);
    assert_eq!(v["warnings"], 0);
    let d = &v["diagnostics"][0];
    assert!(d["path"].as_str().unwrap().ends_with("bad.yml"));
    assert_eq!(d["line"], 8);
    assert_eq!(d["column"], 34);
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "unknown-identifier");
    assert_eq!(d["rule_id"], "929a690e-bef0-4204-a928-ef5e620d6fcd");
    assert!(d["message"].as_str().unwrap().contains("filter"));
}

#[test]
fn usage_and_io_problems_exit_two() {
    let (code, _, stderr) = sigwatch(&["check", "/no/such/path"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such/path"), "{stderr}");
    let (code, _, _) = sigwatch(&["check"]);
    assert_eq!(code, 2);
    let (code, _, _) = sigwatch(&["check", "--format", "xml", "."]);
    assert_eq!(code, 2);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latin1.yml"), b"title: caf\xe9\n").unwrap();
    let (code, stdout, _) = sigwatch(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.contains("not valid UTF-8"), "{stdout}");
}

#[test]
fn fields_lists_fields() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yml", GOOD);
    write(dir.path(), "warn.yml", WARN);
    let (code, stdout, _) = sigwatch(&["fields", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "Image\n");
    let (code, stdout, _) = sigwatch(&["fields", "--per-logsource", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "windows/*/*:\n    Image\nwindows/process_creation/*:\n    Image\n"
    );
    let (_, stdout, _) = sigwatch(&["fields", "--format", "json", dir.path().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["fields"][0]["name"], "Image");
    assert_eq!(v["fields"][0]["rules"], 2);
}

#[test]
fn fields_after_a_pipeline_are_the_sites_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yml", GOOD);
    let (code, stdout, stderr) = sigwatch(&["fields", "-p", "evtx", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<&str> = stdout.lines().collect();
    // The detection field and the log-source conditions the pipeline adds, the EVTX way.
    assert!(names.contains(&"Event.EventData.Image"), "{stdout}");
    assert!(names.contains(&"Event.System.EventID"), "{stdout}");
    assert!(!names.contains(&"Image"), "{stdout}");
    let (code, _, stderr) = sigwatch(&[
        "fields",
        "-p",
        "no-such-pipeline",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
}
