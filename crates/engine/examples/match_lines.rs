//! Run rules over a JSON-lines file and print every match, for comparisons with other
//! matchers (tools/lucene-compare compares these with real Lucene's hits).
//!
//!     cargo run --release -p sigwatch-engine --example match_lines -- \
//!         [-p PIPELINE]... [--threads N] [--status STATUS.jsonl] RULES... EVENTS.jsonl > MATCHES.jsonl
//!
//! - `-p`: a built-in pipeline name (`windows-flat`, `evtx`, ...) or a pipeline file; applied
//!   in the order given.
//! - `RULES`: rule files or folders (searched recursively for `.yml` / `.yaml`, sorted).
//! - Output: one line per (rule, variant, event) match, `{"rule_id", "path", "variant",
//!   "line", "needs_correlation"}`; `rule_id` is the rule's id (`null` without one), `variant`
//!   the index of the rule's variant (log source after the pipelines) as `sigwatch convert`
//!   numbers its outputs, `line` the 0-based line number in EVENTS. Every matching variant is
//!   reported (each variant is compiled as a rule of its own), not only the first. Lines sorted.
//! - `--status FILE`: one line per rule, `{"rule_id", "path", "variants", "status", "reason"}`
//!   with status `ok`, `skipped` (the pipeline does not map its log source), `pipeline` (the
//!   pipeline refused it), `error` (the engine cannot compile it).
//! - A line that is not valid JSON is counted and reported on stderr, never a stop.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use engine::Engine;
use sigma::pipeline::{Chain, Pipeline, ResolvedRule, builtin};
use sigma::rule::Rule;

struct Args {
    pipelines: Vec<String>,
    threads: usize,
    status: Option<PathBuf>,
    rules: Vec<PathBuf>,
    events: PathBuf,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: match_lines [-p PIPELINE]... [--threads N] [--status FILE] RULES... EVENTS.jsonl"
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Args> {
    let mut pipelines = Vec::new();
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut status = None;
    let mut paths = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" | "--pipeline" => pipelines.push(it.next()?),
            "--threads" => threads = it.next()?.parse().ok().filter(|&n| n > 0)?,
            "--status" => status = Some(PathBuf::from(it.next()?)),
            _ if a.starts_with('-') => return None,
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let events = paths.pop()?;
    if paths.is_empty() {
        return None;
    }
    Some(Args {
        pipelines,
        threads,
        status,
        rules: paths,
        events,
    })
}

fn load_pipeline(name: &str) -> Result<Pipeline, String> {
    if let Some(p) = builtin::get(name) {
        return p.map_err(|e| e.render());
    }
    let text = std::fs::read_to_string(name).map_err(|e| format!("{name}: {e}"))?;
    sigma::pipeline::read(name, &text).map_err(|e| e.render())
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !p.is_dir() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if matches!(e.extension().and_then(|x| x.to_str()), Some("yml" | "yaml")) {
            out.push(e);
        }
    }
    Ok(())
}

