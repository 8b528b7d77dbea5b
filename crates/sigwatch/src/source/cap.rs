//! How many messages about one input are printed.

use std::borrow::Cow;
use std::collections::HashMap;

/// Keeps the messages about each input to its first [`MessageCap::LIMIT`] lines: an input that
/// is not what it was taken for (a binary file read with `--log-format jsonl`) would otherwise
/// print a line for each of its lines. The lines left out are counted, and said in one line
/// once the input's last batch is shown; every skipped record is still in the summary's count.
#[derive(Debug, Default)]
pub struct MessageCap {
    /// Lines shown and left out, per input (by index).
    lines: HashMap<usize, (u64, u64)>,
}

impl MessageCap {
    /// Lines shown per input.
    pub const LIMIT: u64 = 100;

    /// What to print of `messages` (whole lines) about input `file` (shown as `name`), and
    /// when `last` (its last batch) a line counting what was left out of it.
    pub fn admit<'m>(
        &mut self,
        file: usize,
        name: &str,
        messages: &'m str,
        last: bool,
    ) -> Cow<'m, str> {
        let (shown, hidden) = self.lines.entry(file).or_default();
        let lines = messages.lines().count() as u64;
        let mut out = if *shown + lines <= Self::LIMIT {
            *shown += lines;
            Cow::Borrowed(messages)
        } else {
            let room = Self::LIMIT.saturating_sub(*shown);
            let mut kept = String::new();
            for line in messages.lines().take(room as usize) {
                kept.push_str(line);
                kept.push('\n');
            }
            *shown += room;
            *hidden += lines - room;
            Cow::Owned(kept)
        };
        if last {
            if *hidden > 0 {
                let s = if *hidden == 1 { "" } else { "s" };
                out.to_mut().push_str(&format!(
                    "{name}: {hidden} more message{s} about this input not shown (the first {} \
                     are; the summary counts every skipped record)\n",
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

    #[test]
    fn the_first_lines_are_shown_and_the_rest_counted_at_the_end() {
        let mut cap = MessageCap::default();
        let batch = |from: u64, n: u64| -> String {
            (from..from + n).map(|i| format!("f:{i}: bad\n")).collect()
        };
        assert_eq!(cap.admit(0, "f", &batch(1, 60), false), batch(1, 60));
        // Another input has its own count.
        assert_eq!(cap.admit(1, "g", &batch(1, 150), true).lines().count(), 101);
        assert_eq!(cap.admit(0, "f", &batch(61, 60), false), batch(61, 40));
        assert_eq!(cap.admit(0, "f", &batch(121, 5), false), "");
        assert_eq!(
            cap.admit(0, "f", "", true),
            "f: 25 more messages about this input not shown (the first 100 are; the summary \
             counts every skipped record)\n"
        );
        // Under the limit: nothing added.
        assert_eq!(cap.admit(2, "h", "h:1: bad\n", true), "h:1: bad\n");
    }
}
