//! Every SigmaHQ rule of rules/, rules-emerging-threats/ and rules-threat-hunting/ converts to
//! `lucene` and `es-dsl`, except an exact, explained list of refusals. Needs `SIGWATCH_DATA`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use convert::{Options, backend};
use sigma::pipeline::resolve_identity;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

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

fn expected(target: &str) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if target == "lucene" {
        m.insert(
            FIELDREF.into(),
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
    let Some(root) = std::env::var_os("SIGWATCH_DATA") else {
        assert!(
            std::env::var_os("SIGWATCH_REQUIRE_DATA").is_none(),
            "SIGWATCH_REQUIRE_DATA is set but SIGWATCH_DATA is not"
        );
        eprintln!("skipped: SIGWATCH_DATA is not set");
        return;
    };
    let base = Path::new(&root).join("sigma");
    let mut files = Vec::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        walk(&base.join(d), &mut files);
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
    let resolved: Vec<_> = rules.iter().map(resolve_identity).collect();
    for target in ["lucene", "es-dsl"] {
        let b = backend(target).unwrap();
        let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut converted = 0;
        for r in &resolved {
            match b.convert(r, &Options::default()) {
                Ok(outs) => {
                    assert_eq!(outs.len(), r.variants.len());
                    assert!(outs.iter().all(|o| !o.text.is_empty()));
                    converted += 1;
                }
                Err(e) => {
                    assert_eq!(&*e.path, &*r.rule.origin.path);
                    assert!(!e.rule.is_empty());
                    refused
                        .entry(e.group())
                        .or_default()
                        .push(e.path.to_string());
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
        assert_eq!(refused, expected(target), "{target}: unexpected refusals");
    }
}
