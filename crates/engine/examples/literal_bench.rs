//! Benchmark of the prefilter's literal search ([`LiteralSet`]) against a plain
//! Aho-Corasick search (leftmost-longest, restarted one byte after each match), on a corpus
//! of per-slot literal lists and texts, checking on the way that both report the same
//! literals.
//!
//! `cargo run --release -p sigwatch-engine --example literal_bench -- DIR [reps] [name-filter]`
//! (`LITERAL_CHOICE=gate|plain|automaton|windowed` forces the new search's strategy where possible).
//!
//! DIR holds per prefilter slot `N.lits` (JSON `[name, [literal, ...]]`, or
//! `[name, [literal, ...], true]` for an ASCII case-insensitive set) and `N.texts` (one JSON
//! string per line: the text of one `find_all` call), as dumped by a temporary
//! instrumentation of the engine's prefilter. Prints per slot the time of both searches (the
//! sum over chunks of texts of the least time of `reps` runs: steadier on a busy machine),
//! their ratio, the strategy the new search took and its memory.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    dead_code
)]

#[path = "../src/prefilter/literal_set.rs"]
mod literal_set;
#[path = "../src/prefilter/windowed.rs"]
mod windowed;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use literal_set::{Choice, DFA_MAX_PATTERNS, LiteralSet};
use std::io::BufRead;
use std::time::Instant;

/// The baseline: one automaton, every literal's prefixes among the literals found by brute
/// force at build time.
struct Baseline {
    ac: AhoCorasick,
    implied: Vec<Vec<u32>>,
}

impl Baseline {
    fn build(list: &[String], ci: bool) -> Baseline {
        let dfa = list.len() <= 300;
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(ci)
            .kind(Some(if dfa {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            }))
            .build(list)
            .unwrap();
        let list: Vec<String> = if ci {
            list.iter().map(|l| l.to_ascii_lowercase()).collect()
        } else {
            list.to_vec()
        };
        let mut sorted: Vec<(usize, &String)> = list.iter().enumerate().collect();
        sorted.sort_by(|a, b| a.1.cmp(b.1));
        let implied = list
            .iter()
            .map(|l| {
                // Prefixes of `l` sort before it.
                let mut v: Vec<u32> = sorted
                    .iter()
                    .take_while(|(_, k)| k.as_str() <= l.as_str())
                    .filter(|(_, k)| l.starts_with(k.as_str()))
                    .map(|(i, _)| *i as u32)
                    .collect();
                v.sort_unstable();
                v
            })
            .collect();
        Baseline { ac, implied }
    }

    fn find_all(&self, text: &[u8], mut found: impl FnMut(u32)) {
        let mut at = 0;
        while at < text.len() {
            let Some(m) = self
                .ac
                .find(aho_corasick::Input::new(text).span(at..text.len()))
            else {
                break;
            };
            for &id in &self.implied[m.pattern().as_usize()] {
                found(id);
            }
            at = m.start() + 1;
        }
    }
}

