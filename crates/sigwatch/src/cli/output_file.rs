//! The `--output` file of `hunt` and `dump`.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// The `--output` file, emptied at its first write or flush rather than when opened: a run
/// that reads nothing (every input unreadable) leaves an earlier output as it was. Files that
/// are not regular (`/dev/null`, a FIFO) are never emptied.
pub(crate) struct EmptiedOnWrite {
    file: File,
    emptied: bool,
}

impl EmptiedOnWrite {
    pub(crate) fn open(path: &Path) -> io::Result<EmptiedOnWrite> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let regular = file.metadata()?.is_file();
        Ok(EmptiedOnWrite {
            file,
            emptied: !regular,
        })
    }

    fn empty(&mut self) -> io::Result<()> {
        if !self.emptied {
            self.file.set_len(0)?;
            self.emptied = true;
        }
        Ok(())
    }
}

impl Write for EmptiedOnWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.empty()?;
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.empty()?;
        self.file.flush()
    }
}
