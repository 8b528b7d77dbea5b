//! Detections as table rows, JSON lines or CSV records, rendered into byte buffers (on the
//! workers, so that writing in order is a plain copy).

use std::io::Write as _;

use sigma::Rule;

use super::time::{EventTime, format_millis};
use crate::source::Record;

/// `--format` of `hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns: time, level, rule, where (the default on a terminal).
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

/// The header of an output (table and CSV), if the format has one.
pub fn header(format: OutputFormat) -> Option<String> {
    match format {
        OutputFormat::Table => Some(format!(
            "{:<27} {:<13} {:<60} {}\n",
            "TIME", "LEVEL", "RULE", "WHERE"
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
            table_row(
                out,
                time.as_deref().unwrap_or("-"),
                rule,
                &format!("{path}:{}", record.number),
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

fn table_row(out: &mut Vec<u8>, time: &str, rule: &RuleInfo, place: &str) {
    let title = fit(&rule.title, 60);
    let _ = writeln!(
        out,
        "{time:<27} {:<13} {title:<60} {place}",
        rule.level_name()
    );
}

/// At most `width` characters, with `…` when cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(width - 1).collect();
        t.push('…');
        t
    }
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
            let place = format!(
                "{} {} ({} events{})",
                c.kind,
                if group_text.is_empty() {
                    "-"
                } else {
                    &group_text
                },
                c.count,
                c.events
                    .last()
                    .map(|e| format!(", last {}:{}", e.path, e.record))
                    .unwrap_or_default()
            );
            table_row(out, &last, c.rule, &place);
        }
        OutputFormat::Csv => {
            let count = c.count.to_string();
            let last_place = c.events.last();
            let record = last_place.map(|e| e.record.to_string()).unwrap_or_default();
            let events: Vec<String> = c
                .events
                .iter()
                .map(|e| format!("{}:{}", e.path, e.record))
                .collect();
            let rules: Vec<&str> = c.rules.iter().map(|r| r.reference.as_str()).collect();
            let detail = serde_json::json!({"rules": rules, "events": events, "value": c.value});
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
