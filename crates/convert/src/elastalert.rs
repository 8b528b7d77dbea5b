//! The `elastalert` target: one ElastAlert 2 rule file (YAML) per rule and log source.
//!
//! A detection rule becomes `type: any` with its query as the `filter` (a `query_string` from
//! the Lucene builder, or with `-f dsl` the query DSL from the DSL builder); its `name` is the
//! title (unique within the run), `index` comes from the pipeline, `priority` from the level
//! (critical 1 ... informational 5, as HELK's scripts expect), `realert` and the alerters per
//! level from the command line (`alert: [debug]` by default).
//!
//! Counting rules become ElastAlert rule types: `event_count` (and legacy `count() by`) with a
//! lower bound becomes `frequency` (`num_events`, `timeframe`, `query_key`), `value_count` (and
//! legacy `count(field) by`) with a lower bound becomes `cardinality` (`cardinality_field`,
//! `max_cardinality`). Everything else (upper bounds, ranges, temporal correlations, sums) is
//! refused with the reason: ElastAlert's types cannot express it.

use sigma::pipeline::ResolvedRule;
use sigma::rule::RuleBody;

use crate::aggregate::{self, Aggregate, Lowered, Measure};
use crate::dsl::DslBuilder;
use crate::error::ConvertError;
use crate::lucene::LuceneBuilder;
use crate::meta;
use crate::options::{AlertValue, Options};
use crate::query::Query;
use crate::text::{one_line, yaml_flow, yaml_quote};
use crate::{Backend, Context, Format, Naming, Output};

/// The `elastalert` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct ElastAlertBackend;

const FORMATS: &[Format] = &[
    Format {
        name: "default",
        extension: "yml",
        description: "ElastAlert 2 rule file, filter as a query_string query",
    },
    Format {
        name: "dsl",
        extension: "yml",
        description: "ElastAlert 2 rule file, filter as query DSL (fieldref through a script)",
    },
];

impl Backend for ElastAlertBackend {
    fn name(&self) -> &'static str {
        "elastalert"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["elastalert2", "elastalert-rule"]
    }
    fn description(&self) -> &'static str {
        "ElastAlert 2 rule files: type any, or frequency / cardinality for counting rules"
    }
    fn formats(&self) -> &'static [Format] {
        FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &[
            "counting rules whose condition is not a lower bound (lt, lte, eq, neq, ranges): frequency and cardinality alert on at least N",
            "temporal and temporal_ordered correlations, value_sum / value_avg / min / max / avg / sum aggregations, near",
            "fieldref with the default format (use -f dsl), time-part modifiers",
            "regular expressions with word boundaries or inner anchors, unexpanded placeholders",
        ]
    }
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        let dsl = crate::format(self, rule, options)? == "dsl";
        let w = Writer { options, dsl };
        if let RuleBody::Correlation(_) = &rule.rule.body {
            return crate::correlation_output(self, rule, cx, options, "yml", |agg| {
                w.counting(rule, &meta::unique_name(rule, None, cx), agg)
            });
        }
        let naming = Naming::Unique(cx, options);
        crate::each_variant(self, rule, naming, "yml", |i, v| {
            let name = meta::unique_name(rule, Some(i), cx);
            match aggregate::lower_counted(rule, i)? {
                Lowered::Plain(q) => w.any(rule, &name, &q, &v.indices),
                Lowered::Counted(agg) => w.counting(rule, &name, &agg),
            }
        })
    }
}

struct Writer<'a> {
    options: &'a Options,
    dsl: bool,
}

