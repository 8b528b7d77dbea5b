//! `sigwatch convert` and `sigwatch list targets`: files per output, refusals, JSON, exit codes.

#![allow(clippy::unwrap_used)]

use std::process::Command;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../convert/tests/fixtures/rules"
);

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigwatch"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

#[test]
fn one_file_per_rule_and_log_source() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().display());
    // process_creation maps to Sysmon and Security 4688 under windows-flat: two files.
    let (code, _, err) = run(&[
        "convert",
        "-t",
        "lucene",
        "-p",
        "windows-flat",
        "-o",
        &out,
        &fixture("01_exact_case.yml"),
        &fixture("15_fieldref.yml"),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("01_exact_case_") && n.ends_with(".lucene"))
    );
    // The refused rule has no file and one line naming rule, field and feature.
    assert!(
        err.contains("00000000-0000-0000-0000-000000000015"),
        "{err}"
    );
    assert!(err.contains("fieldref on field"), "{err}");
    assert!(err.contains("1 refused"), "{err}");
    assert!(err.contains("2 files written"), "{err}");
}

#[test]
fn json_has_one_object_per_rule() {
    let (code, out, err) = run(&[
        "convert",
        "-t",
        "es-qs",
        "--json",
        &fixture("01_exact_case.yml"),
        &fixture("16_aggregation.yml"),
    ]);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["target"], "lucene");
    assert_eq!(docs[0]["error"], serde_json::Value::Null);
    assert_eq!(docs[0]["outputs"].as_array().unwrap().len(), 1);
    assert!(docs[1]["error"].as_str().unwrap().contains("aggregation"));
    assert_eq!(docs[1]["outputs"].as_array().unwrap().len(), 0);
}

#[test]
fn strict_fails_on_refusals_and_unknown_targets_are_usage_errors() {
    let (code, _, _) = run(&[
        "convert",
        "-t",
        "lucene",
        "--strict",
        &fixture("17_placeholder.yml"),
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = run(&["convert", "-t", "lucene", &fixture("17_placeholder.yml")]);
    assert_eq!(code, 0);
    let (code, _, err) = run(&["convert", "-t", "nope", FIXTURES]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown target"));
    let (code, _, _) = run(&["convert", "-t", "lucene", "-f", "nope", FIXTURES]);
    assert_eq!(code, 2);
}

#[test]
fn list_targets_shows_names_formats_and_refusals() {
    let (code, out, _) = run(&["list", "targets"]);
    assert_eq!(code, 0);
    assert!(out.contains("lucene") && out.contains("es-qs"));
    assert!(out.contains("es-dsl"));
    assert!(out.contains("refuses:"));
}
