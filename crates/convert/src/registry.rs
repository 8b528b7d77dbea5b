//! Every target, for `convert -t` and `list targets`.

use crate::Backend;
use crate::dsl::DslBackend;
use crate::elastalert::ElastAlertBackend;
use crate::elastic_rule::ElasticRuleBackend;
use crate::eql::EqlBackend;
use crate::esql::EsqlBackend;
use crate::fieldlist::FieldListBackend;
use crate::kibana::KibanaBackend;
use crate::lucene::LuceneBackend;
use crate::outliers::OutliersBackend;

static BACKENDS: &[&dyn Backend] = &[
    &LuceneBackend,
    &DslBackend,
    &EqlBackend,
    &EsqlBackend,
    &KibanaBackend,
    &ElasticRuleBackend,
    &ElastAlertBackend,
    &OutliersBackend,
    &FieldListBackend,
];

/// All backends, in the order `list targets` shows them.
pub fn backends() -> &'static [&'static dyn Backend] {
    BACKENDS
}

/// The backend with this name or alias.
pub fn backend(name: &str) -> Option<&'static dyn Backend> {
    BACKENDS
        .iter()
        .copied()
        .find(|b| b.name() == name || b.aliases().contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for b in backends() {
            for n in std::iter::once(b.name()).chain(b.aliases().iter().copied()) {
                assert!(seen.insert(n), "{n} twice");
                assert_eq!(backend(n).map(|b| b.name()), Some(b.name()));
            }
        }
        assert!(backend("es-qs").is_some());
        assert!(backend("nope").is_none());
    }
}
