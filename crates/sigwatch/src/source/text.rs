//! Text logs (Cisco, web servers, syslog): one event per non-blank line, `{"message": line}`.

use super::batch::{Batch, Span, into_text};
use super::lines::{LineBlock, split_lines};

/// Fills `batch` with the non-blank lines of `block`, without their line ends. Text logs are
/// often not clean UTF-8 (Latin-1 bytes in a URL, say); such a line is kept with the bad bytes
/// replaced by U+FFFD, so keyword rules still see the rest of it.
///
/// A line of nothing but NUL bytes (and blanks) is padding that copytruncate rotation or a crash
/// left, not an event: it is reported and skipped, as in JSON lines.
pub(crate) fn text_batch(block: LineBlock, batch: &mut Batch) {
    let mut padding = Vec::new();
    let spans = split_lines(&block.buf, block.first_line, false)
        .filter_map(|(number, range)| {
            let line = &block.buf[range.clone()];
            // `split_lines` cuts NULs before a line's content, so a line that still starts
            // with one is all NULs and blanks.
            if line.first() == Some(&0) {
                padding.push((number, line.len()));
                return None;
            }
            Some(Span {
                number,
                start: range.start,
                end: range.end,
            })
        })
        .collect();
    for (number, len) in padding {
        let reason = format!("{len} bytes of NUL padding, no text; skipped");
        batch.skips.push(batch.skip(number, reason));
    }
    let (text, spans) = into_text(block.buf, spans, |_, bytes, _| {
        Some(String::from_utf8_lossy(bytes).into_owned())
    });
    batch.skips.extend(block.skips);
    batch.set_records(text, spans);
}
