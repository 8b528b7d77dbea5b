//! Detections as table rows, JSON lines or CSV records, rendered into byte buffers (on the
//! workers, so that writing in order is a plain copy).

use std::io::Write as _;

use sigma::Rule;

use super::time::{EventTime, format_millis};
use crate::source::Record;

/// `--format` of `hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns: time, level, rule, host, event, where, details (the default on a
    /// terminal).
    Table,
    /// One JSON object per detection (the default otherwise).
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// The ATT&CK tactics, by the names used in `attack.<tactic>` tags.
const TACTICS: &[&str] = &[
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
    // ATT&CK v18 split defense-evasion into these two.
    "stealth",
    "defense-impairment",
];

/// What detections show of a rule, prepared once.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: Option<String>,
    pub title: String,
    pub level: Option<sigma::rule::Level>,
    pub status: Option<sigma::rule::Status>,
    /// ATT&CK tactics named by the tags.
    pub tactics: Vec<&'static str>,
    /// How other output refers to the rule: id, else name, else title.
    pub reference: String,
    /// `"rule_id":...,"tags":[...]` for JSON lines.
    json_head: String,
    /// The tags joined with `;` for CSV.
    tags_joined: String,
}

impl RuleInfo {
    pub fn new(rule: &Rule) -> RuleInfo {
        let tags: Vec<String> = rule.meta.tags.iter().map(|t| t.value.clone()).collect();
        let mut tactics = Vec::new();
        for tag in &tags {
            if let Some(name) = tag.strip_prefix("attack.") {
                let name = name.replace('_', "-");
                if let Some(t) = TACTICS.iter().find(|t| **t == name)
                    && !tactics.contains(t)
                {
                    tactics.push(*t);
                }
            }
        }
        let id = rule.id().map(str::to_owned);
        let level = rule.meta.level;
        let status = rule.meta.status;
        let title = rule.title().to_owned();
        let reference = id
            .clone()
            .or_else(|| rule.meta.name.as_ref().map(|n| n.value.clone()))
            .unwrap_or_else(|| title.clone());
        let mut json_head = Vec::new();
        let _ = write!(json_head, "\"rule_id\":");
        json_string_opt(&mut json_head, id.as_deref());
        let _ = write!(json_head, ",\"rule_title\":");
        json_string(&mut json_head, &title);
        let _ = write!(json_head, ",\"level\":");
        json_string_opt(&mut json_head, level.map(|l| l.as_str()));
        let _ = write!(json_head, ",\"status\":");
        json_string_opt(&mut json_head, status.map(|s| s.as_str()));
        let _ = write!(json_head, ",\"tags\":");
        let _ = serde_json::to_writer(&mut json_head, &tags);
        RuleInfo {
            tags_joined: tags.join(";"),
            json_head: String::from_utf8(json_head).unwrap_or_default(),
            id,
            title,
            level,
            status,
            tactics,
            reference,
        }
    }

    pub fn level_name(&self) -> &'static str {
        self.level.map_or("-", |l| l.as_str())
    }
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn json_string_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Width of the table's TIME column: an RFC 3339 UTC time with nanoseconds
/// (`2019-03-19T23:34:25.123456789Z`); EVTX times have 7 fractional digits, 28 characters.
const TIME_WIDTH: usize = 30;
/// Width of the LEVEL column: `informational`.
const LEVEL_WIDTH: usize = 13;
/// Width of the RULE column; longer titles are cut.
const TITLE_WIDTH: usize = 50;
/// Width of the HOST column (the event's computer name); longer names are cut.
const HOST_WIDTH: usize = 20;
/// Width of the EVENT column (`Sysmon 1`, `Security 4688`); longer texts are cut.
const EVENT_WIDTH: usize = 18;
/// Width of the WHERE column (`path:record`); a longer place keeps its end (the file name
/// and record), cut at the start.
const WHERE_WIDTH: usize = 40;
/// At most this many characters of one value in DETAILS (a command line can be pages long),
/// and of the whole cell.
const DETAIL_VALUE_WIDTH: usize = 100;
const DETAILS_WIDTH: usize = 300;

