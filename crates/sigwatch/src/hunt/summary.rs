//! The summary `hunt` prints on stderr at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use sigma::rule::Level;

use super::output::RuleInfo;
use super::{Choice, Compiled};

/// Counts gathered while the results come in.
#[derive(Debug, Default)]
pub struct Tally {
    pub events: u64,
    pub skipped: u64,
    pub files: u64,
    pub files_failed: u64,
    /// Detections per rule index (plain and correlation).
    pub per_rule: BTreeMap<usize, u64>,
    pub correlation_detections: u64,
    /// Files per pipeline choice (JSON files are counted by the choice of their first batch).
    pub choices: BTreeMap<Choice, u64>,
    pub untimed_hits: u64,
    pub fed_hits: u64,
    /// Plain detections on events without a readable time (`timestamp` null).
    pub untimed_detections: u64,
    /// The first of those events (or of the correlation hits left out), as a message.
    pub untimed_first: Option<String>,
}

impl Tally {
    pub fn detections(&self) -> u64 {
        self.per_rule.values().sum()
    }
}

/// What the rules looked like before matching.
#[derive(Debug, Default)]
pub struct RuleCounts {
    pub files: u64,
    pub loaded: u64,
    pub detection: u64,
    pub correlation: u64,
    pub filter: u64,
    /// Rule documents with errors, not loaded.
    pub broken: u64,
    pub unreadable_files: u64,
    /// Left out by `--min-level` / `--status`.
    pub not_selected: u64,
    /// Correlations that cannot run, with the reason.
    pub correlation_errors: Vec<String>,
}

