//! Rule metadata for the alerting and rule-file targets: level to priority, severity and risk
//! score, ATT&CK tags to tactics and techniques (offline: a table of tactics is part of the
//! source, `data/attack-tactics.tsv`), and names that are unique within a run.

use std::collections::HashMap;
use std::sync::OnceLock;

use sigma::pipeline::ResolvedRule;
use sigma::rule::{Level, Rule};

use crate::Context;
use crate::text::one_line;

/// The level a rule without `level` is treated as.
pub const DEFAULT_LEVEL: Level = Level::Medium;

pub fn level(rule: &Rule) -> Level {
    rule.meta.level.unwrap_or(DEFAULT_LEVEL)
}

/// ElastAlert `priority` as HELK's scripts expect it: critical 1 ... informational 5.
pub fn priority(level: Level) -> u8 {
    match level {
        Level::Critical => 1,
        Level::High => 2,
        Level::Medium => 3,
        Level::Low => 4,
        Level::Informational => 5,
    }
}

/// Elastic Security `severity` (it has no informational).
pub fn severity(level: Level) -> &'static str {
    match level {
        Level::Informational | Level::Low => "low",
        Level::Medium => "medium",
        Level::High => "high",
        Level::Critical => "critical",
    }
}

/// Elastic Security `risk_score` (0-100): the top of each severity's range (low 0-21, medium
/// 22-47, high 48-73, critical 74-100), informational at the bottom of low.
pub fn risk_score(level: Level) -> u8 {
    match level {
        Level::Informational => 1,
        Level::Low => 21,
        Level::Medium => 47,
        Level::High => 73,
        Level::Critical => 99,
    }
}

/// An ATT&CK tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tactic {
    pub id: &'static str,
    pub name: &'static str,
}

impl Tactic {
    pub fn reference(&self) -> String {
        format!("https://attack.mitre.org/tactics/{}/", self.id)
    }
}

fn tactics() -> &'static HashMap<&'static str, Tactic> {
    static TABLE: OnceLock<HashMap<&'static str, Tactic>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/attack-tactics.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((
                    f.next()?,
                    Tactic {
                        id: f.next()?,
                        name: f.next()?,
                    },
                ))
            })
            .collect()
    })
}

/// The tactic of an `attack.<tactic>` tag (the part after `attack.`, any case).
pub fn tactic(tag: &str) -> Option<Tactic> {
    tactics().get(tag.to_ascii_lowercase().as_str()).copied()
}

/// An ATT&CK technique or sub-technique from a tag (`t1059`, `t1059.001`): (technique id,
/// sub-technique id).
pub fn technique(tag: &str) -> Option<(String, Option<String>)> {
    let t = tag.to_ascii_uppercase();
    let rest = t.strip_prefix('T')?;
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(main) || !sub.is_none_or(digits) {
        return None;
    }
    let id = format!("T{main}");
    Some((id.clone(), sub.map(|s| format!("{id}.{s}"))))
}

/// `https://attack.mitre.org/techniques/T1059/001/`
pub fn technique_reference(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

/// The rule's `attack.*` tags as written.
pub fn attack_tags(rule: &Rule) -> Vec<&str> {
    rule.meta
        .tags
        .iter()
        .map(|t| t.value.as_str())
        .filter(|t| t.starts_with("attack."))
        .collect()
}

/// A name for one output of a rule that no other rule of the run shares: the title, the
/// variant label when the rule has several, and the rule id (or file) when another rule has
/// the same title.
pub fn unique_name(rule: &ResolvedRule, variant: Option<usize>, cx: &Context<'_>) -> String {
    let r = &rule.rule;
    let mut name = one_line(r.title());
    if let Some(i) = variant
        && rule.variants.len() > 1
    {
        let label = rule.variants[i]
            .label
            .clone()
            .unwrap_or_else(|| (i + 1).to_string());
        name.push_str(&format!(" ({label})"));
    }
    if cx.shared_title(r.title()) {
        let tag = r
            .id()
            .map_or_else(|| r.origin.path.to_string(), str::to_owned);
        name.push_str(&format!(" [{tag}]"));
    }
    name
}

/// A stem for one output that no other output of the run shares: [`crate::file_stem`], with
/// the rule id when another rule file has the same stem.
pub fn unique_stem(rule: &ResolvedRule, variant: usize, cx: &Context<'_>) -> String {
    let mut stem = crate::file_stem(rule, variant);
    if cx.shared_stem(&crate::base_stem(&rule.rule)) {
        let tag = rule
            .rule
            .id()
            .map_or_else(|| crate::sanitize(&rule.rule.origin.path), crate::sanitize);
        stem.push('_');
        stem.push_str(&tag);
    }
    stem
}

/// The rule's authors as a list (`author` is one comma-separated text in Sigma).
pub fn authors(rule: &Rule) -> Vec<String> {
    rule.meta
        .author
        .as_deref()
        .map(|a| {
            a.split(',')
                .map(one_line)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tactics_and_techniques() {
        let t = tactic("execution").unwrap();
        assert_eq!((t.id, t.name), ("TA0002", "Execution"));
        assert_eq!(tactic("Defense-Impairment").unwrap().id, "TA0112");
        assert_eq!(tactic("defense_evasion").unwrap().id, "TA0005");
        assert_eq!(tactic("command-and-control").unwrap().id, "TA0011");
        assert!(tactic("t1059").is_none());
        assert_eq!(
            tactics()
                .values()
                .map(|t| t.id)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            15
        );
        assert_eq!(
            technique("t1059.001"),
            Some(("T1059".into(), Some("T1059.001".into())))
        );
        assert_eq!(technique("t1003"), Some(("T1003".into(), None)));
        assert_eq!(technique("s0005"), None);
        assert_eq!(technique("t10x"), None);
        assert_eq!(
            technique_reference("T1059.001"),
            "https://attack.mitre.org/techniques/T1059/001/"
        );
    }

    #[test]
    fn levels() {
        assert_eq!(priority(Level::Critical), 1);
        assert_eq!(priority(Level::Informational), 5);
        assert_eq!(severity(Level::Informational), "low");
        assert!(risk_score(Level::High) > risk_score(Level::Medium));
    }
}
