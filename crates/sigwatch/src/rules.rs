//! Finding, reading and loading rule files for every command that takes rules.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sigma::ruleset::RuleSet;
use sigma::{Diagnostic, LoadedFile, Rule};

use crate::source::file_kind;

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
    /// Files that could not be read, or were not (special files found in a folder):
    /// (path, reason).
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

/// A rule file path found by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// Why the file is not read: found in a folder, it is not a regular file (a FIFO would
    /// block the run waiting for a writer, a device could never end). Reported and counted as
    /// an unreadable file, as `hunt` does with such logs.
    pub skip: Option<String>,
}

/// Expand files and folders (recursively, `.yml`/`.yaml`, sorted) into rule file paths. A
/// path given explicitly must exist; a file given explicitly is taken whatever its extension
/// or kind. Inside a folder, entries whose name starts with `.` are left out (`.git`,
/// `.github/workflows/*.yml` are not rules), as log folders are walked.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Found>, PathError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| PathError {
            path: p.display().to_string(),
            reason: io_reason(&e),
        })?;
        if meta.is_dir() {
            walk(p, &mut HashSet::new(), &mut out).map_err(|e| PathError {
                path: p.display().to_string(),
                reason: io_reason(&e),
            })?;
        } else {
            out.push(Found {
                path: p.clone(),
                skip: None,
            });
        }
    }
    if paths.len() > 1 {
        // A file named twice (`-r rules -r rules/a.yml`) is loaded once: twice, each of its
        // detections would be reported twice. Within one path no file comes back, so the
        // `realpath` per file is paid only when several are given.
        let mut seen = std::collections::HashSet::new();
        out.retain(|f| {
            seen.insert(std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone()))
        });
    }
    Ok(out)
}

fn walk(dir: &Path, visited: &mut HashSet<PathBuf>, out: &mut Vec<Found>) -> std::io::Result<()> {
    // Links are followed, so a link to a folder above would loop: each folder once, by its
    // real path (a few dozen folders in a rule repository).
    if !visited.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    // Sorted by name, which within one folder is the order of the paths: comparing paths
    // parses them into components at every comparison, a twentieth of a hunt's start-up.
    let mut entries: Vec<(std::ffi::OsString, std::fs::DirEntry)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| (e.file_name(), e)))
        .filter(|(name, _)| !name.as_encoded_bytes().starts_with(b"."))
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, e) in entries {
        let p = e.path();
        // The type read with the folder spares a `stat` per file; links are followed. A link
        // that leads nowhere is kept: reading it reports why.
        let kind = match e.file_type() {
            Ok(t) if !t.is_symlink() => Some(t),
            _ => std::fs::metadata(&p).ok().map(|m| m.file_type()),
        };
        if kind.is_some_and(|t| t.is_dir()) {
            walk(&p, visited, out)?;
        } else if is_rule_file(&p) {
            let skip = kind
                .filter(|t| !t.is_file())
                .map(|t| format!("not a regular file ({}); skipped", file_kind(t)));
            out.push(Found { path: p, skip });
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
        .map(|found| {
            let path = found.path.display().to_string();
            if let Some(reason) = &found.skip {
                return Err((path, reason.clone()));
            }
            match std::fs::read(&found.path) {
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
        // Sized once: grown by doubling, thousands of rules were moved several times over.
        let count = self.files.iter().map(|f| f.loaded.rules.len()).sum();
        let mut files = Vec::with_capacity(count);
        let mut rules = Vec::with_capacity(count);
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
        let count = self.files.iter().map(|f| f.loaded.rules.len()).sum();
        let mut files = Vec::with_capacity(count);
        let mut rules = Vec::with_capacity(count);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, names: &[&str]) {
        for name in names {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "title: t\n").unwrap();
        }
    }

    fn relative(found: &[Found], root: &Path) -> Vec<String> {
        found
            .iter()
            .map(|f| {
                let name = f.path.strip_prefix(root).unwrap().display().to_string();
                match &f.skip {
                    Some(reason) => format!("{name}: {reason}"),
                    None => name,
                }
            })
            .collect()
    }

    #[test]
    fn hidden_entries_in_folders_are_left_out_unless_named() {
        // Found by a usability review: a rules checkout's `.github/workflows/*.yml` were
        // loaded and reported as broken rules; log folders already left hidden entries out.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            &[
                "a.yml",
                ".hidden.yml",
                ".github/workflows/ci.yml",
                ".git/x.yml",
                "sub/b.yaml",
                "sub/.c.yml",
            ],
        );
        let found = discover(&[root.to_path_buf()]).unwrap();
        assert_eq!(relative(&found, root), ["a.yml", "sub/b.yaml"]);
        // Named on the command line, a hidden file or folder is read.
        let found = discover(&[root.join(".hidden.yml"), root.join(".github")]).unwrap();
        assert_eq!(
            relative(&found, root),
            [".hidden.yml", ".github/workflows/ci.yml"]
        );
    }

    /// A link to a folder above made the walk go round until the system's link limit: each
    /// rule was loaded about forty times (and reported as many times).
    #[cfg(unix)]
    #[test]
    fn a_link_loop_in_a_rules_folder_is_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, &["a.yml", "sub/b.yml"]);
        std::os::unix::fs::symlink(root, root.join("sub/up")).unwrap();
        let found = discover(&[root.to_path_buf()]).unwrap();
        assert_eq!(relative(&found, root), ["a.yml", "sub/b.yml"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_in_a_rules_folder_is_skipped_and_counted_unreadable() {
        // Found by a usability review: a FIFO named `*.yml` in a rules folder made every
        // command that loads rules wait for a writer forever.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        write(&root, &["a.yml"]);
        let fifo = root.join("z.yml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|status| status.success()) {
            eprintln!("mkfifo not available; FIFO test not run");
            return;
        }
        let (send, receive) = std::sync::mpsc::channel();
        let folder = root.clone();
        // A hang must fail the test, not stop the run: the thread is left behind.
        std::thread::spawn(move || send.send(load(&[folder])));
        let loaded = receive
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("loading a folder with a FIFO finishes")
            .unwrap();
        assert_eq!(loaded.files.len(), 1);
        assert_eq!(
            loaded.unreadable,
            [(
                fifo.display().to_string(),
                "not a regular file (a FIFO); skipped".to_owned()
            )]
        );
    }
}
