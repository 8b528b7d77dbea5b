//! Settings shared by every backend: the case strategy, field types the target needs to know,
//! and free-form `--backend-option KEY=VALUE` pairs for backend-specific settings.

use std::collections::BTreeMap;
use std::fmt;

use sigma::rule::Level;
use sigma::value::{Regex, SigmaString};

use crate::error::{ConvertError, Feature};

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

impl CaseStrategy {
    /// A case-sensitive value (`cased`) with letters cannot be matched on lowercase-normalised
    /// fields: the refusal every builder gives for it. `letters`: the value has cased letters
    /// ([`crate::regex::has_cased_chars`]).
    pub(crate) fn check_cased_value(
        &self,
        s: &SigmaString,
        cased: bool,
        letters: bool,
    ) -> Result<(), ConvertError> {
        if cased && letters && *self == CaseStrategy::LowercaseField {
            return Err(ConvertError::new(
                Feature::Case,
                "a case-sensitive value cannot be matched on a lowercase-normalised field",
            )
            .with_detail(s.to_string()));
        }
        Ok(())
    }

    /// Likewise for a regular expression without the `i` flag whose pattern has letters.
    pub(crate) fn check_cased_regex(&self, r: &Regex) -> Result<(), ConvertError> {
        if !r.flags.ignore_case
            && *self == CaseStrategy::LowercaseField
            && r.pattern.chars().any(char::is_alphabetic)
        {
            return Err(ConvertError::new(
                Feature::Case,
                "a case-sensitive regular expression cannot be matched on a lowercase-normalised field",
            )
            .with_detail(r.pattern.clone()));
        }
        Ok(())
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
    /// Index patterns for outputs whose variant has none (`-O index=...`, comma-separated);
    /// `*` when not given.
    pub index: Option<String>,
    /// ElastAlert alerters and their settings.
    pub alert: AlertOptions,
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
            index: None,
            alert: AlertOptions::default(),
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
            "index" => self.index = Some(v.to_owned()),
            _ => {}
        }
        self.backend_options.insert(k.to_owned(), v.to_owned());
        Ok(())
    }

    /// A backend-specific option (`-O key=value`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.backend_options.get(key).map(String::as_str)
    }

    /// A yes/no backend option (`true`, `yes`, `1`, `on`).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on"))
    }

    /// The index patterns of an output: the variant's, else `-O index=`, else `*`.
    pub fn indices(&self, variant: &[String]) -> Vec<String> {
        if !variant.is_empty() {
            return variant.to_vec();
        }
        match &self.index {
            Some(i) => i
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            None => vec!["*".to_owned()],
        }
    }

    /// Is this field declared as an `ip` field?
    pub fn is_ip_field(&self, field: &str) -> bool {
        self.ip_fields
            .iter()
            .any(|p| sigma::condition::pattern_matches(p, field))
    }
}

/// A value of an ElastAlert alerter setting: a text or a list of texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertValue {
    Text(String),
    List(Vec<String>),
}

/// ElastAlert alerting: which alerters each level gets, the alerters' settings (webhook URLs,
/// addresses, taken from the environment by the command line), and `realert`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertOptions {
    /// Alerters per level; the `None` entry (`*`) applies to levels without one of their own.
    pub by_level: BTreeMap<Option<Level>, Vec<String>>,
    /// Alerter settings written into the rule files that use the alerter, in order.
    pub settings: Vec<(String, AlertValue)>,
    /// `realert` in seconds (0: alert on every match).
    pub realert_seconds: u64,
}

/// A setting an alerter cannot work without: (alerter, setting, environment variable read when
/// the setting is not given, whether the setting is a list).
pub const REQUIRED_SETTINGS: &[(&str, &str, &str, bool)] = &[
    (
        "slack",
        "slack_webhook_url",
        "SIGWATCH_SLACK_WEBHOOK_URL",
        false,
    ),
    ("email", "email", "SIGWATCH_ALERT_EMAIL", true),
    ("post", "http_post_url", "SIGWATCH_HTTP_POST_URL", false),
    ("post2", "http_post2_url", "SIGWATCH_HTTP_POST2_URL", false),
];

/// Settings that are lists in ElastAlert (comma-separated on the command line).
const LIST_SETTINGS: &[&str] = &["email", "cc", "bcc", "ses_email", "notify_email"];

