//! Event time: which field holds it, and reading it as milliseconds since the epoch.

use engine::{Event, FieldPath, Scalar};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Fields tried in order when the user names none (`--timestamp-field`): the EVTX system time
/// (as the evtx crate renders it, and flattened), then the usual names of shippers.
pub const DEFAULT_FIELDS: &[&str] = &[
    "Event.System.TimeCreated.#attributes.SystemTime",
    "Event.System.TimeCreated.SystemTime",
    "@timestamp",
    "timestamp",
    "TimeCreated",
    "EventTime",
    "UtcTime",
    "event.created",
    "time",
    "date",
    // Zeek's JSON logs: epoch seconds.
    "ts",
];

/// An event's time: as written in the event, and as milliseconds since the epoch when it
/// could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTime {
    pub text: String,
    /// What correlations count in (from `exact`).
    pub millis: Option<i64>,
    /// The time to the nanosecond and its digits of a second, read once (see [`exact`]).
    exact: Option<(Timestamp, usize)>,
}

impl EventTime {
    pub fn new(text: String) -> EventTime {
        let exact = exact(&text);
        EventTime {
            millis: exact.map(|(ts, _)| ts.as_millisecond()),
            exact,
            text,
        }
    }

    /// The time in RFC 3339 UTC, with at least millisecond digits (more when the event has
    /// them: EVTX counts 100 ns), so that times of one kind of log sort as text; `None` when
    /// the time could not be read.
    pub fn display(&self) -> Option<String> {
        let (ts, digits) = self.exact?;
        let digits = digits.clamp(3, 9);
        Some(format!("{ts:.digits$}"))
    }

    /// The time as nanoseconds since the epoch, to order detections by (`None`: unreadable).
    pub fn sort_key(&self) -> Option<i128> {
        self.exact.map(|(ts, _)| ts.as_nanosecond())
    }
}

/// A time written as text, to the nanosecond, and how many digits of a second it has: RFC
/// 3339, a date and time taken as UTC, or epoch seconds (below 10^11) or milliseconds with a
/// fraction read digit by digit (a float would lose the last ones).
fn exact(text: &str) -> Option<(Timestamp, usize)> {
    let t = text.trim();
    if let Some(ts) = date_time(t) {
        return Some((ts, fraction_digits(t).min(9)));
    }
    // RFC 3339 allows any number of digits of a second; past the nanosecond they are dropped
    // (`2024-01-01T10:00:00.1234567890123Z`).
    if let Some(dot) = t.rfind('.') {
        let digits = fraction_digits(t);
        if digits > 9 {
            let cut = format!("{}{}", &t[..dot + 10], &t[dot + 1 + digits..]);
            if let Some(ts) = date_time(&cut) {
                return Some((ts, 9));
            }
        }
    }
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    // Nanoseconds from up to `places` digits of `fraction`, as a fraction of `unit` ns.
    let part = |places: usize, unit: i128| -> i128 {
        let digits = &fraction[..fraction.len().min(places)];
        let value: i128 = digits.parse().unwrap_or(0);
        value * unit / 10_i128.pow(digits.len() as u32)
    };
    // In i128: a bogus epoch near the i64 limit must not wrap into another century.
    let (nanos, digits) = if whole < 100_000_000_000 {
        (
            whole
                .checked_mul(1_000_000_000)?
                .checked_add(part(9, 1_000_000_000))?,
            fraction.len(),
        )
    } else {
        (
            whole
                .checked_mul(1_000_000)?
                .checked_add(part(6, 1_000_000))?,
            fraction.len() + 3,
        )
    };
    let ts = Timestamp::from_nanosecond(nanos).ok()?;
    Some((ts, digits))
}

/// RFC 3339, or a date and time taken as UTC.
fn date_time(t: &str) -> Option<Timestamp> {
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    let dt = t.parse::<DateTime>().ok()?;
    Some(dt.to_zoned(TimeZone::UTC).ok()?.timestamp())
}

