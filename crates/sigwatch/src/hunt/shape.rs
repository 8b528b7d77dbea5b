//! Which pipeline fits a JSON event: told from the keys of one event.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use serde_json::{Map, Value};

/// The pipeline a batch of events is matched with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Choice {
    /// The built-in `evtx` pipeline (EVTX files, and JSON in the evtx crate's shape).
    Evtx,
    /// The pipelines of `-p`/`-c`.
    User,
    /// Built-in `windows-flat` (flat Windows JSON: NXLog, Security-Datasets).
    WindowsFlat,
    /// Built-in `ecs-windows` (Winlogbeat ECS).
    EcsWindows,
    /// No pipeline: rules see the events' field names as written (text lines, unknown JSON).
    None,
}

impl Choice {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Whether `text` names one of the keys a known shape has (as a quoted key, in one search):
/// a record that does not is of no known shape, without parsing it. A log of another kind
/// (CloudTrail's `eventName`, Suricata's `event_type`) names none.
pub fn may_have_a_shape(text: &str) -> bool {
    static KEYS: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
        AhoCorasick::new([
            "\"Event\"",
            "\"Event.System.EventID\"",
            "\"winlog\"",
            "\"winlog.",
            "\"event\"",
            "\"event.code\"",
            "\"Channel\"",
            "\"EventID\"",
            "\"SourceName\"",
            "\"ProviderName\"",
        ])
        .ok()
    });
    match KEYS.as_ref() {
        Some(keys) => keys.is_match(text),
        // (The searcher is built from constants; were it ever refused, every record is parsed.)
        None => true,
    }
}

/// The shape of a JSON event, by parsing it: the evtx crate's (`Event.System`), Winlogbeat's
/// ECS (`winlog.*`, `event.code`), flat Windows fields (`Channel`, `EventID`, `SourceName`), or
/// none of those.
pub fn detect_parsed(text: &str) -> Choice {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => detect_value(&map),
        _ => Choice::None,
    }
}

fn detect_value(map: &Map<String, Value>) -> Choice {
    let nested = |outer: &str, inner: &str| {
        map.get(outer)
            .and_then(Value::as_object)
            .is_some_and(|o| o.contains_key(inner))
    };
    if nested("Event", "System") || map.contains_key("Event.System.EventID") {
        return Choice::Evtx;
    }
    if map.contains_key("winlog")
        || map.keys().any(|k| k.starts_with("winlog."))
        || nested("event", "code")
        || map.contains_key("event.code")
    {
        return Choice::EcsWindows;
    }
    if ["Channel", "EventID", "SourceName", "ProviderName"]
        .iter()
        .any(|k| map.contains_key(*k))
    {
        return Choice::WindowsFlat;
    }
    Choice::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Choice {
        if may_have_a_shape(text) {
            detect_parsed(text)
        } else {
            Choice::None
        }
    }

    /// Records of other logs that name `event...` keys are not parsed (a batch of CloudTrail
    /// records was parsed whole, twice the CPU of the hunt; review of the change).
    #[test]
    fn other_logs_pass_the_key_search_without_a_parse() {
        for other in [
            r#"{"eventVersion":"1.08","eventName":"ConsoleLogin","eventSource":"signin"}"#,
            r#"{"timestamp":"2024","event_type":"alert","src_ip":"10.0.0.1"}"#,
            r#"{"message":"Event log cleared","channel":"x"}"#,
        ] {
            assert!(!may_have_a_shape(other), "{other}");
        }
        for known in [
            r#"{"Event":{"System":{"EventID":1}}}"#,
            r#"{"Event.System.EventID":1}"#,
            r#"{"winlog":{"channel":"Security"}}"#,
            r#"{"winlog.channel":"Security"}"#,
            r#"{"event":{"code":"4688"}}"#,
            r#"{"event.code":"4688"}"#,
            r#"{"Channel":"Security"}"#,
            r#"{"EventID":4688}"#,
            r#"{"SourceName":"x"}"#,
            r#"{"ProviderName":"x"}"#,
        ] {
            assert!(may_have_a_shape(known), "{known}");
            assert_ne!(detect(known), Choice::None, "{known}");
        }
    }

    #[test]
    fn tells_the_shapes_apart() {
        assert_eq!(
            detect(r#"{"Event":{"System":{"EventID":1},"EventData":{}}}"#),
            Choice::Evtx
        );
        assert_eq!(
            detect(r#"{"winlog":{"channel":"Security"},"event":{"code":"4688"}}"#),
            Choice::EcsWindows
        );
        assert_eq!(
            detect(r#"{"winlog.channel":"Security","event.code":"4688"}"#),
            Choice::EcsWindows
        );
        assert_eq!(
            detect(r#"{"Channel":"Security","EventID":4688}"#),
            Choice::WindowsFlat
        );
        assert_eq!(detect(r#"{"message":"GET / 200"}"#), Choice::None);
        assert_eq!(detect("not json"), Choice::None);
    }
}
