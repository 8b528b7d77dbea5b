//! Which pipeline fits a JSON event: told from the keys of one event.

use std::sync::LazyLock;

use memchr::memmem;
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

/// The shape of a JSON event: the evtx crate's (`Event.System`), Winlogbeat's ECS
/// (`winlog.*`, `event.code`), flat Windows fields (`Channel`, `EventID`, `SourceName`), or
/// none of those.
pub fn detect(text: &str) -> Choice {
    // Most records of a log of no known shape name none of the keys looked for below: they
    // are passed without parsing (a batch of such records is looked at whole, see
    // `Hunter::choose`), by searchers made once.
    static KEYS: LazyLock<[memmem::Finder<'static>; 6]> = LazyLock::new(|| {
        [
            "\"Event",
            "\"winlog",
            "\"event",
            "\"Channel\"",
            "\"SourceName\"",
            "\"ProviderName\"",
        ]
        .map(memmem::Finder::new)
    });
    if !KEYS.iter().any(|key| key.find(text.as_bytes()).is_some()) {
        return Choice::None;
    }
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