/// Names the first event without a readable time, for the user to see which field to name.
fn untimed_first(s: &mut String, tally: &Tally) {
    if let Some(first) = &tally.untimed_first {
        let _ = writeln!(s, "  the first event without a readable time: {first}");
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary text.
pub fn render(
    tally: &Tally,
    rules: &RuleCounts,
    compiled: &[std::sync::Arc<Compiled>],
    infos: &[RuleInfo],
    top: usize,
    elapsed: Duration,
    choice_name: &dyn Fn(Choice) -> String,
) -> String {
    let mut s = String::new();
    let secs = elapsed.as_secs_f64();
    let _ = writeln!(s, "── hunt summary ──");
    // Rules.
    let _ = writeln!(
        s,
        "rules: {} loaded from {} ({} detection, {} correlation, {} filter); {} with errors not loaded{}; {} left out by --min-level/--status",
        rules.loaded,
        plural(rules.files, "file", "files"),
        rules.detection,
        rules.correlation,
        rules.filter,
        rules.broken,
        if rules.unreadable_files > 0 {
            format!(
                ", {} unreadable",
                plural(rules.unreadable_files, "file", "files")
            )
        } else {
            String::new()
        },
        rules.not_selected,
    );
    for c in compiled {
        let left = not_run(c);
        let _ = writeln!(
            s,
            "  pipeline {}: {} run{} ({:.0} ms)",
            c.name,
            plural(c.usable, "rule", "rules"),
            if left.is_empty() {
                String::new()
            } else {
                format!("; {}", left.join(", "))
            },
            c.took.as_secs_f64() * 1000.0
        );
        const SHOWN: usize = 5;
        let reasons = left_out(c);
        for (n, why, example) in reasons.iter().take(SHOWN) {
            let _ = writeln!(s, "    {n} × {why}{example}");
        }
        if reasons.len() > SHOWN {
            let rest: u64 = reasons[SHOWN..].iter().map(|(n, _, _)| n).sum();
            let _ = writeln!(
                s,
                "    {} for {} more reasons (`hunt -q` lists them all)",
                plural(rest, "rule", "rules"),
                reasons.len() - SHOWN
            );
        }
    }
    for e in &rules.correlation_errors {
        let _ = writeln!(s, "  correlation not run: {e}");
    }
    // Input.
    let _ = writeln!(
        s,
        "input: {}{}, {} events read, {} skipped",
        plural(tally.files, "file", "files"),
        if tally.files_failed > 0 {
            format!(" ({} unreadable)", tally.files_failed)
        } else {
            String::new()
        },
        tally.events,
        tally.skipped,
    );
    if !tally.choices.is_empty() {
        let parts: Vec<String> = tally
            .choices
            .iter()
            .map(|(c, n)| format!("{} {}", plural(*n, "file", "files"), choice_name(*c)))
            .collect();
        let _ = writeln!(s, "  pipelines: {}", parts.join(", "));
    }
    // Detections.
    let total = tally.detections();
    let mut per_level: BTreeMap<Option<Level>, u64> = BTreeMap::new();
    let mut per_tactic: BTreeMap<&str, u64> = BTreeMap::new();
    for (&rule, &n) in &tally.per_rule {
        let info = &infos[rule];
        *per_level.entry(info.level).or_default() += n;
        for t in &info.tactics {
            *per_tactic.entry(t).or_default() += n;
        }
    }
    let _ = write!(
        s,
        "detections: {total} ({}",
        plural(tally.per_rule.len() as u64, "rule", "rules")
    );
    if tally.correlation_detections > 0 {
        let _ = write!(s, ", {} from correlations", tally.correlation_detections);
    }
    let _ = writeln!(s, ")");
    if tally.untimed_detections > 0 {
        let _ = writeln!(
            s,
            "  {} on events without a readable time (timestamp null; see --timestamp-field)",
            tally.untimed_detections
        );
        untimed_first(&mut s, tally);
    }
    if total > 0 {
        let levels: Vec<String> = per_level
            .iter()
            .rev()
            .map(|(l, n)| format!("{} {n}", l.map_or("no level", |l| l.as_str())))
            .collect();
        let _ = writeln!(s, "  by level: {}", levels.join(", "));
        let mut tactics: Vec<(&str, u64)> = per_tactic.into_iter().collect();
        tactics.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if !tactics.is_empty() {
            let parts: Vec<String> = tactics.iter().map(|(t, n)| format!("{t} {n}")).collect();
            let _ = writeln!(s, "  by ATT&CK tactic: {}", parts.join(", "));
        }
        let mut rules_by: Vec<(usize, u64)> =
            tally.per_rule.iter().map(|(r, n)| (*r, *n)).collect();
        rules_by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if top > 0 {
            let _ = writeln!(
                s,
                "  top rules{}:",
                if rules_by.len() > top {
                    format!(" ({top} of {})", rules_by.len())
                } else {
                    String::new()
                }
            );
            for (rule, n) in rules_by.iter().take(top) {
                let info = &infos[*rule];
                let _ = writeln!(s, "    {n:>8}  {:<13} {}", info.level_name(), info.title);
            }
        }
    }
    if tally.fed_hits > 0 || tally.untimed_hits > 0 {
        let _ = writeln!(
            s,
            "correlation: {} matches of the rules behind correlations, taken in event-time order{}",
            tally.fed_hits,
            if tally.untimed_hits > 0 {
                format!(
                    ", {} hits left out (no readable event time)",
                    tally.untimed_hits
                )
            } else {
                String::new()
            }
        );
        if tally.untimed_detections == 0 {
            untimed_first(&mut s, tally);
        }
    }
    let _ = writeln!(
        s,
        "time: {secs:.2}s, {:.0} events/s",
        tally.events as f64 / secs.max(1e-9)
    );
    s
}

/// Reasons grouped by kind: the text up to a quoted name is dropped so counts add up.
/// The rules of one engine the pipeline refused or the engine could not compile, grouped by
/// reason (quoted names left out), most first: how many, the reason, and the first rule's
/// title and file as ` (title, file)`, so that a rule left out can be found (`sigwatch
/// resolve` shows it whole).
pub fn left_out(c: &Compiled) -> Vec<(u64, String, String)> {
    // Reasons that differ only in quoted names are counted together; a reason only one rule
    // has is shown whole.
    let mut reasons: BTreeMap<String, (u64, usize, &str)> = BTreeMap::new();
    for (rule, why) in c.refused.iter().chain(&c.errors) {
        reasons
            .entry(shorten_reason(why))
            .or_insert((0, *rule, why))
            .0 += 1;
    }
    let mut reasons: Vec<(String, (u64, usize))> = reasons
        .into_iter()
        .map(|(short, (n, rule, why))| {
            let shown = if n == 1 {
                why.lines().next().unwrap_or(why).to_owned()
            } else {
                short
            };
            (shown, (n, rule))
        })
        .collect();
    reasons.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    reasons
        .into_iter()
        .map(|(why, (n, rule))| {
            let example = c.engine.rules().get(rule).map_or(String::new(), |r| {
                let (first, rule) = (if n == 1 { "" } else { "first: " }, &r.rule);
                format!(" ({first}{}, {})", rule.title(), rule.origin.path)
            });
            (n, why, example)
        })
        .collect()
}

/// What kept an engine's rules from running, in counts (empty: nothing).
fn not_run(c: &Compiled) -> Vec<String> {
    let mut left = Vec::new();
    let na: u64 = c.not_applicable.values().sum();
    if na > 0 {
        left.push(format!("{na} not applicable (log source not mapped)"));
    }
    if !c.refused.is_empty() {
        left.push(format!("{} refused by the pipeline", c.refused.len()));
    }
    if !c.errors.is_empty() {
        left.push(format!("{} not compiled", c.errors.len()));
    }
    left
}

/// Why no rule of any engine could run, per pipeline: `pipeline evtx: 12 not applicable (log
/// source not mapped), 2 not compiled`.
pub fn why_none_ran(compiled: &[std::sync::Arc<Compiled>]) -> String {
    let parts: Vec<String> = compiled
        .iter()
        .map(|c| (c, not_run(c)))
        .filter(|(_, left)| !left.is_empty())
        .map(|(c, left)| format!("pipeline {}: {}", c.name, left.join(", ")))
        .collect();
    if parts.is_empty() {
        return "no detection rule is active".to_owned();
    }
    parts.join("; ")
}

fn shorten_reason(why: &str) -> String {
    let first_line = why.lines().next().unwrap_or(why);
    let mut out = String::new();
    let mut in_quote = false;
    for c in first_line.chars() {
        if c == '\'' {
            in_quote = !in_quote;
            if in_quote {
                out.push_str("'…");
            } else {
                out.push('\'');
            }
            continue;
        }
        if !in_quote {
            out.push(c);
        }
    }
    out
}