/// The least time of `reps` runs of `f`: the one least disturbed by other processes.
fn least(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&args[1]);
    let reps: usize = args.get(2).map_or(5, |s| s.parse().unwrap());
    let filter = args.get(3).cloned().unwrap_or_default();
    // LITERAL_CHOICE=gate|plain|automaton|windowed forces a search where it can be built.
    let choice = match std::env::var("LITERAL_CHOICE").as_deref() {
        Ok("gate") => Choice::Gate,
        Ok("plain") => Choice::Plain,
        Ok("automaton") => Choice::Automaton,
        Ok("windowed") => Choice::Windowed,
        _ => Choice::Cheapest,
    };
    let mut slots = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("lits") {
            continue;
        }
        let texts_path = path.with_extension("texts");
        if !texts_path.exists() {
            continue;
        }
        // `[name, literals]`, or `[name, literals, true]` for an ASCII case-insensitive set.
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = value[0].as_str().unwrap().to_owned();
        let list: Vec<String> = serde_json::from_value(value[1].clone()).unwrap();
        let ci = value
            .get(2)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let name = name.split('"').nth(1).map_or(name.clone(), str::to_owned);
        if !name.contains(&filter) {
            continue;
        }
        let texts: Vec<Vec<u8>> = std::io::BufReader::new(std::fs::File::open(texts_path).unwrap())
            .lines()
            .map(|l| {
                serde_json::from_str::<String>(&l.unwrap())
                    .unwrap()
                    .into_bytes()
            })
            .collect();
        slots.push((name, list, texts, ci));
    }
    let mut rows = Vec::new();
    let (mut total_old, mut total_new) = (0.0, 0.0);
    for (name, list, texts, ci) in &slots {
        let ci = *ci;
        let plain = Baseline::build(list, ci);
        let t = Instant::now();
        // As the prefilter builds it: a DFA asked for up to DFA_MAX_PATTERNS literals.
        let set = (list.len() <= DFA_MAX_PATTERNS)
            .then(|| LiteralSet::build_choosing(list, ci, true, choice))
            .flatten()
            .or_else(|| LiteralSet::build_choosing(list, ci, false, choice))
            .unwrap();
        let build_ms = t.elapsed().as_secs_f64() * 1e3;
        let debug = format!("{set:?}");
        let strategy: String = debug
            .trim_start_matches("LiteralSet { imp: ")
            .split(['(', ' ', '{'])
            .filter(|w| !w.is_empty())
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        // Same literals reported (as sets per text).
        let mut extra = 0usize;
        let mut reports = [0usize; 2];
        for text in texts {
            let mut a = Vec::new();
            plain.find_all(text, |id| a.push(id));
            let mut b = Vec::new();
            set.find_all(text, |id| b.push(id));
            reports[0] += a.len();
            reports[1] += b.len();
            a.sort_unstable();
            a.dedup();
            b.sort_unstable();
            b.dedup();
            let missing: Vec<&String> = a
                .iter()
                .filter(|id| b.binary_search(id).is_err())
                .map(|&id| &list[id as usize])
                .collect();
            assert!(
                missing.is_empty(),
                "{name}: {missing:?} missed in {:?}",
                String::from_utf8_lossy(text)
            );
            extra += b.len() - a.len();
        }
        let bytes: usize = texts.iter().map(Vec::len).sum();
        // Short runs (chunks of the texts) are often not interrupted on a busy machine: the
        // sum of each chunk's least time is a steadier figure than the time of whole runs.
        let mut sink = 0u64;
        let (mut o, mut n) = (0.0, 0.0);
        let mut from = 0;
        while from < texts.len() {
            let mut to = from;
            let mut size = 0;
            while to < texts.len() && size < 64 * 1024 && to - from < 512 {
                size += texts[to].len();
                to += 1;
            }
            let chunk = &texts[from..to];
            o += least(reps, || {
                for text in chunk {
                    plain.find_all(text, |id| sink += u64::from(id));
                }
            });
            n += least(reps, || {
                for text in chunk {
                    set.find_all(text, |id| sink += u64::from(id));
                }
            });
            from = to;
        }
        std::hint::black_box(sink);
        total_old += o;
        total_new += n;
        rows.push((
            o,
            format!(
                "{:>8.2} {:>8.2} {:>5.2} {:>6.2} {:>6.2} {:>7} {:>10} {:>5} {:>7.1} {:>6} {:>8} {:>8} {} [{}] {}K",
                o * 1e3,
                n * 1e3,
                n / o,
                o * 1e9 / bytes.max(1) as f64,
                n * 1e9 / bytes.max(1) as f64,
                texts.len(),
                bytes,
                list.len(),
                build_ms,
                extra,
                reports[0],
                reports[1],
                name,
                strategy,
                set.memory_usage() / 1024
            ),
        ));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "{:>8} {:>8} {:>5} {:>6} {:>6} {:>7} {:>10} {:>5} {:>7} {:>6} {:>8} {:>8} name",
        "old ms",
        "new ms",
        "ratio",
        "oldns/B",
        "newns/B",
        "texts",
        "bytes",
        "lits",
        "bld ms",
        "extra",
        "rep-old",
        "rep-new"
    );
    for (_, row) in rows.iter().take(30) {
        println!("{row}");
    }
    println!(
        "total: old {:.2} ms, new {:.2} ms, ratio {:.3}",
        total_old * 1e3,
        total_new * 1e3,
        total_new / total_old
    );
}
