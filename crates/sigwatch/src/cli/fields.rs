//! `sigwatch fields`: the field names a rule set uses (sigmac's `fieldlist`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, ValueEnum};
use serde_json::json;

use super::pipeline_args::PipelineArgs;
use crate::rules;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// List the field names that rules use, optionally per log source.
///
/// Rules with errors are skipped (run `sigwatch check` to see why); their count is printed on
/// standard error. With `-p`/`-c`, the fields are the site's names after the pipelines (including
/// the fields of the log-source conditions the pipelines add); rules a pipeline refuses are
/// skipped and counted.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Rule files or folders (searched recursively for .yml and .yaml files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Group the fields by log source (product/category/service).
    #[arg(long)]
    pub per_logsource: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub pipelines: PipelineArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let with_pipelines = !args.pipelines.pipelines.is_empty() || !args.pipelines.configs.is_empty();
    let Some(chain) = args.pipelines.chain_reported() else {
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    let loaded = match rules::load(&args.paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    // field -> number of rules using it, overall and per log source.
    let mut all: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_source: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut rule_count = 0;
    let mut refused = 0usize;
    for (_, rule) in loaded.rules() {
        let fields: BTreeSet<String> = if with_pipelines {
            match chain.apply(rule) {
                Ok(resolved) if resolved.skipped.is_none() => site_fields(rule, &resolved),
                _ => {
                    refused += 1;
                    continue;
                }
            }
        } else {
            sigma::fields::rule_fields(rule)
        };
        rule_count += 1;
        let source = rule
            .logsource()
            .map_or_else(|| "correlation".to_string(), |l| l.to_string());
        for f in fields {
            *all.entry(f.clone()).or_default() += 1;
            *per_source
                .entry(source.clone())
                .or_default()
                .entry(f)
                .or_default() += 1;
        }
    }
    let broken: usize =
        loaded.files.iter().map(|f| f.loaded.broken).sum::<usize>() + loaded.unreadable.len();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let list = |m: &BTreeMap<String, usize>| {
        m.iter()
            .map(|(f, n)| json!({"name": f, "rules": n}))
            .collect::<Vec<_>>()
    };
    match (args.format, args.per_logsource) {
        (Format::Json, false) => {
            serde_json::to_writer_pretty(
                &mut out,
                &json!({"rules": rule_count, "fields": list(&all)}),
            )?;
            writeln!(out)?;
        }
        (Format::Json, true) => {
            let sources: Vec<_> = per_source
                .iter()
                .map(|(s, m)| json!({"logsource": s, "fields": list(m)}))
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &json!({"rules": rule_count, "logsources": sources}),
            )?;
            writeln!(out)?;
        }
        (Format::Text, false) => {
            for f in all.keys() {
                writeln!(out, "{f}")?;
            }
        }
        (Format::Text, true) => {
            for (s, m) in &per_source {
                writeln!(out, "{s}:")?;
                for f in m.keys() {
                    writeln!(out, "    {f}")?;
                }
            }
        }
    }
    out.flush()?;
    if broken > 0 {
        eprintln!("note: {broken} rule(s) with errors skipped (see `sigwatch check`)");
    }
    if refused > 0 {
        eprintln!(
            "note: {refused} rule(s) the pipelines refuse or do not apply to skipped (see `sigwatch resolve`)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The site's field names a resolved rule uses: its variants' detections and log-source
/// conditions, plus the rule's `fields` and correlation fields named the site's way.
fn site_fields(rule: &sigma::Rule, resolved: &sigma::pipeline::ResolvedRule) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in &resolved.variants {
        sigma::fields::detection_fields(&v.detection, &mut out);
        out.extend(v.conditions.iter().filter_map(|c| c.field.clone()));
    }
    if resolved.variants.is_empty() {
        // Correlation rules: no detection of their own; map their group-by and value fields.
        out.extend(sigma::fields::rule_fields(rule));
    }
    out
}
