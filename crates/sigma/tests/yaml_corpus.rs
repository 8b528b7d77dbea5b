//! Differential test over the SigmaHQ corpus: wherever the fast path reads a file, it must give
//! exactly what the complete (saphyr) path gives: values, styles, spans and errors.

use std::path::PathBuf;

use sigma::yaml::{Documents, Node, Value, parse, parse_fast_only, parse_with_fallback_only};

/// The first place where two trees differ, as a short description.
fn node_diff(a: &Node, b: &Node, path: &str) -> Option<String> {
    if a.span != b.span {
        return Some(format!("{path}: span {:?} vs {:?}", a.span, b.span));
    }
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| node_diff(p, q, &format!("{path}[{i}]"))),
        (Value::Map(x), Value::Map(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, ((k1, v1), (k2, v2)))| {
                node_diff(k1, k2, &format!("{path}.key{i}")).or_else(|| {
                    node_diff(
                        v1,
                        v2,
                        &format!("{path}.{}", k1.scalar_text().unwrap_or("?")),
                    )
                })
            }),
        (x, y) if x == y => None,
        (x, y) => Some(format!("{path}: {x:?} vs {y:?}")),
    }
}

/// A readable description of how two results differ.
fn docs_diff(a: &Documents, b: &Documents) -> Option<String> {
    if a.docs.len() != b.docs.len() {
        return Some(format!("{} vs {} documents", a.docs.len(), b.docs.len()));
    }
    if let Some(d) = a
        .docs
        .iter()
        .zip(&b.docs)
        .find_map(|(x, y)| node_diff(x, y, "$"))
    {
        return Some(d);
    }
    (a.errors != b.errors).then(|| format!("errors {:?} vs {:?}", a.errors, b.errors))
}

/// All YAML files under `$SIGWATCH_DATA/sigma`, or `None` (with a note) when the corpus is not
/// configured. With `SIGWATCH_REQUIRE_DATA=1` a missing corpus fails the test.
fn corpus_files() -> Option<Vec<PathBuf>> {
    let root = testkit::data_root("YAML corpus")?;
    let files = testkit::rule_files(&root.join("sigma"));
    assert!(
        !files.is_empty(),
        "no YAML files under $SIGWATCH_DATA/sigma"
    );
    Some(files)
}

#[test]
fn fast_path_agrees_with_saphyr_path_on_the_corpus() {
    let Some(files) = corpus_files() else { return };
    let mut fallbacks = Vec::new();
    let mut with_errors = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("corpus files are UTF-8");
        let full = parse_with_fallback_only(&text);
        match parse_fast_only(&text) {
            Some(fast) => {
                if let Some(d) = docs_diff(&fast, &full) {
                    panic!("fast and saphyr paths differ on {}: {d}", path.display());
                }
                assert_eq!(format!("{fast:?}"), format!("{full:?}"));
            }
            None => fallbacks.push(path.clone()),
        }
        assert_eq!(format!("{:?}", parse(&text)), format!("{full:?}"));
        if !full.errors.is_empty() {
            with_errors += 1;
        }
    }
    eprintln!(
        "{} files, {} read by the fast path, {} fell back to saphyr, {} with errors",
        files.len(),
        files.len() - fallbacks.len(),
        fallbacks.len(),
        with_errors
    );
    for f in &fallbacks {
        eprintln!("  fallback: {}", f.display());
    }
    // The corpus is the fast path's reason to exist: it must read (nearly) all of it.
    assert!(
        fallbacks.len() * 100 <= files.len(),
        "too many fallbacks: {}",
        fallbacks.len()
    );
}
