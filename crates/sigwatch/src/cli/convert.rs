//! `sigwatch convert`: rules to Elasticsearch-family queries, sigmac- and sigma-cli-compatible.
//!
//! Every rule is converted exactly or refused with a reason; a refusal never stops the run
//! (exit 0) unless `--strict`. With `-o DIR` each output (one per rule and log source) is a
//! file of its own; with `-o FILE` or without `-o` the outputs are concatenated.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args as ClapArgs;
use std::collections::HashMap;

use convert::{AlertOptions, CaseStrategy, ConvertError, Options, Output};
use rayon::prelude::*;
use serde_json::json;
use sigma::Rule;
use sigma::pipeline::ResolvedRule;
use sigma::rule::RuleBody;

use super::pipeline_args::PipelineArgs;
use crate::rules;

/// Convert Sigma rules into queries for a target (see `sigwatch list targets`).
///
/// Each rule gives one output per log source it maps to. Rules a target cannot express exactly
/// are refused with the reason (the rule, the field and the feature) and the run goes on.
///
/// Exit status: 0 when the run completed (refusals included, unless --strict), 1 with --strict
/// when a rule was refused or broken, 2 for usage or I/O problems.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Rule files or folders (searched recursively for .yml and .yaml files).
    #[arg(required = true, value_name = "RULES")]
    pub paths: Vec<PathBuf>,
    /// Target: lucene (es-qs), es-dsl, ... (`sigwatch list targets`).
    #[arg(short, long, value_name = "TARGET")]
    pub target: String,
    #[command(flatten)]
    pub pipelines: PipelineArgs,
    /// Output: a folder (existing, or ending in '/') gets one file per rule and log source;
    /// anything else is one file with every output.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Output format of the target (`sigwatch list targets`).
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Backend option KEY=VALUE (case=..., ip_fields=a,b, ...); repeatable.
    #[arg(short = 'O', long = "backend-option", value_name = "KEY=VALUE")]
    pub backend_option: Vec<String>,
    /// How case-insensitive matching is expressed: regex (exact on keyword fields, default),
    /// subfield:<suffix>, lowercase-field or none (see docs/convert.md).
    #[arg(long, value_name = "STRATEGY")]
    pub case_insensitive: Option<String>,
    /// Print one JSON object per rule: {rule_id, path, target, outputs, error}.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when any rule is refused or broken.
    #[arg(long)]
    pub strict: bool,
    /// Accepted for sigmac compatibility: folders are always searched recursively.
    #[arg(short, long)]
    pub recurse: bool,
    /// Accepted for sigmac compatibility: refusals never stop the run (see --strict).
    #[arg(short = 'I', long)]
    pub ignore_backend_errors: bool,
    /// Accepted for sigma-cli compatibility: unsupported rules are always skipped and reported.
    #[arg(short = 's', long)]
    pub skip_unsupported: bool,
    /// Do not print the per-rule refusal lines (the summary stays).
    #[arg(short, long)]
    pub quiet: bool,
    /// elastalert: alerters for a level, LEVEL=ALERTER[,ALERTER] (levels informational ..
    /// critical, or * for the others); repeatable. Default: debug. Settings the alerters need
    /// come from --alert-option, --alert-env or the environment (slack: slack_webhook_url from
    /// SIGWATCH_SLACK_WEBHOOK_URL; email: email from SIGWATCH_ALERT_EMAIL; post/post2:
    /// http_post_url / http_post2_url from SIGWATCH_HTTP_POST_URL / SIGWATCH_HTTP_POST2_URL).
    #[arg(long, value_name = "LEVEL=ALERTERS")]
    pub alert: Vec<String>,
    /// elastalert: an alerter setting KEY from the environment variable VAR (the value is
    /// written into the rule files); repeatable.
    #[arg(long, value_name = "KEY=VAR")]
    pub alert_env: Vec<String>,
    /// elastalert: an alerter setting KEY=VALUE (smtp_host=..., email=a@x,b@y); repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub alert_option: Vec<String>,
    /// elastalert: realert, the time before the same rule alerts again (0m, 5m, 1h; default 0m:
    /// every match alerts).
    #[arg(long, value_name = "DURATION")]
    pub realert: Option<String>,
}

/// The result for one rule.
struct Converted<'a> {
    rule: &'a Rule,
    result: Result<Vec<Output>, Refusal>,
}

