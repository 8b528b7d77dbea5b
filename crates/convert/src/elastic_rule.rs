//! The `elastic-rule-ndjson` target: Elastic Security detection rules (custom query rules with
//! the rule's Lucene query), one ndjson line per rule and log source, for Security > Rules >
//! Import. Built from the rule alone, without network access:
//!
//! - `rule_id`: the Sigma id (plus the variant label when the rule has several log sources);
//! - `severity` from the level (informational and low: `low`), `risk_score` 1 / 21 / 47 / 73 /
//!   99;
//! - `threat` from the ATT&CK tags: one entry per tactic (ids and names from
//!   `data/attack-tactics.tsv`); Sigma tags do not say which technique belongs to which
//!   tactic, so the rule's techniques are listed under each of its tactics, with the technique
//!   id as name (the names are not available offline), sub-techniques under their technique;
//!   techniques of a rule without a tactic tag stay in `tags` only (Elastic requires a tactic);
//! - `author`, `description`, `false_positives`, `references`, `tags` from the rule;
//! - `interval` (`-O interval=5m`) and `from` (interval plus `-O lookback=1m`).

use serde_json::{Value as Json, json};
use sigma::pipeline::ResolvedRule;
use sigma::rule::{Rule, Timespan};

use crate::error::{ConvertError, Feature};
use crate::lucene::LuceneBuilder;
use crate::meta;
use crate::options::Options;
use crate::text::one_line;
use crate::{Backend, Context, Format, Naming, Output};

/// The `elastic-rule-ndjson` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct ElasticRuleBackend;

const FORMATS: &[Format] = &[Format {
    name: "default",
    extension: "ndjson",
    description: "Elastic Security detection rules (type query, language lucene), one per line",
}];

impl Backend for ElasticRuleBackend {
    fn name(&self) -> &'static str {
        "elastic-rule-ndjson"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["siem_rule_ndjson", "elastic-rule", "elastic-security"]
    }
    fn description(&self) -> &'static str {
        "Elastic Security detection rules (ndjson): Lucene query, severity, risk score, ATT&CK threat"
    }
    fn formats(&self) -> &'static [Format] {
        FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &["what lucene refuses: correlation rules, aggregations, fieldref, time parts, ..."]
    }
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        let fail = |e: ConvertError| e.for_rule(rule, self.name());
        crate::format(self, rule, options)?;
        let (interval, from) = schedule(options).map_err(fail)?;
        let r = &rule.rule;
        let level = meta::level(r);
        let naming = Naming::Unique(cx, options);
        crate::each_variant(self, rule, naming, "ndjson", |i, v| {
            let q = crate::lower::lower_variant(r, v)?;
            let query = LuceneBuilder::new(options).build(&q)?;
            let indices = options.indices(&v.indices);
            let name = meta::unique_name(rule, Some(i), cx);
            let description = match r.meta.description.as_deref().map(one_line) {
                Some(d) if !d.is_empty() => d,
                _ => name.clone(),
            };
            let mut tags: Vec<String> = r.meta.tags.iter().map(|t| t.value.clone()).collect();
            tags.push("Sigma".into());
            let mut obj = json!({
                "rule_id": crate::kibana::object_id(rule, i).trim_start_matches("sigma-"),
                "name": name,
                "description": description,
                "type": "query",
                "language": "lucene",
                "query": query,
                "index": indices,
                "severity": meta::severity(level),
                "risk_score": meta::risk_score(level),
                "enabled": options.get("enabled").is_none_or(|v| v != "false"),
                "interval": interval,
                "from": from,
                "to": "now",
                "max_signals": 100,
                "version": 1,
                "author": meta::authors(r),
                "false_positives": r.meta.falsepositives.iter().map(|s| one_line(s)).collect::<Vec<_>>(),
                "references": r.meta.references,
                "tags": tags,
                "threat": threat(r),
            });
            if let (Some(l), Some(m)) = (&r.meta.license, obj.as_object_mut()) {
                m.insert("license".into(), Json::String(l.clone()));
            }
            Ok(obj.to_string())
        })
    }
}

/// `interval` and `from` (`now-` interval plus lookback).
fn schedule(options: &Options) -> Result<(String, String), ConvertError> {
    let parse = |key: &str, default: &str| {
        let text = options.get(key).unwrap_or(default);
        Timespan::parse(text).map_err(|e| {
            ConvertError::new(Feature::Option, "a schedule option is not a time span")
                .with_detail(format!("{key}: {e}"))
        })
    };
    let interval = parse("interval", "5m")?;
    let lookback = parse("lookback", "1m")?;
    let from = Timespan {
        seconds: interval.seconds + lookback.seconds,
    };
    Ok((interval.to_string(), format!("now-{from}")))
}

/// The `threat` block from the rule's ATT&CK tags.
pub fn threat(rule: &Rule) -> Json {
    let mut tactics: Vec<meta::Tactic> = Vec::new();
    // (technique, sub-techniques) in tag order.
    let mut techniques: Vec<(String, Vec<String>)> = Vec::new();
    for tag in meta::attack_tags(rule) {
        let t = &tag["attack.".len()..];
        if let Some(tactic) = meta::tactic(t) {
            if !tactics.contains(&tactic) {
                tactics.push(tactic);
            }
        } else if let Some((id, sub)) = meta::technique(t) {
            let pos = match techniques.iter().position(|(x, _)| *x == id) {
                Some(p) => p,
                None => {
                    techniques.push((id, Vec::new()));
                    techniques.len() - 1
                }
            };
            if let Some(s) = sub
                && !techniques[pos].1.contains(&s)
            {
                techniques[pos].1.push(s);
            }
        }
    }
    let technique_json: Vec<Json> = techniques
        .iter()
        .map(|(id, subs)| {
            let mut t = json!({
                "id": id,
                "name": id,
                "reference": meta::technique_reference(id),
            });
            if !subs.is_empty()
                && let Some(m) = t.as_object_mut()
            {
                m.insert(
                    "subtechnique".into(),
                    Json::Array(
                        subs.iter()
                            .map(|s| {
                                json!({"id": s, "name": s, "reference": meta::technique_reference(s)})
                            })
                            .collect(),
                    ),
                );
            }
            t
        })
        .collect();
    Json::Array(
        tactics
            .iter()
            .map(|t| {
                json!({
                    "framework": "MITRE ATT&CK",
                    "tactic": {"id": t.id, "name": t.name, "reference": t.reference()},
                    "technique": technique_json,
                })
            })
            .collect(),
    )
}