/// What a table row shows of the event besides its time: the computer, the channel and event
/// id, and the values of the fields the rule's detection reads (`Field: value`, `¦` between).
#[derive(Debug, Clone, Default)]
pub struct TableCells {
    pub host: Option<String>,
    pub event: Option<String>,
    pub details: Vec<(String, String)>,
}

impl TableCells {
    /// The EVENT cell: the channel without the usual `Microsoft-Windows-` and `/Operational`
    /// (`Sysmon`, `PowerShell`, `Security`), then the event id.
    pub fn event_cell(channel: Option<&str>, id: Option<&str>) -> Option<String> {
        let channel = channel.map(|c| {
            let c = c.strip_prefix("Microsoft-Windows-").unwrap_or(c);
            c.strip_suffix("/Operational").unwrap_or(c)
        });
        match (channel, id) {
            (Some(c), Some(id)) => Some(format!("{c} {id}")),
            (Some(c), None) => Some(c.to_owned()),
            (None, Some(id)) => Some(id.to_owned()),
            (None, None) => None,
        }
    }

    fn details_text(&self) -> String {
        let mut text = String::new();
        for (name, value) in &self.details {
            if !text.is_empty() {
                text.push_str(" ¦ ");
            }
            text.push_str(name);
            text.push_str(": ");
            // Runs of blanks (the tabs and newlines of a script, aligned columns) as one space.
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            text.push_str(&cell(&value, DETAIL_VALUE_WIDTH).text);
        }
        cell(&text, DETAILS_WIDTH).text
    }
}

/// Whether the first bytes of a file are what `hunt` writes (empty: no detections): a jsonl
/// detection, or the CSV or table header.
pub fn is_detections(head: &[u8]) -> bool {
    head.is_empty()
        || head.starts_with(b"{\"rule_id\":")
        || [OutputFormat::Csv, OutputFormat::Table]
            .into_iter()
            .filter_map(header)
            .any(|h| h.as_bytes().starts_with(head) || head.starts_with(h.as_bytes()))
}

/// Whether a file found in an input folder holds detections `hunt` wrote, by its first bytes:
/// its first line is a detection, its keys in hunt's order (`{"rule_id":...,"rule_title":...,
/// "level":...,"status":...`), or the CSV or table header whole. Stricter than
/// [`is_detections`], which judges a file the run is about to write over: a log whose first
/// key happens to be `rule_id` (a WAF's) is read.
pub fn holds_detections(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let has = |key: &[u8]| memchr::memmem::find(line, key).is_some();
    (line.starts_with(b"{\"rule_id\":")
        && has(b",\"rule_title\":")
        && has(b",\"level\":")
        && has(b",\"status\":"))
        || [OutputFormat::Csv, OutputFormat::Table]
            .into_iter()
            .filter_map(header)
            .any(|h| head.starts_with(h.as_bytes()))
}

/// The header of an output (table and CSV), if the format has one.
pub fn header(format: OutputFormat) -> Option<String> {
    match format {
        OutputFormat::Table => Some(format!(
            "{:<TIME_WIDTH$} {:<LEVEL_WIDTH$} {:<TITLE_WIDTH$} {:<HOST_WIDTH$} \
             {:<EVENT_WIDTH$} {:<WHERE_WIDTH$} {}\n",
            "TIME", "LEVEL", "RULE", "HOST", "EVENT", "WHERE", "DETAILS"
        )),
        OutputFormat::Jsonl => None,
        OutputFormat::Csv => Some(
            "rule_id,rule_title,level,status,tags,path,record,timestamp,\
             correlation_type,correlation_group,correlation_count,event\n"
                .to_owned(),
        ),
    }
}

