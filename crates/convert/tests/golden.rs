//! Golden snapshots of every target's outputs (or refusals) for the fixture rules, which cover
//! every modifier (`fixtures/rules`) and the metadata and counting rules of the alerting
//! targets (`fixtures/alerting`), and for a few SigmaHQ rules when the corpus is available
//! (`SIGWATCH_DATA`).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use convert::{Context, Options, backend, backends};
use sigma::pipeline::resolve_identity;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// Every output of a rule file for one target, or its refusal, as one text.
fn render(path: &Path, target: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let loaded = sigma::load_str(&text, &name);
    assert!(
        loaded.diagnostics.iter().all(|d| !d.is_error()),
        "{name}: {:?}",
        loaded.diagnostics
    );
    let b = backend(target).unwrap();
    let mut out = String::new();
    let resolved: Vec<_> = loaded.rules.iter().map(resolve_identity).collect();
    let cx = Context::new(&resolved);
    for rule in &resolved {
        match b.convert_in(rule, &cx, &Options::default()) {
            Ok(outs) => {
                for o in outs {
                    out.push_str(&format!("# {}\n{}\n", o.file_name(), o.text));
                }
            }
            Err(e) => out.push_str(&format!("REFUSED {e}\n")),
        }
    }
    out
}

fn snapshot_dir(paths: &[PathBuf], prefix: &str) {
    for target in backends().iter().map(|b| b.name()) {
        for p in paths {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let name = format!("{prefix}{target}__{stem}");
            insta::assert_snapshot!(name, render(p, target));
        }
    }
}

#[test]
fn fixture_rules() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 15);
    snapshot_dir(&paths, "");
}

#[test]
fn alerting_fixture_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alerting");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 6);
    snapshot_dir(&paths, "");
}

/// A few SigmaHQ rules (DRL 1.1) of different shapes.
const SIGMAHQ: &[&str] = &[
    "rules/windows/process_creation/proc_creation_win_susp_obfuscated_ip_download.yml",
    "rules/windows/process_creation/proc_creation_win_renamed_whoami.yml",
    "rules/windows/network_connection/net_connection_win_office_outbound_non_local_ip.yml",
    "rules/windows/builtin/security/win_security_susp_failed_logon_reasons.yml",
    "rules/linux/process_creation/proc_creation_lnx_base64_decode.yml",
    "rules/windows/file/file_delete/file_delete_win_delete_own_image.yml",
];

#[test]
fn sigmahq_rules() {
    let Some(root) = testkit::data_root("sigmahq_rules") else {
        return;
    };
    let base = root.join("sigma");
    let paths: Vec<PathBuf> = SIGMAHQ
        .iter()
        .map(|p| base.join(p))
        .filter(|p| p.exists())
        .collect();
    assert_eq!(
        paths.len(),
        SIGMAHQ.len(),
        "a SigmaHQ rule of the list is missing"
    );
    snapshot_dir(&paths, "sigmahq__");
}
