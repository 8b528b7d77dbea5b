//! Text logs (Cisco, web servers, syslog): one event per non-blank line, `{"message": line}`.

use super::batch::{Batch, Span, into_text};
use super::lines::{LineBlock, split_lines};

/// Fills `batch` with the non-blank lines of `block`, without their line ends. Text logs are
/// often not clean UTF-8 (Latin-1 bytes in a URL, say); such a line is kept with the bad bytes
/// replaced by U+FFFD, so keyword rules still see the rest of it.
pub(crate) fn text_batch(block: LineBlock, batch: &mut Batch) {
    let spans = split_lines(&block.buf, block.first_line, false)
        .map(|(number, range)| Span {
            number,
            start: range.start,
            end: range.end,
        })
        .collect();
    let (text, spans) = into_text(block.buf, spans, |_, bytes, _| {
        Some(String::from_utf8_lossy(bytes).into_owned())
    });
    batch.skips.extend(block.skips);
    batch.set_records(text, spans);
}
