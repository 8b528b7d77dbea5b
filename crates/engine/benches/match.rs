//! Matching throughput of all Windows rules of the corpus, on one thread.
//!
//! `SIGWATCH_DATA=/work/shared/data cargo bench -p sigwatch-engine --bench match`
//!
//! - `compile/windows`: compiling ~2,400 rules (resolved with the built-in `evtx` pipeline).
//! - `regression_events`: the SigmaHQ regression events (EVTX JSON form, `serde_json::Value`).
//! - `security_datasets/*`: JSON lines (NXLog field names, rules resolved with
//!   the built-in `windows-flat` pipeline): the lazy line
//!   scanner + engine, the scanner alone, and for comparison a full `serde_json::Value` parse +
//!   engine.

#![allow(clippy::unwrap_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine::Engine;

/// Lines taken from the start of each security-datasets file.
const LINES_PER_FILE: usize = 400;

fn dataset_lines(data: &std::path::Path) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for f in testkit::files(&data.join("security-datasets"), &["gz"]) {
        let file = std::fs::File::open(&f).unwrap();
        let reader = BufReader::new(flate2::read::GzDecoder::new(file));
        lines.extend(
            reader
                .split(b'\n')
                .take(LINES_PER_FILE)
                .map(Result::unwrap)
                .filter(|l| !l.is_empty()),
        );
    }
    lines
}

fn bench(c: &mut Criterion) {
    let Some(data) = testkit::data_root("bench match") else {
        return;
    };
    let rules = support::load_rules(&data.join("sigma/rules/windows"));
    let evtx = support::resolve_all(&support::builtin_chain("evtx"), &rules);
    let flat = support::resolve_all(&support::builtin_chain("windows-flat"), &rules);
    eprintln!("{} rules", rules.len());

    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("windows", |b| b.iter(|| Engine::compile(evtx.clone())));
    g.finish();

    let engine = Engine::compile(evtx);
    let events: Vec<serde_json::Value> = support::regression_cases(&data)
        .into_iter()
        .flat_map(|c| c.events)
        .collect();
    let mut scratch = engine.scratch();
    let mut out = Vec::new();
    let mut g = c.benchmark_group("regression_events");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("value", |b| {
        b.iter(|| {
            out.clear();
            for ev in &events {
                engine.matches_with(ev, &mut scratch, &mut out);
            }
            out.len()
        })
    });
    g.finish();

    let engine = Engine::compile(flat);
    let lines = dataset_lines(&data);
    let bytes: usize = lines.iter().map(Vec::len).sum();
    eprintln!("{} lines, {} MB", lines.len(), bytes >> 20);
    let mut scanner = engine.line_scanner();
    let mut scratch = engine.scratch();
    let mut g = c.benchmark_group("security_datasets");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("lines", |b| {
        b.iter(|| {
            out.clear();
            for l in &lines {
                if let Ok(ev) = scanner.scan(l) {
                    engine.matches_with(&ev, &mut scratch, &mut out);
                }
            }
            out.len()
        })
    });
    g.bench_function("scan_only", |b| {
        b.iter(|| lines.iter().filter(|l| scanner.scan(l).is_ok()).count())
    });
    g.bench_function("serde_value", |b| {
        b.iter(|| {
            out.clear();
            for l in &lines {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(l) {
                    engine.matches_with(&v, &mut scratch, &mut out);
                }
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
