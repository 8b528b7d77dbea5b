//! `yaml::parse` (fast path) against the saphyr-only path on the SigmaHQ rule corpus, with
//! saphyr-parser's bare event stream for scale.
//!
//! Reads every `.yml` under `$SIGWATCH_DATA/sigma/{rules,rules-emerging-threats,
//! rules-threat-hunting}` into memory first, so only parsing is timed. Skips (with a note) when
//! `SIGWATCH_DATA` is unset.
//!
//! Run: `SIGWATCH_DATA=/work/shared/data cargo bench -p sigwatch-sigma --bench yaml`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn corpus() -> Option<Vec<String>> {
    let root = testkit::data_root("YAML benchmark")?.join("sigma");
    let mut paths = Vec::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        paths.extend(testkit::files(&root.join(d), &["yml"]));
    }
    paths.sort();
    Some(
        paths
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect(),
    )
}

fn bench(c: &mut Criterion) {
    let Some(texts) = corpus() else {
        return;
    };
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!("corpus: {} files, {} bytes", texts.len(), bytes);
    let mut g = c.benchmark_group("yaml_corpus");
    g.sample_size(20);
    g.bench_function("parse (fast path)", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(sigma::yaml::parse(black_box(t)));
            }
        });
    });
    g.bench_function("parse_with_fallback_only (saphyr)", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(sigma::yaml::parse_with_fallback_only(black_box(t)));
            }
        });
    });
    // For scale: saphyr-parser producing its events and nothing else.
    g.bench_function("saphyr-parser events only", |b| {
        b.iter(|| {
            for t in &texts {
                let mut parser = saphyr_parser::Parser::new_from_str(black_box(t));
                let mut n = 0usize;
                while let Some(Ok(ev)) = parser.next_event() {
                    n += 1;
                    if ev.0 == saphyr_parser::Event::StreamEnd {
                        break;
                    }
                }
                black_box(n);
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