impl AlertOptions {
    /// `LEVEL=ALERTER[,ALERTER]` (`--alert`); LEVEL is a Sigma level or `*`.
    pub fn add_alert(&mut self, spec: &str) -> Result<(), String> {
        let (level, alerters) = spec
            .split_once('=')
            .ok_or_else(|| format!("--alert '{spec}' is not LEVEL=ALERTER[,ALERTER]"))?;
        let level = match level.trim() {
            "*" | "any" | "default" => None,
            l => Some(Level::parse(l).ok_or_else(|| {
                format!(
                    "--alert '{spec}': unknown level '{l}' (informational, low, medium, high, critical or *)"
                )
            })?),
        };
        let mut list = Vec::new();
        for a in alerters.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let valid = a
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
            if !valid {
                return Err(format!("--alert '{spec}': '{a}' is not an alerter name"));
            }
            let name = match a {
                "http_post" => "post",
                "http_post2" => "post2",
                a => a,
            };
            if !list.iter().any(|x: &String| x == name) {
                list.push(name.to_owned());
            }
        }
        if list.is_empty() {
            return Err(format!("--alert '{spec}' names no alerter"));
        }
        self.by_level.insert(level, list);
        Ok(())
    }

    /// Set an alerter setting (later values replace earlier ones); list settings are split on
    /// commas.
    pub fn set(&mut self, key: &str, value: &str) {
        let v = if LIST_SETTINGS.contains(&key) {
            AlertValue::List(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        } else {
            AlertValue::Text(value.to_owned())
        };
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.to_owned(), v));
    }

    pub fn has(&self, key: &str) -> bool {
        self.settings.iter().any(|(k, _)| k == key)
    }

    /// The alerters of a rule of this level: its own, else `*`'s, else `debug`.
    pub fn alerters(&self, level: Level) -> Vec<String> {
        self.by_level
            .get(&Some(level))
            .or_else(|| self.by_level.get(&None))
            .cloned()
            .unwrap_or_else(|| vec!["debug".to_owned()])
    }

    /// Every alerter some level uses.
    pub fn used_alerters(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in self.by_level.values().flatten() {
            if !out.contains(&a.as_str()) {
                out.push(a);
            }
        }
        out
    }

    /// Required settings that are missing: (alerter, setting, environment variable).
    pub fn missing(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        let used = self.used_alerters();
        REQUIRED_SETTINGS
            .iter()
            .filter(|(a, key, _, _)| used.contains(a) && !self.has(key))
            .map(|&(a, key, env, _)| (a, key, env))
            .collect()
    }

    /// The settings a rule file with these alerters needs: those of its alerters (by the
    /// alerter's prefix, e.g. `slack_` for `slack`, and the email settings for `email`) and
    /// those that belong to no known alerter.
    pub fn settings_for(&self, alerters: &[String]) -> Vec<&(String, AlertValue)> {
        self.settings
            .iter()
            .filter(|(key, _)| match owner(key) {
                Some(o) => alerters.iter().any(|a| a == o),
                None => true,
            })
            .collect()
    }

    /// `realert` from `5m`, `30s`, `1h`, `2d` or `0`.
    pub fn set_realert(&mut self, text: &str) -> Result<(), String> {
        let t = text.trim();
        if t.trim_end_matches(['s', 'm', 'h', 'd']) == "0" {
            self.realert_seconds = 0;
            return Ok(());
        }
        self.realert_seconds = sigma::rule::Timespan::parse(t)
            .map_err(|e| format!("--realert: {e}"))?
            .seconds;
        Ok(())
    }
}

/// The alerter a setting belongs to.
fn owner(key: &str) -> Option<&'static str> {
    const EMAIL: &[&str] = &[
        "email",
        "cc",
        "bcc",
        "from_addr",
        "email_reply_to",
        "email_from_field",
        "email_add_domain",
        "email_format",
        "notify_email",
    ];
    if EMAIL.contains(&key) || key.starts_with("smtp_") {
        return Some("email");
    }
    if key.starts_with("http_post2_") {
        return Some("post2");
    }
    if key.starts_with("http_post_") {
        return Some("post");
    }
    const PREFIXED: &[&str] = &[
        "slack",
        "ms_teams",
        "mattermost",
        "telegram",
        "opsgenie",
        "pagerduty",
        "jira",
        "discord",
        "gitter",
        "alerta",
        "alertmanager",
        "ses",
        "sns",
        "command",
        "rocket_chat",
        "googlechat",
        "victorops",
        "zabbix",
        "servicenow",
    ];
    PREFIXED
        .iter()
        .find(|p| key == **p || key.starts_with(&format!("{p}_")))
        .copied()
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

    #[test]
    fn alert_options() {
        let mut a = AlertOptions::default();
        assert_eq!(a.alerters(Level::High), vec!["debug".to_string()]);
        a.add_alert("critical=slack,email").unwrap();
        a.add_alert("*=debug").unwrap();
        a.add_alert("high=http_post2").unwrap();
        assert!(a.add_alert("severe=slack").is_err());
        assert!(a.add_alert("high=").is_err());
        assert!(a.add_alert("high").is_err());
        assert_eq!(a.alerters(Level::Critical), vec!["slack", "email"]);
        assert_eq!(a.alerters(Level::Low), vec!["debug"]);
        assert_eq!(a.alerters(Level::High), vec!["post2"]);
        assert_eq!(a.missing().len(), 3);
        a.set("slack_webhook_url", "https://hooks.example/x");
        a.set("email", "a@example.org, b@example.org");
        a.set("smtp_host", "mail");
        a.set("http_post2_url", "https://post.example");
        assert!(a.missing().is_empty());
        let keys: Vec<&str> = a
            .settings_for(&["email".to_string()])
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, vec!["email", "smtp_host"]);
        assert!(matches!(&a.settings[1].1, AlertValue::List(l) if l.len() == 2));
        a.set_realert("5m").unwrap();
        assert_eq!(a.realert_seconds, 300);
        a.set_realert("0m").unwrap();
        assert_eq!(a.realert_seconds, 0);
        assert!(a.set_realert("5y").is_err());
    }
}