/// How many digits a time's seconds have after the point (`.537` has 3).
fn fraction_digits(text: &str) -> usize {
    // The point after the seconds: the last one, as dates have none.
    text.rfind('.').map_or(0, |dot| {
        text[dot + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count()
    })
}

/// Where to find the time of events.
#[derive(Debug, Clone)]
pub struct TimeFields {
    fields: Vec<FieldPath>,
}

impl TimeFields {
    /// The user's fields, or the defaults when empty.
    pub fn new(names: &[String]) -> TimeFields {
        if names.is_empty() {
            TimeFields {
                fields: DEFAULT_FIELDS.iter().map(|n| FieldPath::new(n)).collect(),
            }
        } else {
            // The EVTX time stays first (see `read`), also for EVTX-shaped JSON that is not
            // the crate's compact text.
            TimeFields {
                fields: DEFAULT_FIELDS[..2]
                    .iter()
                    .copied()
                    .chain(names.iter().map(String::as_str))
                    .map(FieldPath::new)
                    .collect(),
            }
        }
    }

    /// The time of an event whose JSON text is `text`.
    pub fn read<E: Event + ?Sized>(&self, event: &E, text: &str) -> Option<EventTime> {
        // The EVTX time first, whatever the fields: `--timestamp-field` names the time of the
        // other logs (a hunt over EVTX and NXLog JSON, say).
        if let Some(found) = evtx_system_time(text) {
            return Some(EventTime::new(found.to_owned()));
        }
        for field in &self.fields {
            let mut first: Option<EventTime> = None;
            event.lookup(field, &mut |value| {
                if first.is_some() {
                    return;
                }
                first = match value {
                    Scalar::Str(s) => Some(EventTime::new(s.into_owned())),
                    Scalar::Num(n) => Some(EventTime::new(format_number(n.as_f64()))),
                    _ => None,
                };
            });
            if first.is_some() {
                return first;
            }
        }
        None
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e17 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// The `TimeCreated` of an EVTX record rendered as compact JSON, without parsing it (JSON of
/// another shape is looked up by field: a `SystemTime` deeper in it is not the event's time).
fn evtx_system_time(text: &str) -> Option<&str> {
    const KEY: &str = "\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"";
    // Built once: building a searcher for this key costs more than a search.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY.as_bytes()));
    if !text.starts_with("{\"Event\":{") {
        return None;
    }
    let at = FINDER.find(text.as_bytes())?;
    let rest = &text[at + KEY.len()..];
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Milliseconds since the epoch as RFC 3339 UTC, with three digits of fraction (as
/// [`EventTime::display`] writes them).
pub fn format_millis(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |ts| format!("{ts:.3}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_millis(text: &str) -> Option<i64> {
        EventTime::new(text.to_owned()).millis
    }

    #[test]
    fn reads_the_usual_forms() {
        let z = parse_millis("2020-06-10T02:50:56.537Z").unwrap();
        assert_eq!(format_millis(z), "2020-06-10T02:50:56.537Z");
        assert_eq!(
            parse_millis("2020-06-10T04:50:56.537+02:00"),
            Some(z),
            "offsets are applied"
        );
        assert_eq!(
            parse_millis("2020-06-10 02:50:56.537"),
            Some(z),
            "no zone: UTC"
        );
        assert_eq!(parse_millis("1591757456.537"), Some(z));
        assert_eq!(parse_millis("1591757456537"), Some(z));
        assert_eq!(parse_millis("yesterday"), None);
        assert_eq!(parse_millis(""), None);
    }

    #[test]
    fn finds_evtx_time_without_parsing() {
        let text = r##"{"Event":{"System":{"TimeCreated":{"#attributes":{"SystemTime":"2025-10-24T23:41:00.601559Z"}}}}}"##;
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let t = TimeFields::new(&[]).read(&value, text).unwrap();
        assert_eq!(t.text, "2025-10-24T23:41:00.601559Z");
        assert_eq!(t.display().unwrap(), "2025-10-24T23:41:00.601559Z");
        assert_eq!(t.millis, parse_millis("2025-10-24T23:41:00.601Z"));
    }

    #[test]
    fn user_fields_and_numbers() {
        let value = serde_json::json!({"ts": 1591757456, "@timestamp": "2001-01-01T00:00:00Z"});
        let t = TimeFields::new(&["ts".to_owned()])
            .read(&value, "")
            .unwrap();
        assert_eq!(t.display().unwrap(), "2020-06-10T02:50:56.000Z");
        let t = TimeFields::new(&[]).read(&value, "").unwrap();
        assert_eq!(t.text, "2001-01-01T00:00:00Z");
        assert!(
            TimeFields::new(&["nope".to_owned()])
                .read(&value, "")
                .is_none()
        );
        // The EVTX time stays first when fields are named (found by the second review).
        let text = r##"{"Event":{"System":{"TimeCreated":{"#attributes":{"SystemTime":"2025-10-24T23:41:00.6015591Z"}}}},"@timestamp":"2001-01-01T00:00:00Z"}"##;
        let evtx: serde_json::Value = serde_json::from_str(text).unwrap();
        let t = TimeFields::new(&["@timestamp".to_owned()])
            .read(&evtx, text)
            .unwrap();
        assert_eq!(t.text, "2025-10-24T23:41:00.6015591Z");
        // Zeek's `ts`, epoch seconds, is among the defaults.
        let zeek = serde_json::json!({"ts": 1591757456.25, "uid": "C1"});
        let t = TimeFields::new(&[]).read(&zeek, "").unwrap();
        assert_eq!(t.display().unwrap(), "2020-06-10T02:50:56.250Z");
    }

    fn shown(text: &str) -> Option<String> {
        EventTime::new(text.to_owned()).display()
    }

    /// Times sort as text within a kind of log: a fixed number of digits (at least three,
    /// more as written), in UTC; a time that cannot be read is none.
    #[test]
    fn displayed_times_have_fixed_digits_in_utc() {
        let cases = [
            ("2020-06-10T02:50:56.25Z", Some("2020-06-10T02:50:56.250Z")),
            ("2020-06-10T02:50:56Z", Some("2020-06-10T02:50:56.000Z")),
            ("2020-06-10 02:50:56.5", Some("2020-06-10T02:50:56.500Z")),
            (
                "2020-06-10T04:50:56.1234567+02:00",
                Some("2020-06-10T02:50:56.1234567Z"),
            ),
            (
                "2019-04-27T15:57:25.8688632Z",
                Some("2019-04-27T15:57:25.8688632Z"),
            ),
            // More digits than nanoseconds (RFC 3339 allows it): the rest dropped, not the
            // time (it was unreadable; fifth review).
            (
                "2024-01-01T10:00:00.1234567890123Z",
                Some("2024-01-01T10:00:00.123456789Z"),
            ),
            (
                "2024-01-01T12:00:00.1234567890123+02:00",
                Some("2024-01-01T10:00:00.123456789Z"),
            ),
            (
                "2024-01-01 10:00:00.9999999999",
                Some("2024-01-01T10:00:00.999999999Z"),
            ),
            ("1591757456", Some("2020-06-10T02:50:56.000Z")),
            // Epoch numbers keep their digits (Zeek's `ts` has microseconds).
            ("1704067200.123456", Some("2024-01-01T00:00:00.123456Z")),
            ("1591757456537", Some("2020-06-10T02:50:56.537Z")),
            ("1591757456537.25", Some("2020-06-10T02:50:56.53725Z")),
            ("yesterday afternoon", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(shown(text).as_deref(), expected, "{text:?}");
        }
        // Past the i64 nanosecond limit: read as 2262, not wrapped into 1677 (code review).
        assert_eq!(
            EventTime::new("9223372036.9".into()).sort_key(),
            Some(9_223_372_036_900_000_000)
        );
        assert_eq!(
            EventTime::new("9223372036854.9".into()).display(),
            Some("2262-04-11T23:47:16.8549Z".to_owned())
        );
        assert_eq!(format_millis(1_591_757_456_000), "2020-06-10T02:50:56.000Z");
    }

    /// Only the EVTX shape's `TimeCreated` is read without a lookup: a `SystemTime` nested in
    /// other JSON is not the event's time.
    #[test]
    fn a_nested_system_time_is_not_the_event_time() {
        let text = r#"{"@timestamp":"2024-01-01T00:00:00Z","Extra":{"SystemTime":"1999-01-01T00:00:00Z"}}"#;
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let t = TimeFields::new(&[]).read(&value, text).unwrap();
        assert_eq!(t.text, "2024-01-01T00:00:00Z");
    }
}
