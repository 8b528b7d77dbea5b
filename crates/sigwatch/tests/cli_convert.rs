//! `sigwatch convert` and `sigwatch list targets`: files per output, refusals, JSON, exit codes.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{run, run_env};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../convert/tests/fixtures/rules"
);

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

const ALERTING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../convert/tests/fixtures/alerting"
);

/// The files of a folder: name -> content.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

fn yaml(text: &str) -> sigma::yaml::Node {
    let d = sigma::yaml::parse(text);
    assert!(d.errors.is_empty(), "{:?}\n{text}", d.errors);
    assert_eq!(d.docs.len(), 1);
    d.docs.into_iter().next().unwrap()
}

fn text<'a>(n: &'a sigma::yaml::Node, key: &str) -> &'a str {
    n.get(key).and_then(|v| v.scalar_text()).unwrap_or("")
}

fn list(n: &sigma::yaml::Node, key: &str) -> Vec<String> {
    n.get(key)
        .and_then(|v| v.as_seq())
        .map(|s| {
            s.iter()
                .filter_map(|x| x.scalar_text())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn elastalert_one_file_per_rule_and_log_source() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().display());
    let (code, _, err) = run(&[
        "convert",
        "-t",
        "elastalert",
        "-p",
        "windows-flat",
        "-o",
        &out,
        &fixture("01_exact_case.yml"),
        &fixture("15_fieldref.yml"),
    ]);
    assert_eq!(code, 0, "{err}");
    let fs = files(dir.path());
    // Two log sources (Sysmon, Security 4688): two files, each one rule with its own name.
    assert_eq!(fs.len(), 2, "{:?}", fs.keys());
    let mut names = std::collections::HashSet::new();
    for (f, t) in &fs {
        assert!(
            f.starts_with("01_exact_case_") && f.ends_with(".yml"),
            "{f}"
        );
        let doc = yaml(t);
        assert!(names.insert(text(&doc, "name").to_owned()));
        assert_eq!(text(&doc, "type"), "any");
        assert_eq!(list(&doc, "alert"), vec!["debug"]);
        assert!(!text(&doc, "index").is_empty());
        assert_eq!(
            doc.get("filter").and_then(|f| f.as_seq()).map(<[_]>::len),
            Some(1)
        );
        assert_eq!(
            t.matches("\nname:").count() + usize::from(t.starts_with("name:")),
            1
        );
    }
    // The refused rule: no file, one line naming the rule and the feature.
    assert!(
        err.contains("00000000-0000-0000-0000-000000000015"),
        "{err}"
    );
    assert!(err.contains("fieldref"), "{err}");
    assert!(err.contains("2 files written"), "{err}");
    // With the DSL filter, fieldref converts (a script query).
    let (code, stdout, err) = run(&[
        "convert",
        "-t",
        "elastalert",
        "-f",
        "dsl",
        &fixture("15_fieldref.yml"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("\"script\""), "{stdout}");
    yaml(&stdout);
}

#[test]
fn elastalert_alerters_per_level_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().display());
    let hook = "https://hooks.example.org/services/T0/B0/secret";
    let (code, _, err) = run_env(
        &[
            "convert",
            "-t",
            "elastalert",
            "-o",
            &out,
            "--alert",
            "critical=slack,debug",
            "--alert",
            "high=email",
            "--alert-option",
            "smtp_host=mail.example.org",
            "--realert",
            "5m",
            ALERTING,
        ],
        &[
            ("SIGWATCH_SLACK_WEBHOOK_URL", hook),
            ("SIGWATCH_ALERT_EMAIL", "soc@example.org, ir@example.org"),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let fs = files(dir.path());
    // a1 is critical: slack (webhook from the environment) and debug, priority 1.
    let critical = yaml(&fs["a1_metadata.yml"]);
    assert_eq!(list(&critical, "alert"), vec!["slack", "debug"]);
    assert_eq!(text(&critical, "slack_webhook_url"), hook);
    assert_eq!(text(&critical, "priority"), "1");
    assert!(critical.get("email").is_none() && critical.get("smtp_host").is_none());
    assert_eq!(text(critical.get("realert").unwrap(), "minutes"), "5");
    // The event_count correlation is high: email to both addresses.
    let high = yaml(&fs["a2_event_count_1.yml"]);
    assert_eq!(list(&high, "alert"), vec!["email"]);
    assert_eq!(
        list(&high, "email"),
        vec!["soc@example.org", "ir@example.org"]
    );
    assert_eq!(text(&high, "smtp_host"), "mail.example.org");
    assert!(high.get("slack_webhook_url").is_none());
    // Others: debug.
    let low = yaml(&fs["a3_value_count.yml"]);
    assert_eq!(list(&low, "alert"), vec!["debug"]);
    assert_eq!(text(&low, "priority"), "5");

    // An alerter whose setting is nowhere: a clear usage error naming the variable.
    let (code, _, err) = run_env(
        &[
            "convert",
            "-t",
            "elastalert",
            "--alert",
            "critical=slack",
            ALERTING,
        ],
        &[],
        &["SIGWATCH_SLACK_WEBHOOK_URL"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("SIGWATCH_SLACK_WEBHOOK_URL"), "{err}");
    // --alert-env names another variable; an unset one is an error too.
    let (code, stdout, err) = run_env(
        &[
            "convert",
            "-t",
            "elastalert",
            "--alert",
            "*=post2",
            "--alert-env",
            "http_post2_url=MY_HOOK",
            &fixture("01_exact_case.yml"),
        ],
        &[("MY_HOOK", "https://post.example.org/x")],
        &["SIGWATCH_HTTP_POST2_URL"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("http_post2_url: \"https://post.example.org/x\""),
        "{stdout}"
    );
    let (code, _, err) = run_env(
        &[
            "convert",
            "-t",
            "elastalert",
            "--alert-env",
            "slack_webhook_url=NOPE_UNSET",
            ALERTING,
        ],
        &[],
        &["NOPE_UNSET"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("NOPE_UNSET"), "{err}");
    // Alerting flags belong to elastalert.
    let (code, _, err) = run(&["convert", "-t", "lucene", "--alert", "high=debug", ALERTING]);
    assert_eq!(code, 2);
    assert!(err.contains("elastalert"), "{err}");
    let (code, _, _) = run(&[
        "convert",
        "-t",
        "elastalert",
        "--alert",
        "severe=debug",
        ALERTING,
    ]);
    assert_eq!(code, 2);
}

#[test]
fn correlations_become_elastalert_rule_types_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().display());
    let (code, _, err) = run(&["convert", "-t", "elastalert", "-o", &out, ALERTING]);
    assert_eq!(code, 0, "{err}");
    let fs = files(dir.path());
    // event_count gte 10 by TargetUserName in 5m: frequency.
    let f = yaml(&fs["a2_event_count_1.yml"]);
    assert_eq!(text(&f, "type"), "frequency");
    assert_eq!(text(&f, "num_events"), "10");
    assert_eq!(text(f.get("timeframe").unwrap(), "minutes"), "5");
    assert_eq!(text(&f, "query_key"), "TargetUserName");
    // Its rule is not generated on its own (generate: false)...
    assert!(!fs.contains_key("a2_event_count.yml"));
    assert!(
        err.contains("not generated: rule 00000000-0000-0000-0000-0000000000a2"),
        "{err}"
    );
    // ...but a value_count with generate: true keeps its rule.
    assert!(fs.contains_key("a3_value_count.yml"));
    let c = yaml(&fs["a3_value_count_1.yml"]);
    assert_eq!(text(&c, "type"), "cardinality");
    assert_eq!(text(&c, "cardinality_field"), "TargetUserName");
    assert_eq!(text(&c, "max_cardinality"), "20");
    assert_eq!(text(&c, "query_key"), "IpAddress");
    // Legacy count(field) by: cardinality, >= 5 is more than 4.
    let l = yaml(&fs["a6_legacy_count_field.yml"]);
    assert_eq!(text(&l, "type"), "cardinality");
    assert_eq!(text(&l, "max_cardinality"), "4");
    // Refused with their reasons, no file.
    for (id, reason) in [
        (
            "00000000-0000-0000-0000-0000000000b4",
            "no rule type for events of several rules",
        ),
        (
            "00000000-0000-0000-0000-0000000000b5",
            "not a lower bound (event_count: lt 3)",
        ),
        (
            "00000000-0000-0000-0000-0000000000c5",
            "not a lower bound (event_count: gt 5 and lte 10)",
        ),
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with("refused:") && l.contains(id))
            .unwrap_or_else(|| panic!("no refusal for {id}: {err}"));
        assert!(line.contains(reason), "{line}");
    }
    assert!(!fs.keys().any(|f| f.starts_with("a4_temporal_ordered_2")));
    // ES|QL honours the same conditions; EQL turns temporal_ordered into a sequence.
    let (_, stdout, _) = run(&[
        "convert",
        "-t",
        "esql",
        &format!("{ALERTING}/a5_refused_conditions.yml"),
    ]);
    assert!(stdout.contains("WHERE sigma_value < 3"), "{stdout}");
    assert!(
        stdout.contains("WHERE sigma_value > 5 AND sigma_value <= 10"),
        "{stdout}"
    );
    let (_, stdout, _) = run(&[
        "convert",
        "-t",
        "eql",
        &format!("{ALERTING}/a4_temporal_ordered.yml"),
    ]);
    assert!(
        stdout.contains("sequence by User with maxspan=10m"),
        "{stdout}"
    );
}

#[test]
fn ee_outliers_files_are_ini_sections() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("{}/", dir.path().display());
    let (code, _, err) = run(&[
        "convert",
        "-t",
        "ee-outliers",
        "-p",
        "windows-flat",
        "-o",
        &out,
        FIXTURES,
    ]);
    assert_eq!(code, 0, "{err}");
    let fs = files(dir.path());
    assert!(fs.len() > 10);
    let mut sections = std::collections::HashSet::new();
    for (f, t) in &fs {
        assert!(f.ends_with(".conf"), "{f}");
        let header = t.lines().next().unwrap();
        assert!(
            header.starts_with("[simplequery_sigma_") && header.ends_with(']'),
            "{header}"
        );
        assert!(sections.insert(header.to_owned()), "{header} twice");
        let filter = t
            .lines()
            .find_map(|l| l.strip_prefix("es_dsl_filter = "))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(filter).unwrap();
        assert!(v.get("query").is_some());
        for k in [
            "es_index = ",
            "outlier_type = ",
            "outlier_reason = ",
            "outlier_summary = ",
            "run_model = 1",
            "test_model = 0",
        ] {
            assert!(t.contains(k), "{f}: {k}");
        }
    }
    // As ee-outliers reads them: one configparser, no interpolation.
    let py = Command::new("python3")
        .arg("-c")
        .arg(
            "import configparser,glob,sys\nc=configparser.ConfigParser(interpolation=None)\nc.optionxform=str\nfor f in sorted(glob.glob(sys.argv[1]+'/*.conf')):\n    c.read_file(open(f), source=f)\nprint(len(c.sections()))",
        )
        .arg(dir.path())
        .output();
    if let Ok(o) = py {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            fs.len().to_string()
        );
    }
}

#[test]
fn list_targets_shows_every_target() {
    let (code, out, _) = run(&["list", "targets"]);
    assert_eq!(code, 0);
    for t in [
        "lucene",
        "es-dsl",
        "eql",
        "esql",
        "kibana-ndjson",
        "elastic-rule-ndjson",
        "elastalert",
        "ee-outliers",
        "fieldlist",
    ] {
        assert!(out.lines().any(|l| l == t), "{t} missing:\n{out}");
    }
}

/// A Sigma 2.1 filter is folded into the rule it names: the query excludes what the filter
/// matches, as `hunt` does (bundled examples: the SCCM client's encoded PowerShell).
#[test]
fn filters_are_folded_into_the_rules_they_name() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/rules/");
    let rule = format!("{root}proc_creation_win_powershell_encoded.yml");
    let filter = format!("{root}filter_win_sccm_encoded_powershell.yml");
    let (code, alone, _) = run(&["convert", "-t", "lucene", "-q", &rule]);
    assert_eq!(code, 0);
    assert!(!alone.contains("ParentImage"), "{alone}");
    let (code, with, stderr) = run(&["convert", "-t", "lucene", &rule, &filter]);
    assert_eq!(code, 0, "{stderr}");
    assert!(with.contains("AND NOT ParentImage:"), "{with}");
    assert!(with.to_lowercase().contains("[cc][cc][mm]"), "{with}");
    assert!(stderr.contains("applied to 1 rule(s)"), "{stderr}");
}
