//! Every SigmaHQ rule of rules/, rules-emerging-threats/ and rules-threat-hunting/ converts to
//! every target, except an exact, explained list of refusals per target; the rule files of the
//! alerting targets load (ElastAlert YAML with our reader and PyYAML, ee-outliers INI with
//! Python's configparser) and carry the same query as the query targets. Needs
//! `SIGWATCH_DATA`.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use convert::{Context, Options, Output, backends};
use sigma::pipeline::{ResolvedRule, resolve_identity};

/// Refusals expected per target: (feature: reason, rule file relative to sigma/), and why.
///
/// - fieldref: query_string has no way to compare two fields of a document; es-dsl uses a
///   Painless script over doc values.
/// - placeholder: `%name%` values with `expand` need a pipeline that defines them.
const FIELDREF: &str =
    "fieldref: query_string cannot compare two fields of a document (es-dsl can, with a script)";
const PLACEHOLDER: &str = "placeholder: the value has a placeholder that no pipeline expanded";
/// - re: an unanchored search with a long bounded gap (`Copy-Item .{2,128} -Destination`) needs
///   a state per combination of places where the gap may have started: beyond Elasticsearch's
///   10,000 states the query would fail (confirmed with real Lucene: the harness needs more
///   than 1,000,000 states for the first two).
const TOO_COMPLEX: &str = "re: the expression needs more automaton states than Elasticsearch's max_determinized_states (backend option max_states)";

/// - fieldref in EQL: EQL cannot compare two fields (same five rules as query_string).
const FIELDREF_EQL: &str = "fieldref: EQL cannot compare two fields of an event";
/// - keywords in EQL: EQL has no search over every field (checked by count and by shape: every
///   such rule has a keyword item).
const KEYWORD_EQL: &str = "keyword: EQL has no search over every field of an event";
const KEYWORD_EQL_RULES: usize = 107;

