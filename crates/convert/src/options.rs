//! Settings shared by every backend: the case strategy, field types the target needs to know,
//! and free-form `--backend-option KEY=VALUE` pairs for backend-specific settings.

use std::collections::BTreeMap;
use std::fmt;

/// How case-insensitive string matching (Sigma's default) is expressed on the target.
///
/// See docs/convert.md for the trade-offs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CaseStrategy {
    /// Exact on any keyword field: values with letters become regular expressions with a
    /// character class per letter (`[cC][mM][dD]`). Costs regular-expression queries.
    #[default]
    Regex,
    /// Every field has a lowercase-normalised sub-field with this suffix (`caseless` gives
    /// `Image.caseless`); case-insensitive values are lowercased and searched there with plain
    /// term and wildcard syntax. Case-sensitive values (`cased`, `re` without `i`) use the
    /// field itself.
    Subfield(String),
    /// The fields themselves are lowercase-normalised: values are lowercased. Case-sensitive
    /// matching of letters is impossible there and refused.
    LowercaseField,
    /// Plain terms and wildcards as written: case-sensitive on keyword fields, so NOT Sigma's
    /// semantics; for users whose data is known to be in the rules' case. Never the default.
    None,
}

impl CaseStrategy {
    pub fn parse(s: &str) -> Result<CaseStrategy, String> {
        match s {
            "regex" | "exact" => Ok(CaseStrategy::Regex),
            "lowercase-field" | "lowercase" => Ok(CaseStrategy::LowercaseField),
            "none" | "sensitive" => Ok(CaseStrategy::None),
            _ => match s.strip_prefix("subfield:") {
                Some(suffix) if !suffix.is_empty() && !suffix.contains(char::is_whitespace) => Ok(
                    CaseStrategy::Subfield(suffix.trim_start_matches('.').to_owned()),
                ),
                _ => Err(format!(
                    "unknown case strategy '{s}': use regex, subfield:<suffix>, lowercase-field or none"
                )),
            },
        }
    }
}

impl fmt::Display for CaseStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseStrategy::Regex => f.write_str("regex"),
            CaseStrategy::Subfield(s) => write!(f, "subfield:{s}"),
            CaseStrategy::LowercaseField => f.write_str("lowercase-field"),
            CaseStrategy::None => f.write_str("none"),
        }
    }
}

/// Options of one conversion run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The output format (`None`: the backend's default).
    pub format: Option<String>,
    pub case: CaseStrategy,
    /// Fields mapped as Elasticsearch `ip`: `cidr` becomes a native network query there
    /// (IPv4 and IPv6). Exact names or `*` patterns; `*` alone means every field.
    pub ip_fields: Vec<String>,
    /// The most automaton states a regular expression may need (Elasticsearch's
    /// `max_determinized_states`, 10,000 by default); more is refused.
    pub max_states: usize,
    /// Every `--backend-option KEY=VALUE`, including the ones read into the fields above, for
    /// backend-specific settings.
    pub backend_options: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: None,
            case: CaseStrategy::default(),
            ip_fields: Vec::new(),
            max_states: crate::automaton::MAX_DETERMINIZED_STATES,
            backend_options: BTreeMap::new(),
        }
    }
}

impl Options {
    /// Read `KEY=VALUE` pairs (`--backend-option`). Known keys: `case` (a [`CaseStrategy`]),
    /// `ip_fields` (comma-separated), `max_states`. Other keys are kept for the backends.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Options, String> {
        let mut o = Options::default();
        for p in pairs {
            o.set(p)?;
        }
        Ok(o)
    }

    /// Apply one `KEY=VALUE` pair.
    pub fn set(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("backend option '{pair}' is not KEY=VALUE"))?;
        let (k, v) = (k.trim(), v.trim());
        match k {
            "case" | "case_insensitive" => self.case = CaseStrategy::parse(v)?,
            "ip_fields" => self.ip_fields.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            "max_states" | "max_determinized_states" => {
                self.max_states = v
                    .parse()
                    .map_err(|_| format!("backend option {k}: '{v}' is not a number"))?
            }
            _ => {}
        }
        self.backend_options.insert(k.to_owned(), v.to_owned());
        Ok(())
    }

    /// Is this field declared as an `ip` field?
    pub fn is_ip_field(&self, field: &str) -> bool {
        self.ip_fields
            .iter()
            .any(|p| sigma::condition::pattern_matches(p, field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_strategies_parse() {
        assert_eq!(CaseStrategy::parse("regex"), Ok(CaseStrategy::Regex));
        assert_eq!(
            CaseStrategy::parse("subfield:.caseless"),
            Ok(CaseStrategy::Subfield("caseless".into()))
        );
        assert!(CaseStrategy::parse("subfield:").is_err());
        assert!(CaseStrategy::parse("maybe").is_err());
        let o = Options::from_pairs(["case=lowercase-field", "ip_fields=a, b.*", "x=1"]).unwrap();
        assert_eq!(o.case, CaseStrategy::LowercaseField);
        assert!(o.is_ip_field("b.ip"));
        assert!(!o.is_ip_field("c"));
        assert_eq!(o.backend_options.get("x").map(String::as_str), Some("1"));
        assert!(Options::from_pairs(["novalue"]).is_err());
    }
}
