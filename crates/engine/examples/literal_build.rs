//! Benchmark of building the prefilter's literal sets ([`LiteralSet::build`]), the start-up
//! cost every search pays on its first events, with a check of what was built.
//!
//! `cargo run --release -p sigwatch-engine --example literal_build -- DIR [reps] [texts.jsonl]`
//!
//! DIR holds one JSON file per set, `{"dfa_only": bool, "list": [literal, ...]}`, as dumped by
//! a temporary instrumentation of `LazySet::build` (`dfa_only`: a keyword set, built with a
//! DFA if it needs an automaton; else a field set, a DFA up to `DFA_MAX_PATTERNS` literals).
//! Each set is built the way `LazySet` builds it, `reps` times; printed per set: its size, the
//! median and least build time, the search taken and a fingerprint of the built structure (a hash of its
//! `Debug` form: equal fingerprints from two versions of the code mean they built the same
//! thing). With a file of texts (JSON lines, e.g. log events), each set is also checked against
//! a naive search on those texts with some of the set's literals planted in them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    dead_code
)]

#[path = "../src/prefilter/literal_set.rs"]
mod literal_set;
#[path = "../src/prefilter/windowed.rs"]
mod windowed;

use literal_set::{DFA_MAX_PATTERNS, LiteralSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

fn build(list: &[String], dfa_only: bool) -> Option<LiteralSet> {
    if dfa_only {
        LiteralSet::build(list, false, true)
    } else {
        (list.len() <= DFA_MAX_PATTERNS)
            .then(|| LiteralSet::build(list, false, true))
            .flatten()
            .or_else(|| LiteralSet::build(list, false, false))
    }
}

/// Texts for the check: lines of the file, and lines with literals of the set planted in them.
fn texts(lines: &[String], list: &[String]) -> Vec<Vec<u8>> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    let mut out: Vec<Vec<u8>> = lines.iter().take(100).map(|l| l.clone().into()).collect();
    for _ in 0..300 {
        let mut t: Vec<u8> = lines[next() % lines.len()].clone().into();
        for _ in 0..1 + next() % 3 {
            let l = list[next() % list.len()].as_bytes();
            let at = next() % (t.len() + 1);
            t.splice(at..at, l.iter().copied());
        }
        out.push(t);
    }
    out
}

fn check(set: &Option<LiteralSet>, list: &[String], texts: &[Vec<u8>]) -> usize {
    let finders: Vec<memchr::memmem::Finder<'_>> = list
        .iter()
        .map(|l| memchr::memmem::Finder::new(l.as_bytes()))
        .collect();
    let mut found_total = 0;
    for t in texts {
        let mut want: Vec<u32> = (0..list.len() as u32)
            .filter(|&i| finders[i as usize].find(t).is_some())
            .collect();
        want.sort_unstable();
        let mut got = Vec::new();
        match set {
            Some(s) => s.find_all(t, |i| got.push(i)),
            None => got.extend(0..list.len() as u32),
        }
        got.sort_unstable();
        got.dedup();
        assert_eq!(got, want, "{}", String::from_utf8_lossy(t));
        found_total += got.len();
    }
    found_total
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .expect("usage: literal_build DIR [reps] [texts.jsonl]");
    let reps: usize = args.get(2).map_or(10, |r| r.parse().expect("reps"));
    let lines: Option<Vec<String>> = args.get(3).map(|f| {
        std::fs::read_to_string(f)
            .expect("texts")
            .lines()
            .map(str::to_owned)
            .collect()
    });
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut total = 0.0;
    let mut total_min = 0.0;
    for f in files {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("json");
        let dfa_only = v["dfa_only"].as_bool().expect("dfa_only");
        let list: Vec<String> = v["list"]
            .as_array()
            .expect("list")
            .iter()
            .map(|s| s.as_str().expect("string").to_owned())
            .collect();
        let mut times = Vec::with_capacity(reps);
        let mut built = None;
        for _ in 0..reps {
            let t = Instant::now();
            let set = build(&list, dfa_only);
            times.push(t.elapsed().as_secs_f64());
            built = Some(set);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        total += median;
        total_min += times[0];
        let set = built.expect("reps > 0");
        let debug = format!("{set:?}");
        let mut h = DefaultHasher::new();
        debug.hash(&mut h);
        let kind = debug
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| ["Gate", "One", "Packed", "Full"].contains(w))
            .unwrap_or("none");
        let checked = lines
            .as_ref()
            .filter(|_| !list.is_empty())
            .map(|l| check(&set, &list, &texts(l, &list)));
        println!(
            "{:<10} {:>5} lits {:>9.3} ms (least {:>8.3})  {:<6} {:016x}{}",
            f.file_name().expect("name").to_string_lossy(),
            list.len(),
            median * 1e3,
            times[0] * 1e3,
            kind,
            h.finish(),
            checked.map_or(String::new(), |n| format!("  checked ({n} found)"))
        );
    }
    println!(
        "total of medians {:.3} ms (of least times {:.3} ms)",
        total * 1e3,
        total_min * 1e3
    );
}