/// One plain detection: a rule matched a record. `checked`: the record is JSON text known to be
/// one valid object (see [`Record::write_checked_json`]).
#[allow(clippy::too_many_arguments)]
pub fn write_plain(
    out: &mut Vec<u8>,
    format: OutputFormat,
    rule: &RuleInfo,
    path: &str,
    record: &Record<'_>,
    checked: bool,
    time: Option<&EventTime>,
    cells: Option<&TableCells>,
) {
    let write_event = |out: &mut Vec<u8>| {
        if checked {
            record.write_checked_json(out)
        } else {
            record.write_json(out)
        }
    };
    let time = time.and_then(EventTime::display);
    match format {
        OutputFormat::Jsonl => {
            out.push(b'{');
            out.extend_from_slice(rule.json_head.as_bytes());
            out.extend_from_slice(b",\"path\":");
            json_string(out, path);
            let _ = write!(out, ",\"record\":{}", record.number);
            out.extend_from_slice(b",\"timestamp\":");
            json_string_opt(out, time.as_deref());
            out.extend_from_slice(b",\"event\":");
            let mark = out.len();
            if write_event(out).is_err() {
                out.truncate(mark);
                out.extend_from_slice(b"null");
            }
            out.extend_from_slice(b"}\n");
        }
        OutputFormat::Table => {
            let empty = TableCells::default();
            let cells = cells.unwrap_or(&empty);
            table_row(
                out,
                time.as_deref().unwrap_or("-"),
                rule,
                cells,
                &format!("{path}:{}", record.number),
                &cells.details_text(),
            );
        }
        OutputFormat::Csv => {
            let mut event = Vec::new();
            if write_event(&mut event).is_err() {
                event.clear();
            }
            let record_number = record.number.to_string();
            csv_row(
                out,
                &[
                    rule.id.as_deref().unwrap_or(""),
                    &rule.title,
                    rule.level.map_or("", |l| l.as_str()),
                    rule.status.map_or("", |s| s.as_str()),
                    &rule.tags_joined,
                    path,
                    &record_number,
                    time.as_deref().unwrap_or(""),
                    "",
                    "",
                    "",
                    &String::from_utf8_lossy(&event),
                ],
            );
        }
    }
}

/// One table line. Every cell is one line of text: a control character (a newline in a rule
/// title, a tab in a correlation's group value taken from an event) becomes a space, so no
/// cell can break a row or start a new one. Times fit their column (at most nanoseconds);
/// were one longer, it would be cut like a long title rather than shift the row.
fn table_row(
    out: &mut Vec<u8>,
    time: &str,
    rule: &RuleInfo,
    cells: &TableCells,
    place: &str,
    details: &str,
) {
    let time = cell(time, TIME_WIDTH);
    let title = cell(&rule.title, TITLE_WIDTH);
    let host = cell(cells.host.as_deref().unwrap_or("-"), HOST_WIDTH);
    let event = cell(cells.event.as_deref().unwrap_or("-"), EVENT_WIDTH);
    let place = tail_cell(place, WHERE_WIDTH);
    let details = cell(details, usize::MAX);
    let mut line = String::new();
    for (text, width) in [
        (&time, TIME_WIDTH),
        (&Cell::plain(rule.level_name()), LEVEL_WIDTH),
        (&title, TITLE_WIDTH),
        (&host, HOST_WIDTH),
        (&event, EVENT_WIDTH),
        (&place, WHERE_WIDTH),
    ] {
        text.pad_into(&mut line, width);
        line.push(' ');
    }
    line.push_str(&details.text);
    let _ = writeln!(out, "{}", line.trim_end());
}

/// A table cell's text and the columns it takes on a terminal (wide CJK characters take two,
/// combining marks none).
struct Cell {
    text: String,
    columns: usize,
}

impl Cell {
    fn plain(s: &str) -> Cell {
        cell(s, usize::MAX)
    }

    /// The text, then spaces up to `width` columns.
    fn pad_into(&self, line: &mut String, width: usize) {
        line.push_str(&self.text);
        line.extend(std::iter::repeat_n(' ', width.saturating_sub(self.columns)));
    }
}

