//! What the test suites, benchmarks and examples share: where the shared corpus is, the files
//! under a folder, and small EVTX files built from bytes ([`evtx`]). A dev-dependency only;
//! nothing here ships in `sigwatch`.

use std::path::{Path, PathBuf};

pub mod evtx;

/// The shared corpus root: `SIGWATCH_DATA`, a folder holding `sigma/` (see the README).
///
/// `None` when it is not configured: the caller skips, and a note naming `test` says so.
/// With `SIGWATCH_REQUIRE_DATA=1` (as CI sets it) a missing corpus is a failure instead.
pub fn data_root(test: &str) -> Option<PathBuf> {
    match std::env::var_os("SIGWATCH_DATA") {
        Some(root) if Path::new(&root).join("sigma").is_dir() => Some(PathBuf::from(root)),
        found => {
            let why = match found {
                Some(root) => format!("SIGWATCH_DATA={} has no sigma/ folder", root.display()),
                None => "SIGWATCH_DATA is not set".to_owned(),
            };
            assert!(
                std::env::var("SIGWATCH_REQUIRE_DATA").as_deref() != Ok("1"),
                "{test}: {why}, and SIGWATCH_REQUIRE_DATA=1 requires the corpus"
            );
            eprintln!("{test}: skipped ({why}; set it to the shared corpus to run it)");
            None
        }
    }
}

/// Every file under `dir`, recursively (links followed), whose extension is one of `exts`
/// (every file when `exts` is empty), in path order. An unreadable folder fails the test.
pub fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, exts, &mut out);
    out
}

/// The Sigma rule files (`.yml`, `.yaml`) under `dir`, in path order.
pub fn rule_files(dir: &Path) -> Vec<PathBuf> {
    files(dir, &["yml", "yaml"])
}

fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
    // Within one folder, name order is path order.
    let mut entries: Vec<(std::ffi::OsString, PathBuf)> = entries
        .map(|e| {
            let e = e.unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
            (e.file_name(), e.path())
        })
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, p) in entries {
        if p.is_dir() {
            walk(&p, exts, out);
        } else if exts.is_empty()
            || p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
        {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_in_path_order_filtered_by_extension() {
        let root = std::env::temp_dir().join(format!("testkit-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for f in ["b/x.yml", "b.yml", "a.yaml", "c.txt", "b/a/y.yml"] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&p, "").expect("write");
        }
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| {
                    p.strip_prefix(&root)
                        .expect("under root")
                        .display()
                        .to_string()
                })
                .collect()
        };
        assert_eq!(
            names(rule_files(&root)),
            ["a.yaml", "b/a/y.yml", "b/x.yml", "b.yml"]
        );
        assert_eq!(names(files(&root, &["txt"])), ["c.txt"]);
        assert_eq!(files(&root, &[]).len(), 5);
        let mut sorted = files(&root, &[]);
        sorted.sort();
        assert_eq!(sorted, files(&root, &[]), "path order");
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
