//! How many messages about one input are printed.

use std::collections::HashMap;

use super::{Location, Skip};

/// One message about an input, as [`MessageCap`] takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The line, without its newline.
    pub text: String,
    /// About one record (a line, an element, an EVTX record): such messages are capped. Those
    /// about the whole input or a chunk (a read error, the rest of a file lost, a chunk
    /// skipped) are always shown.
    pub about_a_record: bool,
}

impl From<&Skip> for Message {
    fn from(skip: &Skip) -> Message {
        Message {
            text: skip.to_string(),
            about_a_record: matches!(
                skip.location,
                Location::Line(_) | Location::Record(_) | Location::Element(_)
            ),
        }
    }
}

/// Keeps the messages about the records of each input to its first [`MessageCap::LIMIT`]: an
/// input that is not what it was taken for (a binary file read with `--log-format jsonl`)
/// would otherwise print a line for each of its lines. The lines left out are counted, and
/// said in one line once the input's last batch is shown. Messages about the whole input or a
/// chunk are always shown.
#[derive(Debug, Default)]
pub struct MessageCap {
    /// Record messages shown and left out, per input (by index).
    lines: HashMap<usize, (u64, u64)>,
}

impl MessageCap {
    /// Record messages shown per input.
    pub const LIMIT: u64 = 100;

    /// What to print of `messages` about input `file` (shown as `name`), one line each, and
    /// when `last` (its last batch) a line counting what was left out of it.
    pub fn admit(&mut self, file: usize, name: &str, messages: &[Message], last: bool) -> String {
        let (shown, hidden) = self.lines.entry(file).or_default();
        let mut out = String::new();
        for message in messages {
            if message.about_a_record {
                if *shown == Self::LIMIT {
                    *hidden += 1;
                    continue;
                }
                *shown += 1;
            }
            out.push_str(&message.text);
            out.push('\n');
        }
        if last {
            if *hidden > 0 {
                let s = if *hidden == 1 { "" } else { "s" };
                out.push_str(&format!(
                    "{name}: {hidden} more message{s} about its records not shown (the first {} \
                     are)\n",
                    Self::LIMIT
                ));
            }
            self.lines.remove(&file);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u64) -> Message {
        Message {
            text: format!("f:{i}: bad"),
            about_a_record: true,
        }
    }

    fn lines(messages: &[Message]) -> String {
        messages.iter().map(|m| format!("{}\n", m.text)).collect()
    }

    #[test]
    fn the_first_record_messages_are_shown_and_the_rest_counted_at_the_end() {
        let mut cap = MessageCap::default();
        let batch = |from: u64, n: u64| -> Vec<Message> { (from..from + n).map(record).collect() };
        assert_eq!(
            cap.admit(0, "f", &batch(1, 60), false),
            lines(&batch(1, 60))
        );
        // Another input has its own count.
        assert_eq!(cap.admit(1, "g", &batch(1, 150), true).lines().count(), 101);
        assert_eq!(
            cap.admit(0, "f", &batch(61, 60), false),
            lines(&batch(61, 40))
        );
        // A message about the whole input is shown however many came before it.
        let cut = Message {
            text: "f: read error, rest of input skipped: unexpected end".to_owned(),
            about_a_record: false,
        };
        let mut last = batch(121, 5);
        last.push(cut.clone());
        assert_eq!(
            cap.admit(0, "f", &last, true),
            "f: read error, rest of input skipped: unexpected end\n\
             f: 25 more messages about its records not shown (the first 100 are)\n"
        );
        // Under the limit: nothing added.
        assert_eq!(cap.admit(2, "h", &batch(1, 1), true), "f:1: bad\n");
    }
}