/// Where a compiled single-variant rule came from.
struct Origin {
    rule: usize,
    variant: usize,
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    let started = Instant::now();
    let mut pipelines = Vec::new();
    for name in &args.pipelines {
        match load_pipeline(name) {
            Ok(p) => pipelines.push(p),
            Err(e) => {
                eprintln!("error: pipeline {name}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let chain = match Chain::new(pipelines) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", e.render());
            return ExitCode::from(2);
        }
    };

    let mut files = Vec::new();
    for p in &args.rules {
        if let Err(e) = walk(p, &mut files) {
            eprintln!("error: {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    // Shared: each variant's rule below points to the one loaded copy.
    let mut rules: Vec<Arc<Rule>> = Vec::new();
    let mut broken = 0usize;
    for f in &files {
        let path = f.display().to_string();
        match std::fs::read_to_string(f) {
            Ok(text) => {
                let loaded = sigma::load_str(&text, &path);
                broken += loaded.broken;
                rules.extend(loaded.rules.into_iter().map(Arc::new));
            }
            Err(e) => {
                eprintln!("error: {path}: {e}");
                broken += 1;
            }
        }
    }

    // Every variant becomes a rule of its own, so that every matching variant is reported.
    let mut status = Vec::with_capacity(rules.len());
    let mut compiled: Vec<ResolvedRule> = Vec::new();
    let mut origin: Vec<Origin> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        match chain.apply(rule) {
            Err(e) => status.push((0, "pipeline", e.to_string())),
            Ok(r) if r.skipped.is_some() => {
                let reason = r.skipped.map(|s| s.reason).unwrap_or_default();
                status.push((0, "skipped", reason));
            }
            Ok(r) => {
                status.push((r.variants.len(), "ok", String::new()));
                for (v, variant) in r.variants.iter().enumerate() {
                    compiled.push(ResolvedRule {
                        rule: r.rule.clone(),
                        variants: vec![variant.clone()],
                        skipped: None,
                    });
                    origin.push(Origin {
                        rule: i,
                        variant: v,
                    });
                }
            }
        }
    }
    let engine = Engine::compile(compiled);
    for e in engine.errors() {
        let o = &origin[e.rule];
        status[o.rule].1 = "error";
        status[o.rule].2 = e.to_string();
    }
    if let Some(path) = &args.status {
        let mut text = String::new();
        for (rule, (variants, st, reason)) in rules.iter().zip(&status) {
            let line = serde_json::json!({
                "rule_id": rule.id(),
                "path": &*rule.origin.path,
                "variants": variants,
                "status": st,
                "reason": if reason.is_empty() { None } else { Some(reason) },
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }

    let data = match std::fs::read(&args.events) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", args.events.display());
            return ExitCode::from(2);
        }
    };
    let loaded_at = started.elapsed();
    // Split the file into one chunk per thread, at line ends, with each chunk's first line number.
    let mut chunks: Vec<(usize, &[u8])> = Vec::new();
    let mut start = 0usize;
    let mut first_line = 0usize;
    let target = data.len().div_ceil(args.threads.max(1)).max(1);
    while start < data.len() {
        let mut end = (start + target).min(data.len());
        while end < data.len() && data[end - 1] != b'\n' {
            end += 1;
        }
        let chunk = &data[start..end];
        chunks.push((first_line, chunk));
        first_line += memchr::memchr_iter(b'\n', chunk).count();
        start = end;
    }
    // Per chunk: (compiled rule, line) of each match, lines read, invalid lines.
    type ChunkResult = (Vec<(usize, usize)>, usize, usize);
    let results: Vec<ChunkResult> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&(first, chunk)| {
                let engine = &engine;
                s.spawn(move || {
                    let mut w = engine.worker();
                    let mut hits = Vec::new();
                    let (mut lines, mut bad) = (0usize, 0usize);
                    // A chunk ends with a newline (or the file's end): no line after the last.
                    let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
                    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
                        lines += 1;
                        match w.match_json(line) {
                            Ok(ms) => hits.extend(ms.iter().map(|m| (m.rule, first + n))),
                            Err(e) => {
                                bad += 1;
                                if bad <= 5 {
                                    eprintln!("line {}: {e}", first + n);
                                }
                            }
                        }
                    }
                    (hits, lines, bad)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a matching thread does not panic"))
            .collect()
    });
    let mut hits: Vec<(usize, usize, usize, usize)> = Vec::new();
    let (mut lines, mut bad) = (0usize, 0usize);
    for (h, l, b) in results {
        lines += l;
        bad += b;
        hits.extend(h.into_iter().map(|(c, line)| {
            let o = &origin[c];
            (o.rule, o.variant, line, c)
        }));
    }
    hits.sort_unstable();
    let mut out = String::with_capacity(hits.len() * 80);
    for &(r, v, line, c) in &hits {
        let rule = &rules[r];
        let line = serde_json::json!({
            "rule_id": rule.id(),
            "path": &*rule.origin.path,
            "variant": v,
            "line": line,
            "needs_correlation": engine.needs_correlation(c),
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_all(out.as_bytes()) {
        eprintln!("error: writing the matches: {e}");
        return ExitCode::from(2);
    }
    let count = |s: &str| status.iter().filter(|x| x.1 == s).count();
    eprintln!(
        "match_lines: {} rules ({} broken files/documents): {} ok, {} skipped, {} refused by the pipeline, {} not compiled; \
         {} lines ({} invalid), {} matches; load {:.1}s, match {:.1}s on {} threads",
        rules.len(),
        broken,
        count("ok"),
        count("skipped"),
        count("pipeline"),
        count("error"),
        lines,
        bad,
        hits.len(),
        loaded_at.as_secs_f64(),
        (started.elapsed() - loaded_at).as_secs_f64(),
        chunks.len()
    );
    ExitCode::SUCCESS
}