fn expected(target: &str) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if target == "fieldlist" {
        return m;
    }
    // The targets built on query_string, and EQL, cannot compare two fields.
    if matches!(
        target,
        "lucene" | "elastalert" | "kibana-ndjson" | "elastic-rule-ndjson" | "eql"
    ) {
        m.insert(
            if target == "eql" { FIELDREF_EQL } else { FIELDREF }.into(),
            [
                "rules-threat-hunting/windows/process_creation/proc_creation_win_susp_parent_execute_itself.yml",
                "rules/cloud/aws/cloudtrail/aws_update_login_profile.yml",
                "rules/windows/builtin/security/win_security_explicit_credential_local_logon.yml",
                "rules/windows/file/file_delete/file_delete_win_delete_own_image.yml",
                "rules/windows/process_creation/proc_creation_win_susp_cross_user_process_spawn.yml",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    m.insert(
        TOO_COMPLEX.into(),
        [
            "rules-emerging-threats/2019/Malware/Dtrack-RAT/proc_creation_win_malware_dtrack.yml",
            "rules-threat-hunting/windows/powershell/powershell_script/posh_ps_registry_reconnaissance.yml",
            "rules/windows/powershell/powershell_script/posh_ps_copy_item_system_directory.yml",
            "rules/windows/process_creation/proc_creation_win_hktl_wsass.yml",
        ]
        .map(String::from)
        .to_vec(),
    );
    m.insert(
        PLACEHOLDER.into(),
        [
            "rules-emerging-threats/2026/Exploits/CVE-2026-54121/win_security_adcs_certighost_cdc_chase_request.yml",
            "rules-emerging-threats/2026/Exploits/CVE-2026-54121/win_security_adcs_certighost_cert_issued_via_chase.yml",
        ]
        .map(String::from)
        .to_vec(),
    );
    m
}

#[test]
fn sigmahq_corpus_converts() {
    let Some(root) = testkit::data_root("sigmahq_corpus_converts") else {
        return;
    };
    let base = root.join("sigma");
    let mut files = Vec::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        files.extend(testkit::rule_files(&base.join(d)));
    }
    let mut rules = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let rel = f.strip_prefix(&base).unwrap().to_string_lossy().to_string();
        let loaded = sigma::load_str(&text, &rel);
        assert_eq!(loaded.broken, 0, "{rel} does not load");
        rules.extend(loaded.rules);
    }
    assert!(rules.len() > 3700, "only {} rules", rules.len());
    let resolved: Vec<ResolvedRule> = rules.iter().map(resolve_identity).collect();
    let cx = Context::new(&resolved);
    // Outputs per target and rule (index into `resolved`).
    let mut outputs: HashMap<&str, Vec<Option<Vec<Output>>>> = HashMap::new();
    for b in backends() {
        let target = b.name();
        let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut per_rule = Vec::with_capacity(resolved.len());
        let mut converted = 0;
        for r in &resolved {
            match b.convert_in(r, &cx, &Options::default()) {
                Ok(outs) => {
                    assert_eq!(outs.len(), r.variants.len());
                    if target != "fieldlist" {
                        assert!(outs.iter().all(|o| !o.text.is_empty()));
                    }
                    converted += 1;
                    per_rule.push(Some(outs));
                }
                Err(e) => {
                    assert_eq!(&*e.path, &*r.rule.origin.path);
                    assert!(!e.rule.is_empty());
                    refused
                        .entry(e.group())
                        .or_default()
                        .push(e.path.to_string());
                    per_rule.push(None);
                }
            }
        }
        for v in refused.values_mut() {
            v.sort();
        }
        eprintln!(
            "{target}: {converted} of {} rules converted, refusals: {:?}",
            resolved.len(),
            refused
                .iter()
                .map(|(k, v)| (k, v.len()))
                .collect::<Vec<_>>()
        );
        if target == "eql" {
            let keyword = refused.remove(KEYWORD_EQL).unwrap_or_default();
            assert_eq!(keyword.len(), KEYWORD_EQL_RULES, "eql keyword refusals");
            for path in &keyword {
                let r = resolved
                    .iter()
                    .find(|r| &*r.rule.origin.path == path)
                    .unwrap();
                assert!(
                    r.rule
                        .detection()
                        .unwrap()
                        .items()
                        .any(|i| i.field.is_none()),
                    "{path} refused for keywords but has none"
                );
            }
        }
        assert_eq!(refused, expected(target), "{target}: unexpected refusals");
        outputs.insert(target, per_rule);
    }

    // The query of every output of a variant, by target.
    let texts = |target: &str| -> Vec<Option<Vec<String>>> {
        outputs[target]
            .iter()
            .map(|o| {
                o.as_ref()
                    .map(|v| v.iter().map(|o| o.text.clone()).collect())
            })
            .collect()
    };
    let lucene = texts("lucene");
    let dsl = texts("es-dsl");

    // ElastAlert: every file loads, has ElastAlert 2's keys, a unique name, and the lucene query.
    let dir = tempfile::tempdir().unwrap();
    let mut names = HashSet::new();
    let mut files = 0;
    for (i, outs) in outputs["elastalert"].iter().enumerate() {
        let Some(outs) = outs else { continue };
        for (j, o) in outs.iter().enumerate() {
            let rule = common::check_elastalert(&o.text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", o.file_name(), o.text));
            assert!(names.insert(rule.name.clone()), "name {} twice", rule.name);
            assert_eq!(rule.kind, "any");
            assert_eq!(
                rule.query.as_deref(),
                Some(lucene[i].as_ref().unwrap()[j].as_str()),
                "{}",
                o.file_name()
            );
            std::fs::write(dir.path().join(o.file_name()), &o.text).unwrap();
            files += 1;
        }
    }
    if common::python_with("yaml") {
        assert_eq!(common::pyyaml_check(dir.path()).unwrap(), files);
        eprintln!("elastalert: {files} files load with PyYAML");
    } else {
        eprintln!("PyYAML not available: ElastAlert files checked with sigma::yaml only");
    }

    // ee-outliers: every use case reads, with the es-dsl query as its filter; one configparser
    // reads them all (section names are unique).
    let dir = tempfile::tempdir().unwrap();
    let mut files = 0;
    for (i, outs) in outputs["ee-outliers"].iter().enumerate() {
        let Some(outs) = outs else { continue };
        for (j, o) in outs.iter().enumerate() {
            let sections = common::check_outliers(&o.text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", o.file_name(), o.text));
            assert_eq!(sections.len(), 1);
            let want: serde_json::Value =
                serde_json::from_str(&dsl[i].as_ref().unwrap()[j]).unwrap();
            assert_eq!(sections[0].1, want, "{}", o.file_name());
            std::fs::write(dir.path().join(o.file_name()), &o.text).unwrap();
            files += 1;
        }
    }
    if common::python_with("configparser") {
        assert_eq!(common::configparser_check(dir.path()).unwrap(), files);
        eprintln!("ee-outliers: {files} use cases read with configparser");
    }

    // Kibana saved searches and Elastic detection rules carry the lucene query.
    let mut ids = HashSet::new();
    for target in ["kibana-ndjson", "elastic-rule-ndjson"] {
        for (i, outs) in outputs[target].iter().enumerate() {
            let Some(outs) = outs else { continue };
            for (j, o) in outs.iter().enumerate() {
                let v: serde_json::Value = serde_json::from_str(&o.text).unwrap();
                let want = lucene[i].as_ref().unwrap()[j].as_str();
                if target == "kibana-ndjson" {
                    assert_eq!(v["type"], "search");
                    let source: serde_json::Value = serde_json::from_str(
                        v["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
                            .as_str()
                            .unwrap(),
                    )
                    .unwrap();
                    assert_eq!(source["query"]["query"], want);
                    assert!(ids.insert(v["id"].as_str().unwrap().to_owned()));
                } else {
                    assert_eq!(v["query"], want);
                    assert!(
                        ["low", "medium", "high", "critical"]
                            .contains(&v["severity"].as_str().unwrap())
                    );
                    for t in v["threat"].as_array().unwrap() {
                        assert!(t["tactic"]["id"].as_str().unwrap().starts_with("TA"));
                    }
                    assert!(ids.insert(v["rule_id"].as_str().unwrap().to_owned()));
                }
            }
        }
    }
    for (target, start) in [("eql", "any where "), ("esql", "FROM ")] {
        for o in outputs[target].iter().flatten().flatten() {
            assert!(o.text.starts_with(start), "{target}: {}", o.text);
        }
    }
}
