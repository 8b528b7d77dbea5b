//! `sigwatch check`: validate rules like a compiler, with snippets, or as one JSON document.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, ValueEnum};
use serde_json::json;
use sigma::Diagnostic;

use super::pipeline_args::PipelineArgs;
use crate::rules;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Check Sigma rules for errors and convention warnings.
///
/// Exit status: 0 when no rule has an error (warnings allowed), 1 when any rule has an error,
/// 2 for usage or I/O problems.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Rule files or folders (searched recursively for .yml and .yaml files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Do not print warnings (text format); they are still counted.
    #[arg(long, short)]
    pub quiet: bool,
    /// With pipelines: also report (as warnings) rules they cannot map or refuse.
    #[command(flatten)]
    pub pipelines: PipelineArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(chain) = args.pipelines.chain_reported() else {
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    let mut loaded = match rules::load(&args.paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    // Per-file diagnostics plus the ones that need the whole set.
    let mut per_file: Vec<Vec<Diagnostic>> = loaded
        .files
        .iter()
        .map(|f| f.loaded.diagnostics.clone())
        .collect();
    for (file, d) in loaded.set_diagnostics() {
        per_file[file].push(d);
    }
    if !chain.is_empty() {
        for (fi, f) in loaded.files.iter().enumerate() {
            for rule in &f.loaded.rules {
                let span = rule.logsource().map_or(rule.span, |l| l.span);
                let d = match chain.variants(rule) {
                    Ok((_, skipped)) => match skipped {
                        Some(s) => Diagnostic::warning("pipeline-unmapped", span, s.to_string()),
                        None => continue,
                    },
                    Err(e) => Diagnostic::warning(
                        "pipeline-refused",
                        e.span.unwrap_or(span),
                        format!("refused by the pipeline: {e}"),
                    ),
                };
                let mut d = d;
                d.rule_id = rule.id().map(str::to_owned);
                per_file[fi].push(d);
            }
        }
    }
    for ds in &mut per_file {
        ds.sort_by_key(|d| (d.span.start.line, d.span.start.column));
    }
    let rule_count: usize = loaded.files.iter().map(|f| f.loaded.documents).sum();
    let errors: usize = per_file.iter().flatten().filter(|d| d.is_error()).count();
    let warnings: usize = per_file.iter().flatten().count() - errors;
    let io_errors = loaded.unreadable.len();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            let mut diagnostics = Vec::new();
            for (f, ds) in loaded.files.iter().zip(&per_file) {
                for d in ds {
                    diagnostics.push(json!({
                        "path": f.path,
                        "line": d.span.start.line,
                        "column": d.span.start.column,
                        "severity": d.severity.as_str(),
                        "code": d.code,
                        "message": d.message,
                        "rule_id": d.rule_id,
                    }));
                }
            }
            for (path, reason) in &loaded.unreadable {
                diagnostics.push(json!({
                    "path": path, "line": 0, "column": 0, "severity": "error",
                    "code": "io", "message": reason, "rule_id": null,
                }));
            }
            let doc = json!({
                "files": loaded.files.len() + io_errors,
                "rules": rule_count,
                "errors": errors + io_errors,
                "warnings": warnings,
                "diagnostics": diagnostics,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Text => {
            for (f, ds) in loaded.files.iter().zip(&per_file) {
                for d in ds {
                    if args.quiet && !d.is_error() {
                        continue;
                    }
                    writeln!(out, "{}", d.render(&f.path, &f.text))?;
                }
            }
            for (path, reason) in &loaded.unreadable {
                writeln!(out, "error[io]: {path}: {reason}\n")?;
            }
            writeln!(
                out,
                "checked {} rule{} in {} file{}: {} error{}, {} warning{}",
                rule_count,
                plural(rule_count),
                loaded.files.len() + io_errors,
                plural(loaded.files.len() + io_errors),
                errors + io_errors,
                plural(errors + io_errors),
                warnings,
                plural(warnings),
            )?;
        }
    }
    out.flush()?;
    Ok(if io_errors > 0 {
        ExitCode::from(super::EXIT_USAGE)
    } else if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
