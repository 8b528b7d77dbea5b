//! The `ee-outliers` target: one `simplequery` use case (an INI section) per rule and log
//! source, for NVISO's ee-outliers, which tags every event matching the query as an outlier.
//!
//! ```ini
//! [simplequery_sigma_proc_creation_win_renamed_whoami]
//! es_dsl_filter = {"query":{"bool":...}}
//! es_index = winlogbeat-*
//! outlier_type = attack.discovery, attack.t1033
//! outlier_reason = Renamed Whoami Execution
//! outlier_summary = Renamed Whoami Execution
//! run_model = 1
//! test_model = 0
//! ```
//!
//! ee-outliers reads its configuration with Python's `configparser` without interpolation and
//! `json.loads` the `es_dsl_filter`, taking its `query`. Values are written on one line (the
//! filter as compact JSON), section names from the rule file's stem (made unique in the run).

use serde_json::json;
use sigma::pipeline::ResolvedRule;

use crate::dsl::DslBuilder;
use crate::error::ConvertError;
use crate::meta;
use crate::options::Options;
use crate::text::one_line;
use crate::{Backend, Context, Format, Naming, Output};

/// The `ee-outliers` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutliersBackend;

const FORMATS: &[Format] = &[Format {
    name: "default",
    extension: "conf",
    description: "ee-outliers simplequery use case (INI section) with an es_dsl_filter",
}];

impl Backend for OutliersBackend {
    fn name(&self) -> &'static str {
        "ee-outliers"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["ee_outliers", "outliers"]
    }
    fn description(&self) -> &'static str {
        "ee-outliers simplequery use cases: the rule's query DSL tags matching events as outliers"
    }
    fn formats(&self) -> &'static [Format] {
        FORMATS
    }
    fn refuses(&self) -> &'static [&'static str] {
        &[
            "correlation rules, legacy aggregations and near (a simplequery tags single events)",
            "time-part modifiers, regular expressions with word boundaries or inner anchors",
            "unexpanded placeholders",
        ]
    }
    fn convert_in(
        &self,
        rule: &ResolvedRule,
        cx: &Context<'_>,
        options: &Options,
    ) -> Result<Vec<Output>, ConvertError> {
        crate::format(self, rule, options)?;
        let r = &rule.rule;
        let tags = meta::attack_tags(r);
        let outlier_type = if tags.is_empty() {
            "sigma".to_owned()
        } else {
            tags.join(", ")
        };
        let naming = Naming::Unique(cx, options);
        crate::each_variant(self, rule, naming, "conf", |i, v| {
            let q = crate::lower::lower_variant(r, v)?;
            let filter = json!({"query": DslBuilder::new(options).build(&q)?});
            let stem = meta::unique_stem(rule, i, cx);
            let name = meta::unique_name(rule, Some(i), cx);
            let mut s = String::new();
            s.push_str(&format!("[simplequery_sigma_{}]\n", section(&stem)));
            s.push_str(&format!("es_dsl_filter = {filter}\n"));
            s.push_str(&format!(
                "es_index = {}\n",
                value(&options.indices(&v.indices).join(","))
            ));
            s.push_str(&format!("outlier_type = {}\n", value(&outlier_type)));
            s.push_str(&format!("outlier_reason = {}\n", value(&name)));
            let summary = match r.meta.description.as_deref() {
                Some(d) if !d.trim().is_empty() => format!("{name}: {}", one_line(d)),
                _ => name.clone(),
            };
            s.push_str(&format!("outlier_summary = {}\n", value(&summary)));
            s.push_str("run_model = 1\ntest_model = 0\n");
            Ok(s)
        })
    }
}

/// A section name part: no `]`, no whitespace, nothing configparser would read otherwise.
fn section(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A value on one line. ee-outliers replaces every `{...}` in its texts with an event field
/// (it has no escape), so braces of the rule's text become parentheses.
fn value(s: &str) -> String {
    one_line(s).replace('{', "(").replace('}', ")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_and_value_text() {
        assert_eq!(section("a b]c"), "a_b_c");
        assert_eq!(value("x\n  {y}"), "x (y)");
    }
}
