//! Finding, reading and loading rule files for every command that takes rules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sigma::ruleset::RuleSet;
use sigma::{Diagnostic, LoadedFile, Rule};

/// One rule file: its text (kept to render diagnostics) and what loading it gave.
#[derive(Debug)]
pub struct RuleFile {
    pub path: String,
    pub text: String,
    pub loaded: LoadedFile,
}

/// Everything loaded from the rule paths of a command line.
#[derive(Debug, Default)]
pub struct LoadedRules {
    pub files: Vec<RuleFile>,
    /// Files that could not be read: (path, reason).
    pub unreadable: Vec<(String, String)>,
}

/// A problem with the paths themselves (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

fn is_rule_file(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
}

/// Expand files and folders (recursively, `.yml`/`.yaml`, sorted) into rule file paths. A
/// path given explicitly must exist; a file given explicitly is taken whatever its extension.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PathError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| PathError {
            path: p.display().to_string(),
            reason: io_reason(&e),
        })?;
        if meta.is_dir() {
            walk(p, &mut out).map_err(|e| PathError {
                path: p.display().to_string(),
                reason: io_reason(&e),
            })?;
        } else {
            out.push(p.clone());
        }
    }
    if paths.len() > 1 {
        // A file named twice (`-r rules -r rules/a.yml`) is loaded once: twice, each of its
        // detections would be reported twice. Within one path no file comes back, so the
        // `realpath` per file is paid only when several are given.
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    // Sorted by name, which within one folder is the order of the paths: comparing paths
    // parses them into components at every comparison, a twentieth of a hunt's start-up.
    let mut entries: Vec<(std::ffi::OsString, std::fs::DirEntry)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| (e.file_name(), e)))
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, e) in entries {
        let p = e.path();
        // The type read with the folder spares a `stat` per file; links are followed.
        let is_dir = match e.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => p.is_dir(),
        };
        if is_dir {
            walk(&p, out)?;
        } else if is_rule_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::InvalidData => "not valid UTF-8 text".into(),
        _ => e.to_string(),
    }
}

/// Read and load every rule file, in parallel, keeping the order of `discover`.
pub fn load(paths: &[PathBuf]) -> Result<LoadedRules, PathError> {
    let files = discover(paths)?;
    let results: Vec<Result<RuleFile, (String, String)>> = files
        .par_iter()
        .map(|p| {
            let path = p.display().to_string();
            match std::fs::read(p) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        let loaded = sigma::load_str(&text, &path);
                        Ok(RuleFile { path, text, loaded })
                    }
                    Err(e) => Err((
                        path,
                        format!(
                            "not valid UTF-8 text (byte {})",
                            e.utf8_error().valid_up_to()
                        ),
                    )),
                },
                Err(e) => Err((path, io_reason(&e))),
            }
        })
        .collect();
    let mut out = LoadedRules::default();
    for r in results {
        match r {
            Ok(f) => out.files.push(f),
            Err(e) => out.unreadable.push(e),
        }
    }
    Ok(out)
}

impl LoadedRules {
    /// All rules without errors, with the index of their file.
    pub fn rules(&self) -> impl Iterator<Item = (usize, &Rule)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.loaded.rules.iter().map(move |r| (i, r)))
    }

    /// The good rules as a set, and for each rule of the set the index of its file. The rules
    /// move out of their files (cloning and then dropping thousands of rules cost a tenth of
    /// `hunt`'s start-up); the rest (texts, diagnostics) is dropped.
    pub fn into_rule_set(self) -> (RuleSet, Vec<usize>) {
        let mut files = Vec::new();
        let mut rules = Vec::new();
        for (i, f) in self.files.into_iter().enumerate() {
            files.extend(std::iter::repeat_n(i, f.loaded.rules.len()));
            rules.extend(f.loaded.rules);
        }
        (RuleSet::new(rules), files)
    }

    /// Diagnostics that need the whole set (references, duplicate ids), per file index. The
    /// rules move into the set for the check and back to their files afterwards (cloning
    /// thousands of rules cost a fifth of `check`'s time).
    pub fn set_diagnostics(&mut self) -> Vec<(usize, Diagnostic)> {
        let mut files = Vec::new();
        let mut rules = Vec::new();
        for (i, f) in self.files.iter_mut().enumerate() {
            let taken = std::mem::take(&mut f.loaded.rules);
            files.extend(std::iter::repeat_n(i, taken.len()));
            rules.extend(taken);
        }
        let set = RuleSet::new(rules);
        let out = set
            .check()
            .into_iter()
            .map(|d| {
                let mut diag = d.diagnostic;
                diag.rule_id = set.rules[d.rule].id().map(str::to_owned);
                (files[d.rule], diag)
            })
            .collect();
        for (rule, file) in set.rules.into_iter().zip(files) {
            // The set was the only owner: no copy.
            self.files[file]
                .loaded
                .rules
                .push(Arc::unwrap_or_clone(rule));
        }
        out
    }
}