impl Writer<'_> {
    /// The keys every rule file has, up to and including `filter`.
    fn head(
        &self,
        rule: &ResolvedRule,
        name: &str,
        q: &Query,
        indices: &[String],
    ) -> Result<String, ConvertError> {
        let mut y = String::new();
        y.push_str(&format!("name: {}\n", yaml_quote(name)));
        let description = rule
            .rule
            .meta
            .description
            .as_deref()
            .map(one_line)
            .unwrap_or_default();
        y.push_str(&format!("description: {}\n", yaml_quote(&description)));
        let index = self.options.indices(indices).join(",");
        y.push_str(&format!("index: {}\n", yaml_quote(&index)));
        if let Some(ts) = self.options.get("timestamp_field") {
            y.push_str(&format!("timestamp_field: {}\n", yaml_quote(ts)));
        }
        y.push_str("filter:\n");
        if self.dsl {
            let body = DslBuilder::new(self.options).build(q)?;
            y.push_str(&format!("- {}\n", yaml_flow(&body)));
        } else {
            let text = LuceneBuilder::new(self.options).build(q)?;
            y.push_str("- query:\n    query_string:\n      query: ");
            y.push_str(&yaml_quote(&text));
            y.push('\n');
        }
        Ok(y)
    }

    /// Priority, realert, alerters and their settings.
    fn tail(&self, rule: &ResolvedRule, y: &mut String) {
        let level = meta::level(&rule.rule);
        y.push_str(&format!("priority: {}\n", meta::priority(level)));
        y.push_str("realert:\n");
        y.push_str(&format!(
            "  {}\n",
            duration(self.options.alert.realert_seconds)
        ));
        let alerters = self.options.alert.alerters(level);
        y.push_str("alert:\n");
        for a in &alerters {
            y.push_str(&format!("- {}\n", yaml_quote(a)));
        }
        for (key, value) in self.options.alert.settings_for(&alerters) {
            match value {
                AlertValue::Text(t) => y.push_str(&format!("{key}: {}\n", yaml_quote(t))),
                AlertValue::List(l) => {
                    y.push_str(&format!("{key}:\n"));
                    for v in l {
                        y.push_str(&format!("- {}\n", yaml_quote(v)));
                    }
                }
            }
        }
    }

    fn any(
        &self,
        rule: &ResolvedRule,
        name: &str,
        q: &Query,
        indices: &[String],
    ) -> Result<String, ConvertError> {
        let mut y = self.head(rule, name, q, indices)?;
        y.push_str("type: any\n");
        self.tail(rule, &mut y);
        Ok(y)
    }

    fn counting(
        &self,
        rule: &ResolvedRule,
        name: &str,
        agg: &Aggregate<'_>,
    ) -> Result<String, ConvertError> {
        let body = match &agg.measure {
            Measure::Count => {
                let Some(n) = agg.least_count() else {
                    return Err(agg.refusal(
                        "ElastAlert's frequency type alerts on at least N events; the condition is not a lower bound",
                    ));
                };
                format!(
                    "type: frequency\nnum_events: {}\ntimeframe:\n  {}\n",
                    n.max(1),
                    duration(agg.window()?.seconds)
                )
            }
            Measure::Distinct(field) => {
                let Some(n) = agg.least_count() else {
                    return Err(agg.refusal(
                        "ElastAlert's cardinality type alerts when the number of values exceeds max_cardinality; the condition is not a lower bound",
                    ));
                };
                format!(
                    "type: cardinality\ncardinality_field: {}\nmax_cardinality: {}\ntimeframe:\n  {}\n",
                    yaml_quote(field),
                    (n - 1).max(0),
                    duration(agg.window()?.seconds)
                )
            }
            Measure::Rules => {
                return Err(agg.refusal(
                    "ElastAlert has no rule type for events of several rules within a time window",
                ));
            }
            Measure::Sum(_) | Measure::Avg(_) | Measure::Min(_) | Measure::Max(_) => {
                return Err(agg.refusal(
                    "ElastAlert's metric_aggregation computes over fixed buffer_time windows, not over the rule's sliding window",
                ));
            }
        };
        let mut y = self.head(rule, name, &agg.query(), &agg.indices())?;
        y.push_str(&body);
        match agg.group_by.as_slice() {
            [] => {}
            [one] => y.push_str(&format!("query_key: {}\n", yaml_quote(one))),
            many => {
                y.push_str("query_key:\n");
                for g in many {
                    y.push_str(&format!("- {}\n", yaml_quote(g)));
                }
            }
        }
        self.tail(rule, &mut y);
        Ok(y)
    }
}

/// An ElastAlert time (`minutes: 5`) in the largest whole unit.
fn duration(seconds: u64) -> String {
    if seconds == 0 {
        "minutes: 0".into()
    } else if seconds.is_multiple_of(86_400) {
        format!("days: {}", seconds / 86_400)
    } else if seconds.is_multiple_of(3600) {
        format!("hours: {}", seconds / 3600)
    } else if seconds.is_multiple_of(60) {
        format!("minutes: {}", seconds / 60)
    } else {
        format!("seconds: {seconds}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(0), "minutes: 0");
        assert_eq!(duration(300), "minutes: 5");
        assert_eq!(duration(7200), "hours: 2");
        assert_eq!(duration(90), "seconds: 90");
        assert_eq!(duration(86_400 * 3), "days: 3");
    }
}
