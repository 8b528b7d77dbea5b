//! `sigwatch pipeline`, `sigwatch resolve` and `check -p`: exit codes and output.

mod common;

use common::run;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../sigma/tests/fixtures/pipeline"
);

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

#[test]
fn pipeline_list_names_the_builtins() {
    let (code, out, _) = run(&["pipeline", "list"]);
    assert_eq!(code, 0);
    for n in ["evtx", "windows-flat", "ecs-windows", "helk"] {
        assert!(out.lines().any(|l| l.starts_with(n)), "{out}");
    }
}

#[test]
fn pipeline_show_prints_a_readable_normalised_form() {
    let (code, out, err) = run(&["pipeline", "show", "ecs-windows"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("name: ecs-windows"));
    assert!(out.contains("Image: process.executable"));
    // Showing the shown text gives the same text.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shown.yml");
    std::fs::write(&path, &out).expect("write");
    let (code, again, err) = run(&["pipeline", "show", path.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    let body = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(body(&out), body(&again));

    let (code, out, err) = run(&["pipeline", "show", &fixture("pysigma_pipeline.yml")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# pysigma pipeline"), "{out}");
}

#[test]
fn resolve_prints_variants_and_changes() {
    let (code, out, err) = run(&["resolve", "-p", "evtx", &fixture("proc_creation.yml")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("variant 1 of 2 [sysmon]"), "{out}");
    assert!(out.contains("variant 2 of 2 [security]"), "{out}");
    assert!(out.contains("Event.System.EventID = 4688"), "{out}");
    assert!(
        out.contains("[evtx / windows-logsources] field Image -> NewProcessName"),
        "{out}"
    );

    let (code, out, _) = run(&["resolve", "--pipeline", "evtx", &fixture("linux.yml")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("not applicable: log source category 'process_creation', product 'linux'"),
        "{out}"
    );

    // pySigma refusing a rule: exit 1, the reason on stdout, a snippet of the rule on stderr.
    let (code, out, err) = run(&[
        "resolve",
        "-p",
        &fixture("pysigma_pipeline.yml"),
        &fixture("wmi_consumer.yml"),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("refused: pipeline"), "{out}");
    assert!(err.contains("wmi_consumer.yml:"), "{err}");
}

#[test]
fn a_bad_pipeline_file_is_reported_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yml");
    std::fs::write(
        &path,
        "transformations:\n  - type: field_name_mappin\n    mapping: {a: b}\n",
    )
    .expect("write");
    let p = path.to_str().expect("utf-8");
    let (code, out, err) = run(&["resolve", "-p", p, &fixture("proc_creation.yml")]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains(&format!("--> {p}:2:11")), "{err}");
    assert!(
        err.contains("unknown transformation 'field_name_mappin'"),
        "{err}"
    );

    let (code, _, err) = run(&["check", "-c", p, &fixture("proc_creation.yml")]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown key 'transformations'"), "{err}");

    let (code, _, err) = run(&[
        "resolve",
        "-p",
        "no-such-pipeline",
        &fixture("proc_creation.yml"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("built-in pipelines: evtx"), "{err}");
}

#[test]
fn check_warns_about_rules_a_pipeline_cannot_map() {
    let (code, out, _) = run(&[
        "check",
        "-p",
        "evtx",
        &fixture("linux.yml"),
        &fixture("proc_creation.yml"),
    ]);
    assert_eq!(code, 0, "warnings only");
    assert!(out.contains("warning[pipeline-unmapped]"), "{out}");
    assert!(out.contains("1 warning"), "{out}");
}

#[test]
fn every_command_that_takes_pipelines_shows_their_warnings() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        "title: t\norder: 20\nlogsources:\n  nothing:\nfieldmappings:\n  Image: process.executable\n",
    )
    .expect("written");
    let config = config.to_str().expect("UTF-8 path");
    let rule = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../convert/tests/fixtures/rules/01_exact_case.yml"
    );
    let log = dir.path().join("empty.jsonl");
    std::fs::write(&log, "").expect("written");
    let log = log.to_str().expect("UTF-8 path");
    for args in [
        vec!["check", "-c", config, rule],
        vec!["resolve", "-c", config, rule],
        vec!["fields", "-c", config, rule],
        vec!["convert", "-t", "lucene", "-c", config, rule],
        vec!["hunt", "-q", "-c", config, "-r", rule, log],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(
            err.contains("warning[pipeline-empty]: log source 'nothing' is empty"),
            "{args:?}: {err}"
        );
    }
}
