//! The `--output` file of `hunt` and `dump`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// The `--output` file, emptied at its first write or flush rather than when opened: a run
/// that reads nothing (every input unreadable) leaves an earlier output as it was. Files that
/// are not regular (`/dev/null`, a FIFO) are never emptied.
struct EmptiedOnWrite {
    file: File,
    emptied: bool,
}

/// The sink for `--output PATH`: standard output itself when PATH is the file standard output
/// is (`-o /dev/stdout >> log`: reopened, the file would be written from its start and emptied,
/// where the shell appends), else the file, emptied at its first write.
pub(crate) fn sink(path: &Path) -> io::Result<Box<dyn Write + Send>> {
    if is_standard_output(path) {
        return Ok(Box::new(io::stdout()));
    }
    Ok(Box::new(EmptiedOnWrite::open(path)?))
}

/// Where the output goes, to keep it out of the inputs (see `Discovery::exclude_output`), and
/// how messages name it: the `--output` file, or standard output (a file when redirected).
pub(crate) fn target(output: Option<&Path>) -> (&Path, String) {
    match output {
        Some(path) => (path, path.display().to_string()),
        None => (Path::new("/dev/stdout"), "standard output".to_owned()),
    }
}

/// Drops what `writer` holds without writing it, when a run read nothing: an earlier output
/// is left as it was ([`EmptiedOnWrite`] empties it only at a write or flush).
pub(crate) fn discard(writer: &mut BufWriter<Box<dyn Write + Send>>) {
    let unwritten = std::mem::replace(writer, BufWriter::new(Box::new(io::sink())));
    drop(unwritten.into_parts());
}

/// Whether `path` is the regular file standard output writes to (by device and inode, read
/// from the open descriptor, not from `/dev/stdout`, which a container may lack).
#[cfg(unix)]
fn is_standard_output(path: &Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(out) = io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    let (Ok(out), Ok(file)) = (File::from(out).metadata(), std::fs::metadata(path)) else {
        return false;
    };
    out.is_file() && out.dev() == file.dev() && out.ino() == file.ino()
}

#[cfg(not(unix))]
fn is_standard_output(_path: &Path) -> bool {
    false
}

impl EmptiedOnWrite {
    fn open(path: &Path) -> io::Result<EmptiedOnWrite> {
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