/// A character as a table shows it, and its columns: control characters (a newline in a rule
/// title, a tab in a value taken from an event), line and paragraph separators, and the
/// invisible characters that change the direction of the text after them (bidi embeddings,
/// overrides and isolates, which could make an event's value display as something else, or
/// reorder the row) become spaces. (A character followed by U+FE0F, emoji presentation, takes
/// two columns: see [`columns_of`].)
fn shown(c: char) -> (char, usize) {
    let hidden = c.is_control()
        || matches!(
            c,
            // Line and paragraph separators: line breaks to many viewers.
            '\u{2028}' | '\u{2029}'
            // Bidi marks, embeddings, overrides and isolates.
            | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        );
    if hidden {
        (' ', 1)
    } else {
        (c, unicode_width::UnicodeWidthChar::width(c).unwrap_or(0))
    }
}

/// `s` on one line, at most `width` columns, its start cut (`…` first) when longer: for
/// paths, whose end (file name, record) says the most.
fn tail_cell(s: &str, width: usize) -> Cell {
    let chars = columns_of(s);
    if chars.iter().map(|&(_, w)| w).sum::<usize>() <= width {
        return fit(&chars, width);
    }
    let mut from = chars.len();
    let mut columns = 1;
    while from > 0 && columns + chars[from - 1].1 <= width {
        from -= 1;
        columns += chars[from].1;
    }
    // A combining mark (no columns) would sit on the `…`: it goes with its base.
    while from < chars.len() && chars[from].1 == 0 {
        from += 1;
    }
    let mut text = String::from("…");
    text.extend(chars[from..].iter().map(|&(c, _)| c));
    Cell { text, columns }
}

/// `s` on one line, at most `width` columns, with `…` when cut.
fn cell(s: &str, width: usize) -> Cell {
    fit(&columns_of(s), width)
}

/// The shown characters `chars` (from [`columns_of`]) in at most `width` columns, with `…`
/// when cut.
fn fit(chars: &[(char, usize)], width: usize) -> Cell {
    let total: usize = chars.iter().map(|&(_, w)| w).sum();
    let room = if total <= width {
        width
    } else {
        width.saturating_sub(1)
    };
    let mut text = String::with_capacity(chars.len());
    let mut columns = 0;
    for &(c, w) in chars {
        if columns + w > room {
            break;
        }
        columns += w;
        text.push(c);
    }
    if total > width {
        text.push('…');
        columns += 1;
    }
    Cell { text, columns }
}

/// Each character of `s` as shown (see [`shown`]), with its columns; a U+FE0F after a
/// character (emoji presentation: `❤️`, a keycap) makes it two columns wide, as terminals
/// draw it, and is itself none.
fn columns_of(s: &str) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = s.chars().map(shown).collect();
    for i in 1..out.len() {
        if out[i].0 == '\u{fe0f}' {
            out[i].1 = 0;
            if out[i - 1].1 == 1 {
                out[i - 1].1 = 2;
            }
        }
    }
    out
}

fn csv_row(out: &mut Vec<u8>, fields: &[&str]) {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *out);
    let _ = writer.write_record(fields);
    let _ = writer.flush();
}

/// An event behind a correlation detection.
#[derive(Debug, Clone)]
pub struct EventPlace<'a> {
    pub path: &'a str,
    pub record: u64,
}

/// A correlation (or legacy aggregation) detection.
#[derive(Debug, Clone)]
pub struct CorrelationOut<'a> {
    pub rule: &'a RuleInfo,
    pub kind: &'a str,
    pub group: &'a [(String, Option<String>)],
    /// Events in the window.
    pub count: u64,
    /// The aggregated value the condition was checked on.
    pub value: f64,
    pub first: i64,
    pub last: i64,
    pub rules: Vec<&'a RuleInfo>,
    pub events: Vec<EventPlace<'a>>,
}

