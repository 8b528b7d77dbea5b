//! Tuning harness: routing / prefilter survivors per event and single-thread throughput.
//!
//! `cargo run --release -p sigwatch-engine --example stats -- RULES_DIR PIPELINE FILE.jsonl [top]`
//! (FILE: JSON lines, e.g. from `sigwatch dump`.)
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::BufRead;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rules = support::load_rules(std::path::Path::new(&args[1]));
    let resolved = support::resolve_all(&support::builtin_chain(&args[2]), &rules);
    let t = Instant::now();
    let engine = engine::Engine::compile(resolved);
    eprintln!("compile {:?}", t.elapsed());
    let file = std::fs::File::open(&args[3]).unwrap();
    let lines: Vec<Vec<u8>> = std::io::BufReader::new(file)
        .split(b'\n')
        .map(Result::unwrap)
        .filter(|l| !l.is_empty())
        .collect();
    let top: usize = args.get(4).map_or(0, |s| s.parse().unwrap());
    let mut scanner = engine.line_scanner();
    let mut scratch = engine.scratch();
    let mut sums = [0usize; 3];
    let mut by_rule: HashMap<(usize, bool), usize> = HashMap::new();
    for l in &lines {
        let ev = scanner.scan(l).unwrap();
        let st = engine.selection_stats(&ev, &mut scratch);
        for (sum, x) in sums.iter_mut().zip(st) {
            *sum += x;
        }
        if top > 0 {
            for r in engine.survivors(&ev, &mut scratch) {
                *by_rule.entry(r).or_default() += 1;
            }
        }
    }
    let n = lines.len() as f64;
    println!(
        "{} events: per event routed {:.1}, survived prefilter {:.1}, matched {:.3}",
        lines.len(),
        sums[0] as f64 / n,
        sums[1] as f64 / n,
        sums[2] as f64 / n
    );
    let mut v: Vec<_> = by_rule.into_iter().collect();
    v.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    for ((r, pre), c) in v.into_iter().take(top) {
        let rule = &engine.rules()[r].rule;
        println!("{:6} {} {}", c, pre, rule.title());
    }
    let mut worker = engine.worker();
    let mut hits = 0;
    // STATS_LOOPS passes over the lines (default 3; more for a profiler; at least 1).
    let loops: usize = std::env::var("STATS_LOOPS")
        .map_or(3, |s| s.parse().expect("STATS_LOOPS: a number"))
        .max(1);
    let t = Instant::now();
    for _ in 0..loops {
        for l in &lines {
            hits += worker.match_json(l).unwrap().len();
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "match_json: {:.0} events/s (1 thread), {} hits",
        loops as f64 * n / el,
        hits / loops
    );
}