/// A rule after the pipelines.
enum Resolved {
    Ok(ResolvedRule),
    /// The pipelines refused it or do not map it.
    Refused(Arc<Rule>, Refusal),
}

impl Resolved {
    fn rule(&self) -> &Rule {
        match self {
            Resolved::Ok(r) => &r.rule,
            Resolved::Refused(r, _) => r,
        }
    }

    fn ok(&self) -> Option<&ResolvedRule> {
        match self {
            Resolved::Ok(r) => Some(r),
            Resolved::Refused(..) => None,
        }
    }
}

/// Why a rule gave no output.
#[derive(Clone)]
enum Refusal {
    /// The target cannot express it.
    Backend(ConvertError),
    /// A pipeline refused the rule (a `fail` item, a field it cannot map, ...).
    Pipeline(String),
    /// The pipelines do not map the rule's log source.
    NotApplicable(String),
}

impl Refusal {
    fn group(&self) -> String {
        match self {
            Refusal::Backend(e) => e.group(),
            Refusal::Pipeline(m) => format!("pipeline: {m}"),
            Refusal::NotApplicable(_) => {
                "not applicable: the pipelines do not map the rule's log source".into()
            }
        }
    }

    fn message(&self, rule: &Rule) -> String {
        match self {
            Refusal::Backend(e) => e.to_string(),
            Refusal::Pipeline(m) => format!(
                "rule {} ({}): pipeline refused it: {m}",
                rule.id().unwrap_or(rule.title()),
                rule.origin.path
            ),
            Refusal::NotApplicable(r) => format!(
                "rule {} ({}): not applicable: {r}",
                rule.id().unwrap_or(rule.title()),
                rule.origin.path
            ),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let Some(backend) = convert::backend(&args.target) else {
        let names: Vec<&str> = convert::backends().iter().map(|b| b.name()).collect();
        eprintln!(
            "error: unknown target '{}'; targets: {} (see `sigwatch list targets`)",
            args.target,
            names.join(", ")
        );
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    let mut options = match Options::from_pairs(args.backend_option.iter().map(String::as_str)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    if let Some(c) = &args.case_insensitive {
        match CaseStrategy::parse(c) {
            Ok(c) => options.case = c,
            Err(e) => {
                eprintln!("error: --case-insensitive: {e}");
                return Ok(ExitCode::from(super::EXIT_USAGE));
            }
        }
    }
    if let Some(f) = &args.format {
        if !backend.formats().iter().any(|x| x.name == f) {
            let names: Vec<&str> = backend.formats().iter().map(|f| f.name).collect();
            eprintln!(
                "error: target {} has no format '{f}'; formats: {}",
                backend.name(),
                names.join(", ")
            );
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
        options.format = Some(f.clone());
    }
    if let Err(e) = alerting(&args, backend.name(), &mut options.alert) {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let Some(chain) = args.pipelines.chain_reported() else {
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    // Queries do not show what the pipelines changed (`resolve` does).
    let chain = chain.without_descriptions();

    let mut loaded = match rules::load(&args.paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    // The rules move out of their files (which keep their diagnostics): resolving takes them
    // over instead of copying each.
    let mut rules: Vec<Rule> = loaded
        .files
        .iter_mut()
        .flat_map(|f| std::mem::take(&mut f.loaded.rules))
        .collect();
    // Sigma 2.1 filters are folded into the rules they name (`rule and not filter`), so the
    // queries drop what the filters drop, as `hunt` does.
    if rules.iter().any(|r| matches!(r.body, RuleBody::Filter(_))) {
        for a in sigma::filter::apply(&mut rules) {
            if args.quiet || args.json {
                continue;
            }
            let f = &rules[a.filter];
            let name = f.id().unwrap_or(f.title());
            match &a.refused {
                Some(why) => eprintln!("filter {name} not applied: {why}"),
                None if a.rules.is_empty() => eprintln!(
                    "filter {name} applies to no loaded rule (none named with a log source inside the filter's)"
                ),
                None => eprintln!("filter {name} applied to {} rule(s)", a.rules.len()),
            }
        }
    }
    // Resolve every rule first: correlations need the rules they refer to, and names that must
    // be unique per target are made unique over the whole run.
    let resolved: Vec<Resolved> = rules
        .into_par_iter()
        .map(|rule| {
            let rule = Arc::new(rule);
            match chain.variants(&rule) {
                Err(e) => Resolved::Refused(rule, Refusal::Pipeline(e.to_string())),
                Ok((_, Some(na))) => Resolved::Refused(rule, Refusal::NotApplicable(na.reason)),
                Ok((variants, None)) => Resolved::Ok(ResolvedRule {
                    rule,
                    variants,
                    skipped: None,
                }),
            }
        })
        .collect();
    let cx = convert::Context::new(resolved.iter().filter_map(Resolved::ok));
    let results: Vec<Converted> = resolved
        .par_iter()
        .map(|r| Converted {
            rule: r.rule(),
            result: match r {
                Resolved::Refused(_, e) => Err(e.clone()),
                Resolved::Ok(r) => backend
                    .convert_in(r, &cx, &options)
                    .map_err(Refusal::Backend),
            },
        })
        .collect();
    // Rules referenced by a converted correlation with `generate: false` (the default) are
    // not output on their own: the correlation stands for them.
    let mut not_generated: HashMap<&str, &str> = HashMap::new();
    for c in &results {
        if let (RuleBody::Correlation(corr), Ok(_)) = (&c.rule.body, &c.result)
            && !corr.generate
        {
            let by = c.rule.id().unwrap_or(c.rule.title());
            for r in &corr.rules {
                not_generated.insert(r.value.as_str(), by);
            }
        }
    }
    let suppressed_by = |rule: &Rule| -> Option<&str> {
        if !matches!(rule.body, RuleBody::Detection(_)) {
            return None;
        }
        rule.id()
            .and_then(|id| not_generated.get(id))
            .or_else(|| {
                rule.meta
                    .name
                    .as_ref()
                    .and_then(|n| not_generated.get(n.value.as_str()))
            })
            .copied()
    };

    let out_dir = args.output.as_deref().filter(|p| is_dir_target(p));
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let stdout = std::io::stdout();
    let mut sink: Box<dyn Write> = match (&args.output, out_dir) {
        (Some(p), None) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        _ => Box::new(std::io::BufWriter::new(stdout.lock())),
    };

    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let (mut converted, mut outputs, mut files) = (0usize, 0usize, 0usize);
    let mut skipped = 0usize;
    let mut used_names: std::collections::HashSet<String> = std::collections::HashSet::new();
    // Files of -o DIR, written in parallel once the names are settled (creating thousands of
    // small files is mostly system time, which several threads share out).
    let mut to_write: Vec<(PathBuf, &String)> = Vec::new();
    for c in &results {
        let mut written = Vec::new();
        let by_correlation = c.result.as_ref().ok().and_then(|_| suppressed_by(c.rule));
        if let Some(corr) = by_correlation {
            skipped += 1;
            if !args.quiet && !args.json {
                eprintln!(
                    "not generated: rule {} ({}) is referenced by correlation {corr} (generate: false)",
                    c.rule.id().unwrap_or(c.rule.title()),
                    c.rule.origin.path
                );
            }
        }
        match &c.result {
            Ok(_) if by_correlation.is_some() => {}
            Ok(outs) => {
                converted += 1;
                outputs += outs.len();
                for o in outs {
                    if let Some(dir) = out_dir {
                        let name = unique_name(o, &mut used_names);
                        let path = dir.join(&name);
                        written.push(Some(path.display().to_string()));
                        to_write.push((path, &o.text));
                        files += 1;
                    } else {
                        if !args.json {
                            writeln!(sink, "{}", o.text)?;
                        }
                        written.push(None);
                    }
                }
            }
            Err(e) => {
                *refused.entry(e.group()).or_default() += 1;
                if !args.quiet && !args.json {
                    eprintln!("refused: {}", e.message(c.rule));
                }
            }
        }
        if args.json {
            let doc = json!({
                "rule_id": c.rule.id(),
                "path": &*c.rule.origin.path,
                "target": backend.name(),
                "outputs": match &c.result {
                    Ok(_) if by_correlation.is_some() => Vec::new(),
                    Ok(outs) => outs.iter().zip(&written).map(|(o, file)| json!({
                        "variant": o.variant,
                        "indices": o.indices,
                        "file": file,
                        "text": o.text,
                    })).collect::<Vec<_>>(),
                    Err(_) => Vec::new(),
                },
                "error": c.result.as_ref().err().map(|e| e.message(c.rule)),
                "not_generated": by_correlation.map(|corr| format!("referenced by correlation {corr} (generate: false)")),
            });
            writeln!(sink, "{doc}")?;
        }
    }
    to_write.par_iter().try_for_each(|(path, text)| {
        write_output(path, text).with_context(|| format!("cannot write {}", path.display()))
    })?;
    // Files that did not load are reported like refusals.
    let mut broken = 0usize;
    for f in &loaded.files {
        for d in f.loaded.diagnostics.iter().filter(|d| d.is_error()) {
            broken += 1;
            if !args.quiet {
                eprintln!(
                    "broken: {}:{}:{}: {}",
                    f.path, d.span.start.line, d.span.start.column, d.message
                );
            }
        }
    }
    for (path, reason) in &loaded.unreadable {
        eprintln!("error: {path}: {reason}");
    }
    sink.flush()?;
    drop(sink);

    let total_refused: usize = refused.values().sum();
    eprintln!(
        "{}: {} rule{} converted ({} output{}{}), {} refused, {} broken{}, in {:.2}s",
        backend.name(),
        converted,
        plural(converted),
        outputs,
        plural(outputs),
        if out_dir.is_some() {
            format!(", {files} file{} written", plural(files))
        } else {
            String::new()
        },
        total_refused,
        broken,
        if skipped > 0 {
            format!(", {skipped} not generated (referenced by correlations)")
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64()
    );
    let mut groups: Vec<(&String, &usize)> = refused.iter().collect();
    groups.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (reason, n) in groups {
        eprintln!("  {n:>5} refused: {reason}");
    }
    let status = if !loaded.unreadable.is_empty() {
        ExitCode::from(super::EXIT_USAGE)
    } else if args.strict && (total_refused > 0 || broken > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends with this command: freeing the rules, the resolved rules and the
    // outputs one allocation at a time cost about a tenth of the run (measured over the
    // corpus), so the system takes the memory back at exit instead.
    std::mem::forget(results);
    std::mem::forget(cx);
    std::mem::forget(resolved);
    std::mem::forget(loaded);
    Ok(status)
}

/// The ElastAlert alerting flags into the backend options; settings the chosen alerters need
/// are read from the environment now (ElastAlert reads plain values from its rule files).
fn alerting(args: &Args, target: &str, alert: &mut AlertOptions) -> Result<(), String> {
    let used = !args.alert.is_empty()
        || !args.alert_env.is_empty()
        || !args.alert_option.is_empty()
        || args.realert.is_some();
    if used && target != "elastalert" {
        return Err(format!(
            "--alert, --alert-env, --alert-option and --realert apply to -t elastalert, not {target}"
        ));
    }
    for spec in &args.alert {
        alert.add_alert(spec)?;
    }
    for kv in &args.alert_option {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--alert-option '{kv}' is not KEY=VALUE"))?;
        alert.set(k.trim(), v.trim());
    }
    for kv in &args.alert_env {
        let (k, var) = kv
            .split_once('=')
            .ok_or_else(|| format!("--alert-env '{kv}' is not KEY=VAR"))?;
        let value = std::env::var(var.trim()).map_err(|_| {
            format!(
                "--alert-env {kv}: the environment variable {} is not set",
                var.trim()
            )
        })?;
        alert.set(k.trim(), &value);
    }
    for (alerter, key, env) in alert.missing() {
        match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => alert.set(key, &v),
            _ => {
                return Err(format!(
                    "the {alerter} alerter needs {key}: set the environment variable {env}, or use --alert-env {key}=VAR or --alert-option {key}=VALUE"
                ));
            }
        }
    }
    if let Some(r) = &args.realert {
        alert.set_realert(r)?;
    }
    Ok(())
}

/// `-o` names a folder when it exists as one or ends with a path separator.
fn is_dir_target(p: &Path) -> bool {
    p.is_dir()
        || p.as_os_str()
            .to_string_lossy()
            .ends_with(std::path::MAIN_SEPARATOR)
        || p.as_os_str().to_string_lossy().ends_with('/')
}

/// The output's file name, made unique within the run (two rule files with the same stem in
/// different folders).
fn unique_name(o: &Output, used: &mut std::collections::HashSet<String>) -> String {
    let mut name = o.file_name();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{}_{n}.{}", o.file_stem, o.extension);
        n += 1;
    }
    name
}

/// Write one output, ending with a newline.
fn write_output(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