pub fn write_correlation(out: &mut Vec<u8>, format: OutputFormat, c: &CorrelationOut<'_>) {
    let last = format_millis(c.last);
    let group_text = c
        .group
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(none)")))
        .collect::<Vec<_>>()
        .join(",");
    match format {
        OutputFormat::Jsonl => {
            out.push(b'{');
            out.extend_from_slice(c.rule.json_head.as_bytes());
            let last_place = c.events.last();
            out.extend_from_slice(b",\"path\":");
            json_string_opt(out, last_place.map(|e| e.path));
            out.extend_from_slice(b",\"record\":");
            match last_place {
                Some(e) => {
                    let _ = write!(out, "{}", e.record);
                }
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"timestamp\":");
            json_string(out, &last);
            out.extend_from_slice(b",\"event\":null,\"correlation\":{\"type\":");
            json_string(out, c.kind);
            out.extend_from_slice(b",\"group\":{");
            for (i, (k, v)) in c.group.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_string(out, k);
                out.push(b':');
                json_string_opt(out, v.as_deref());
            }
            let _ = write!(out, "}},\"count\":{},\"value\":", c.count);
            let _ = serde_json::to_writer(&mut *out, &c.value);
            out.extend_from_slice(b",\"first\":");
            json_string(out, &format_millis(c.first));
            out.extend_from_slice(b",\"last\":");
            json_string(out, &last);
            out.extend_from_slice(b"},\"rules\":");
            let refs: Vec<&str> = c.rules.iter().map(|r| r.reference.as_str()).collect();
            let _ = serde_json::to_writer(&mut *out, &refs);
            out.extend_from_slice(b",\"events\":[");
            for (i, e) in c.events.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"path\":");
                json_string(out, e.path);
                let _ = write!(out, ",\"record\":{}}}", e.record);
            }
            out.extend_from_slice(b"]}\n");
        }
        OutputFormat::Table => {
            let details = format!(
                "{} {} ({} events)",
                c.kind,
                if group_text.is_empty() {
                    "-"
                } else {
                    &group_text
                },
                c.count,
            );
            let details = cell(&details, DETAILS_WIDTH).text;
            let place = c
                .events
                .last()
                .map_or_else(|| "-".to_owned(), |e| format!("{}:{}", e.path, e.record));
            table_row(out, &last, c.rule, &TableCells::default(), &place, &details);
        }
        OutputFormat::Csv => {
            let count = c.count.to_string();
            let last_place = c.events.last();
            let record = last_place.map(|e| e.record.to_string()).unwrap_or_default();
            // JSON, as in jsonl: a value may hold `,`, `=` or `:` (a path `a:b.jsonl`).
            let events: Vec<serde_json::Value> = c
                .events
                .iter()
                .map(|e| serde_json::json!({"path": e.path, "record": e.record}))
                .collect();
            let rules: Vec<&str> = c.rules.iter().map(|r| r.reference.as_str()).collect();
            let detail = serde_json::json!({"rules": rules, "events": events, "value": c.value});
            let group: serde_json::Map<String, serde_json::Value> = c
                .group
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_deref().map_or(serde_json::Value::Null, Into::into),
                    )
                })
                .collect();
            let group_text = serde_json::Value::Object(group).to_string();
            csv_row(
                out,
                &[
                    c.rule.id.as_deref().unwrap_or(""),
                    &c.rule.title,
                    c.rule.level.map_or("", |l| l.as_str()),
                    c.rule.status.map_or("", |s| s.as_str()),
                    &c.rule.tags_joined,
                    last_place.map_or("", |e| e.path),
                    &record,
                    &last,
                    c.kind,
                    &group_text,
                    &count,
                    &detail.to_string(),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(title_yaml: &str) -> RuleInfo {
        let text = format!(
            "title: {title_yaml}\nlevel: high\nlogsource:\n    product: windows\n\
             detection:\n    sel:\n        a: b\n    condition: sel\n"
        );
        let loaded = sigma::load_str(&text, "r.yml");
        let rule = loaded.rules.first().expect("the rule loads");
        RuleInfo::new(rule)
    }

    /// Where `needle` starts in `line`, in characters.
    fn column(line: &str, needle: &str) -> usize {
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in {line:?}"));
        line[..at].chars().count()
    }

    /// Where `needle` starts in `line`, in terminal columns.
    fn display_column(line: &str, needle: &str) -> usize {
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in {line:?}"));
        unicode_width::UnicodeWidthStr::width(&line[..at])
    }

    #[test]
    fn wide_and_direction_changing_characters_keep_the_columns() {
        // Wide (CJK) characters take two columns, a combining accent none; padding by
        // characters shifted every cell after them. A right-to-left override taken from an
        // event would make the terminal show the rest of the row reversed.
        let header = header(OutputFormat::Table).unwrap();
        for title in [
            "不審なプロセスの実行を検出するルール、とても長いタイトルで列より長い",
            "Cafe\u{301} whoami",
            "Whoami",
        ] {
            let info = rule(title);
            let cells = TableCells {
                host: Some("ws1\u{202e}exe.dmc\u{202c}".into()),
                event: Some("Sysmon 1".into()),
                details: vec![("Image".into(), "C:\\\u{2067}x.exe".into())],
            };
            let place = format!("{}/ログ.evtx:42", "ディレクトリ".repeat(8));
            let mut out = Vec::new();
            table_row(&mut out, "-", &info, &cells, &place, &cells.details_text());
            let row = String::from_utf8(out).unwrap();
            assert!(
                !row.contains(['\u{202e}', '\u{202c}', '\u{2067}']),
                "no direction change reaches the terminal: {row}"
            );
            assert!(row.contains("ws1 exe.dmc"), "{row}");
            assert_eq!(
                display_column(&row, "ws1"),
                display_column(&header, "HOST"),
                "{row}"
            );
            assert_eq!(
                display_column(&row, "Sysmon 1"),
                display_column(&header, "EVENT"),
                "{row}"
            );
            let cut = row.rfind('…').expect("the path is cut");
            assert_eq!(
                unicode_width::UnicodeWidthStr::width(&row[..cut]),
                display_column(&header, "WHERE"),
                "the cut path starts under WHERE: {row}"
            );
            assert!(row.contains("ログ.evtx:42 Image:"), "{row}");
        }
    }

    #[test]
    fn cells_count_emoji_and_marks_as_terminals_draw_them() {
        // U+FE0F makes the heart two columns; the accent takes none.
        let heart = cell("\u{2764}\u{fe0f} ok", 10);
        assert_eq!(
            (heart.text.as_str(), heart.columns),
            ("\u{2764}\u{fe0f} ok", 5)
        );
        let keycap = cell("1\u{fe0f}\u{20e3}", 10);
        assert_eq!(keycap.columns, 2);
        // Cut: never wider than the column, `…` included.
        let cut = cell("日本語のテキスト", 5);
        assert_eq!((cut.text.as_str(), cut.columns), ("日本…", 5));
        // A line separator is a space: one detection, one line.
        assert_eq!(cell("a\u{2028}b\u{2029}c", 10).text, "a b c");
        // The tail of a path never starts with a combining mark on the `…`.
        let tail = tail_cell("x日\u{301}本", 3);
        assert_eq!((tail.text.as_str(), tail.columns), ("…本", 3));
    }

    #[test]
    fn table_rows_align_with_the_header_whatever_the_time_precision() {
        // Found by a usability review: EVTX times have 7 fractional digits, one more than the
        // TIME column held, so every EVTX row was shifted against the header.
        let header = header(OutputFormat::Table).unwrap();
        let info = rule("Whoami");
        let cells = TableCells {
            host: Some("WS1.corp.example.com (a long name)".into()),
            event: Some("Sysmon 1".into()),
            details: vec![("Image".into(), "C:\\Windows\\cmd.exe".into())],
        };
        let long_path = format!("{}/a.evtx:42", "logs".repeat(20));
        for time in [
            "2019-03-19T23:34:25.1234567Z",
            "2019-03-19T23:34:25.123456789Z",
            "2020-06-10T02:50:56.537Z",
            "2020-06-10T02:50:56Z",
            "-",
            "Tue, 19 Mar 2019 23:34:25 +0000 (longer than the column)",
        ] {
            for place in ["logs/a.evtx:42", &long_path] {
                let mut out = Vec::new();
                table_row(&mut out, time, &info, &cells, place, &cells.details_text());
                let row = String::from_utf8(out).unwrap();
                assert_eq!(column(&row, "high"), column(&header, "LEVEL"), "{row}");
                assert_eq!(column(&row, "Whoami"), column(&header, "RULE"), "{row}");
                assert_eq!(column(&row, "WS1.corp"), column(&header, "HOST"), "{row}");
                assert_eq!(column(&row, "Sysmon 1"), column(&header, "EVENT"), "{row}");
                let at = column(&header, "WHERE");
                assert!(
                    row.chars().skip(at).collect::<String>().starts_with(
                        if place.len() > WHERE_WIDTH {
                            "…"
                        } else {
                            "logs/a.evtx:42"
                        }
                    ),
                    "{row}"
                );
                assert!(
                    row.contains("logs/a.evtx:42 "),
                    "the end of a path is kept: {row}"
                );
                assert_eq!(
                    column(&row, "Image: C:\\Windows\\cmd.exe"),
                    column(&header, "DETAILS"),
                    "{row}"
                );
            }
        }
    }

    #[test]
    fn control_characters_in_table_cells_are_spaces() {
        // A title with a newline made two table lines out of one detection.
        let info = rule("\"Two\\nLines\\tand a tab\"");
        assert_eq!(info.title, "Two\nLines\tand a tab");
        let cells = TableCells {
            host: Some("ws\n1".into()),
            event: None,
            details: vec![("CommandLine".into(), "a\r\nb".into())],
        };
        let mut out = Vec::new();
        table_row(&mut out, "-", &info, &cells, "x\n:1", "group=a\nb");
        let row = String::from_utf8(out).unwrap();
        assert_eq!(row.lines().count(), 1, "{row:?}");
        assert!(row.contains(" Two Lines and a tab "), "{row:?}");
        assert!(row.contains(" ws 1 "), "{row:?}");
        assert!(row.contains(" x :1 "), "{row:?}");
        assert!(row.ends_with(" group=a b\n"), "{row:?}");
        assert_eq!(cells.details_text(), "CommandLine: a b");
        // Cut titles stay one line too.
        let long = rule(&format!("\"{}\\n{}\"", "a".repeat(40), "b".repeat(40)));
        let mut out = Vec::new();
        table_row(&mut out, "-", &long, &TableCells::default(), "x:1", "");
        let row = String::from_utf8(out).unwrap();
        assert_eq!(row.lines().count(), 1, "{row:?}");
        assert!(row.contains(&format!("{} {}…", "a".repeat(40), "b".repeat(8))));
        assert!(
            row.ends_with(" x:1\n"),
            "no blanks after the last cell: {row:?}"
        );
    }

    #[test]
    fn event_cell_and_details() {
        let event = |c, id| TableCells::event_cell(c, id);
        assert_eq!(
            event(Some("Microsoft-Windows-Sysmon/Operational"), Some("1")).as_deref(),
            Some("Sysmon 1")
        );
        assert_eq!(
            event(Some("Security"), Some("4688")).as_deref(),
            Some("Security 4688")
        );
        assert_eq!(
            event(Some("Windows PowerShell"), None).as_deref(),
            Some("Windows PowerShell")
        );
        assert_eq!(event(None, Some("4104")).as_deref(), Some("4104"));
        assert_eq!(event(None, None), None);
        // Each value is cut, then the whole cell; blanks collapse.
        let cells = TableCells {
            details: vec![
                (
                    "ScriptBlockText".into(),
                    format!("a\t\t{}", "x".repeat(500)),
                ),
                ("Path".into(), "C:\\s.ps1".into()),
            ],
            ..TableCells::default()
        };
        let text = cells.details_text();
        assert!(text.starts_with("ScriptBlockText: a xxx"), "{text}");
        assert!(
            text.contains(&format!(
                "{}… ¦ Path: C:\\s.ps1",
                "x".repeat(DETAIL_VALUE_WIDTH - 3)
            )),
            "{text}"
        );
        let many = TableCells {
            details: (0..20).map(|i| (format!("F{i}"), "v".repeat(90))).collect(),
            ..TableCells::default()
        };
        assert_eq!(many.details_text().chars().count(), DETAILS_WIDTH);
    }
}
