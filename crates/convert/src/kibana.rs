//! The `kibana-ndjson` target: Kibana saved searches (saved objects of type `search`), one
//! ndjson line per rule and log source, for Stack Management > Saved objects > Import.
//!
//! Each search holds the rule's Lucene query in `kibanaSavedObjectMeta.searchSourceJSON` and
//! refers to its data view (index pattern) through `references`: the data view id is
//! `-O kibana_index_pattern_id=ID` when given, else the index pattern text itself (Kibana asks
//! to map missing references on import).

use serde_json::json;
use sigma::pipeline::ResolvedRule;

use crate::error::ConvertError;
use crate::lucene::LuceneBuilder;
use crate::meta;
use crate::options::Options;
use crate::text::one_line;
use crate::{Backend, Context, Format, Naming, Output};

/// The `kibana-ndjson` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct KibanaBackend;

const FORMATS: &[Format] = &[Format {
    name: "default",
    extension: "ndjson",
    description: "Kibana saved search objects (type search, Lucene query), one per line",
}];

const INDEX_REF: &str = "kibanaSavedObjectMeta.searchSourceJSON.index";

impl Backend for KibanaBackend {
    fn name(&self) -> &'static str {
        "kibana-ndjson"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["kibana", "kibana_ndjson", "kibana-saved-search"]
    }
    fn description(&self) -> &'static str {
        "Kibana saved searches (ndjson saved objects) with the rule's Lucene query"
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
        crate::format(self, rule, options)?;
        let r = &rule.rule;
        let naming = Naming::Unique(cx, options);
        crate::each_variant(self, rule, naming, "ndjson", |i, v| {
            let q = crate::lower::lower_variant(r, v)?;
            let query = LuceneBuilder::new(options).build(&q)?;
            let indices = options.indices(&v.indices);
            let pattern = indices.join(",");
            let source = json!({
                "query": {"query": query, "language": "lucene"},
                "filter": [],
                "highlightAll": true,
                "version": true,
                "indexRefName": INDEX_REF,
            });
            let id = object_id(rule, i);
            let mut description = r
                .meta
                .description
                .as_deref()
                .map(one_line)
                .unwrap_or_default();
            if let Some(rid) = r.id() {
                description.push_str(&format!(" (Sigma rule {rid})"));
            }
            let obj = json!({
                "id": id,
                "type": "search",
                "attributes": {
                    "title": meta::unique_name(rule, Some(i), cx),
                    "description": description.trim(),
                    "hits": 0,
                    "columns": [],
                    "sort": [],
                    "version": 1,
                    "kibanaSavedObjectMeta": {"searchSourceJSON": source.to_string()},
                },
                "references": [{
                    "id": options.get("kibana_index_pattern_id").unwrap_or(&pattern),
                    "name": INDEX_REF,
                    "type": "index-pattern",
                }],
            });
            Ok(obj.to_string())
        })
    }
}

/// A saved-object id: `sigma-<rule id>[-<variant>]` (or the file stem for rules without id).
pub fn object_id(rule: &ResolvedRule, variant: usize) -> String {
    let base = match rule.rule.id() {
        Some(id) => format!("sigma-{id}"),
        None => format!("sigma-{}", crate::base_stem(&rule.rule)),
    };
    if rule.variants.len() > 1 {
        let label = rule.variants[variant]
            .label
            .clone()
            .unwrap_or_else(|| (variant + 1).to_string());
        format!("{base}-{}", crate::sanitize(&label))
    } else {
        base
    }
}
