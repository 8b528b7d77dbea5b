//! From command-line inputs to the list of files to read, in a stable order.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Input, InputFile, InputKind, Location, Skip, SourceError};

/// The files found for a list of inputs.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files in reading order: inputs in the order given (repeats included), each folder's
    /// files depth-first in byte order of their names.
    pub files: Vec<InputFile>,
    /// Folders or entries that could not be listed; the rest was still found.
    pub skips: Vec<Skip>,
    /// The identities (device, inode) of the files found.
    ids: HashSet<(u64, u64)>,
    /// The names of the files found by walking a folder (and not named).
    walked: HashSet<Arc<str>>,
    /// Files found in folders and left out as no logs by their names (see [`not_a_log`]).
    not_logs: Vec<Arc<str>>,
    /// Files found in folders and left out as outputs (see [`Discovery::exclude_output`],
    /// [`Discovery::exclude_earlier_outputs`]).
    outputs_left_out: usize,
}

impl Discovery {
    /// Keeps the output file `path` out of the inputs: creating it empties it. A log named as
    /// the output (or read on standard input) is an error. One found by walking an input
    /// folder is left out with a note when `earlier_output` says its first bytes are what the
    /// command writes (a hunt run again in its own folder), and is an error otherwise.
    /// Outputs that are not regular files (`/dev/null`, a terminal) are never inputs.
    /// `shown` names the output in messages (`path`'s display, or "standard output").
    pub fn exclude_output(
        &mut self,
        path: &Path,
        shown: &str,
        inputs: &[Input],
        earlier_output: impl Fn(&[u8]) -> bool,
    ) -> Result<(), String> {
        let Some(id) = fs::metadata(path)
            .ok()
            .filter(fs::Metadata::is_file)
            .and_then(|meta| file_id(&meta))
        else {
            return Ok(());
        };
        if !self.ids.contains(&id) {
            return Ok(());
        }
        let id_of = |p: &Path| fs::metadata(p).ok().and_then(|meta| file_id(&meta));
        let named = inputs.iter().any(|input| match input {
            Input::Path(p) => id_of(p) == Some(id),
            Input::Stdin => id_of(Path::new("/dev/stdin")) == Some(id),
        });
        let ours = head_of(path).is_some_and(|head| earlier_output(&head));
        if named || !ours {
            return Err(format!(
                "{shown}: the output file is one of the logs; it would be emptied or written \
                 while it is read"
            ));
        }
        let found = self.files.iter().position(|f| match &f.kind {
            InputKind::Path { path, .. } => id_of(path) == Some(id),
            _ => false,
        });
        if let Some(i) = found {
            let file = self.files.remove(i);
            let reason = format!(
                "the output file of this run ({shown}), found in an input folder; not read"
            );
            self.skips.push(Skip::file(file.name, reason, 0));
            self.ids.remove(&id);
            self.outputs_left_out += 1;
        }
        Ok(())
    }

    /// How many files found in folders were left out: no logs by their names, and outputs.
    pub fn left_out(&self) -> usize {
        self.not_logs.len() + self.outputs_left_out
    }

    /// The fatal message for inputs in which no file is left to read.
    pub fn nothing_found(&self) -> String {
        match self.left_out() {
            0 => "no log files found in the inputs given (folders hold no files?)".to_owned(),
            n => format!(
                "no log files to read in the inputs given ({n} file{} left out as no logs or \
                 as outputs: see the notes above)",
                if n == 1 { "" } else { "s" }
            ),
        }
    }

    /// Leaves out, with a note, the files found by walking an input folder whose first bytes
    /// are what the command writes (`earlier_output`, given a file's first 512 bytes, never
    /// empty): the output of an earlier run kept in a folder that is hunted again would be
    /// taken for a log, and its detections matched as events. Files named as inputs are read
    /// whatever they hold, and EVTX files are not looked at (an output is never one).
    pub fn exclude_earlier_outputs(&mut self, earlier_output: impl Fn(&[u8]) -> bool) {
        if self.walked.is_empty() {
            return;
        }
        let walked = &self.walked;
        let mut left_out = Vec::new();
        // (Found by the walk, by name: no second `stat` per file.)
        self.files.retain(|f| {
            let InputKind::Path {
                path,
                seekable: true,
            } = &f.kind
            else {
                return true;
            };
            let evtx = path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("evtx"));
            let ours = !evtx
                && walked.contains(&f.name)
                && head_of(path).is_some_and(|head| !head.is_empty() && earlier_output(&head));
            if ours {
                left_out.push(Arc::clone(&f.name));
            }
            !ours
        });
        self.outputs_left_out += left_out.len();
        for name in left_out {
            let reason = "holds detections (the output of an earlier hunt), found in an input \
                          folder; not read"
                .to_owned();
            self.skips.push(Skip::file(name, reason, 0));
        }
    }

    /// Whether nothing could be read, given how many files failed: no file, or none readable
    /// (then an earlier output is left as it was).
    pub fn nothing_read(&self, files_failed: u64) -> bool {
        self.files.is_empty() || files_failed == self.files.len() as u64
    }

    /// Sum of the known file sizes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().filter_map(|f| f.size).sum()
    }
}

/// Expands inputs into files. A folder is walked recursively; entries whose name starts with
/// `.` inside a folder are left out (a hidden file named on the command line is read). Symbolic
/// links are followed, each folder once. A named input that does not exist (or cannot be looked
/// at) is an error; problems below a named folder are skips.
///
/// Inside a folder only regular files are read. A FIFO there would block the run waiting for
/// a writer, and a device could never end, so such an entry, and one that cannot be looked at
/// (a broken link, a link loop), is listed as [`InputKind::Unreadable`]: reported and counted
/// as an unreadable file when its turn comes. A FIFO named on the command line is read (that is
/// how logs are piped in).
///
/// A file reached twice (named twice, a folder and a file in it, overlapping globs) is read
/// once, where it first comes: read twice, its detections would be reported twice and its
/// events counted twice by correlations. A note says so.
pub fn discover(inputs: &[Input]) -> Result<Discovery, SourceError> {
    let mut found = Discovery::default();
    let mut seen = Seen::default();
    for input in inputs {
        match input {
            Input::Stdin => seen.add_stdin(&mut found),
            Input::Path(path) => {
                let meta = fs::metadata(path).map_err(|source| SourceError::Input {
                    path: path.clone(),
                    source,
                })?;
                if meta.is_dir() {
                    let mut visited = HashSet::new();
                    walk(path, &mut visited, &mut seen, &mut found);
                } else {
                    seen.add(path.clone(), &meta, &mut found);
                    // Named, it is read whatever it holds, even if a folder walked before
                    // holds it too (then under the name it was found by).
                    if let Some(first) = file_id(&meta).and_then(|id| seen.files.get(&id)) {
                        found.walked.remove(first);
                    }
                }
            }
        }
    }
    found.ids = seen.files.keys().copied().collect();
    seen.report(&mut found);
    if let Some(first) = found.not_logs.first() {
        let more = match found.not_logs.len() - 1 {
            0 => "(name it to read it)".to_owned(),
            1 => "nor 1 more such file (name one to read it)".to_owned(),
            n => format!("nor {n} more such files (name one to read it)"),
        };
        let reason = format!(
            "not a log by its name (YAML, Markdown, a license or readme), found in an input \
             folder; not read{}{more}",
            if more.starts_with('(') { " " } else { ", " }
        );
        found.skips.push(Skip::file(Arc::clone(first), reason, 0));
    }
    Ok(found)
}

/// Whether a file found in a folder is, by its name, no log: rules and configuration (YAML),
/// documentation (Markdown), a license or a readme, as a checkout or an evidence folder holds
/// next to its logs. Read as text, their lines would be offered to every keyword rule.
fn not_a_log(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy().to_ascii_lowercase();
    let stem = name.split('.').next().unwrap_or("");
    let ext = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    // `LICENSE`, `LICENSE.GPL`, `README.txt`; not `license.log` or `license-server.log`.
    let document = matches!(stem, "license" | "licence" | "readme" | "copying")
        && matches!(
            ext,
            "" | "txt" | "gpl" | "mit" | "bsd" | "apache" | "rst" | "html"
        );
    document || matches!(ext, "yml" | "yaml" | "md" | "markdown")
}

/// The files found so far, by identity, and those found again.
#[derive(Default)]
struct Seen {
    /// Identity (device and inode) of each file kept, and its name.
    files: std::collections::HashMap<(u64, u64), Arc<str>>,
    /// Names of the files found again, with the name they were first found under.
    again: Vec<(Arc<str>, Arc<str>)>,
}

impl Seen {
    /// Adds the file at `path` to `found` unless it is already there; whether it was added.
    fn add(&mut self, path: PathBuf, meta: &fs::Metadata, found: &mut Discovery) -> bool {
        let entry = file_entry(path, meta);
        let new = self.first_time(file_id(meta), &entry.name);
        if new {
            found.files.push(entry);
        }
        new
    }

    /// Adds standard input unless what it reads was found already (`- log < log`, `- -`).
    fn add_stdin(&mut self, found: &mut Discovery) {
        let entry = InputFile::stdin();
        // What fd 0 is: the file it was redirected from, or a pipe.
        let id = fs::metadata("/dev/stdin").ok().and_then(|m| file_id(&m));
        if self.first_time(id, &entry.name) {
            found.files.push(entry);
        }
    }

    /// Whether the file `id` (named `name`) is new; if not, it is listed as found again.
    fn first_time(&mut self, id: Option<(u64, u64)>, name: &Arc<str>) -> bool {
        let Some(id) = id else {
            return true;
        };
        match self.files.entry(id) {
            std::collections::hash_map::Entry::Occupied(first) => {
                self.again.push((Arc::clone(name), Arc::clone(first.get())));
                false
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Arc::clone(name));
                true
            }
        }
    }

    /// Notes on the files found again: the first few by name, then how many more.
    fn report(self, found: &mut Discovery) {
        const NAMED: usize = 3;
        let more = self.again.len().saturating_sub(NAMED);
        for (i, (name, first)) in self.again.iter().take(NAMED).enumerate() {
            let mut reason = if name == first {
                "given more than once; read once".to_owned()
            } else {
                format!("the same file as {first}; read once")
            };
            if i + 1 == NAMED && more > 0 {
                let s = if more == 1 { "" } else { "s" };
                reason.push_str(&format!(
                    " (so {} {more} more file{s})",
                    if more == 1 { "is" } else { "are" }
                ));
            }
            found.skips.push(Skip::file(Arc::clone(name), reason, 0));
        }
    }
}

/// A file's first 512 bytes (`None` if it cannot be read).
fn head_of(path: &Path) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let file = fs::File::open(path).ok()?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, 512), &mut head).ok()?;
    Some(head)
}

/// What tells two names of one file apart from two files: device and inode.
fn file_id(meta: &fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

fn file_entry(path: PathBuf, meta: &fs::Metadata) -> InputFile {
    InputFile {
        name: path.display().to_string().into(),
        size: meta.is_file().then_some(meta.len()),
        kind: InputKind::Path {
            path,
            seekable: meta.is_file(),
        },
    }
}

fn walk(dir: &Path, visited: &mut HashSet<PathBuf>, seen: &mut Seen, found: &mut Discovery) {
    // A folder that cannot be listed is an input not read: reported in its turn and counted
    // with the unreadable files (it was a note only, missing from the summary's count).
    // Following links could loop; remember each folder by its real path.
    match fs::canonicalize(dir) {
        Ok(real) => {
            if !visited.insert(real) {
                return;
            }
        }
        Err(err) => {
            found
                .files
                .push(unreadable(dir, format!("cannot resolve folder: {err}")));
            return;
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            found
                .files
                .push(unreadable(dir, format!("cannot list folder: {err}")));
            return;
        }
    };
    let mut names = Vec::new();
    let mut unlisted: Option<(u64, std::io::Error)> = None;
    for entry in entries {
        match entry {
            Ok(entry) => names.push(entry.file_name()),
            Err(err) => match &mut unlisted {
                Some((n, _)) => *n += 1,
                None => unlisted = Some((1, err)),
            },
        }
    }
    if let Some((n, err)) = unlisted {
        let what = if n == 1 {
            "an entry".to_owned()
        } else {
            format!("{n} entries")
        };
        found.files.push(unreadable(
            dir,
            format!("cannot list {what} of the folder: {err}; the rest is read"),
        ));
    }
    names.sort_unstable_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = dir.join(&name);
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, visited, seen, found),
            Ok(meta) if meta.is_file() => {
                let id = file_id(&meta);
                // A file named before is read as named (and noted as found again), whatever
                // its name or first bytes.
                let named = id.is_some_and(|id| seen.files.contains_key(&id));
                if !named && not_a_log(&name) {
                    found.not_logs.push(path.display().to_string().into());
                } else if seen.add(path, &meta, found)
                    && let Some(added) = found.files.last()
                {
                    found.walked.insert(Arc::clone(&added.name));
                }
            }
            Ok(meta) => found.files.push(unreadable(
                &path,
                format!(
                    "not a regular file ({}); skipped",
                    file_kind(meta.file_type())
                ),
            )),
            Err(err) => {
                // A link whose target is missing or loops back is the common case: said so.
                let link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                let reason = match (link, err.kind()) {
                    (true, std::io::ErrorKind::NotFound) => {
                        "a broken link (its target does not exist); skipped".to_owned()
                    }
                    (true, _) => format!("a link that cannot be followed ({err}); skipped"),
                    (false, _) => format!("cannot read file information: {err}"),
                };
                found.files.push(unreadable(&path, reason));
            }
        }
    }
}

fn unreadable(path: &Path, reason: String) -> InputFile {
    InputFile {
        name: path.display().to_string().into(),
        kind: InputKind::Unreadable { reason },
        size: Some(0),
    }
}

/// What a file that is neither a folder nor a regular file is, in words.
pub(crate) fn file_kind(kind: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    #[cfg(not(unix))]
    let _ = kind;
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &Discovery, root: &Path) -> Vec<String> {
        found
            .files
            .iter()
            .map(|f| match &f.kind {
                InputKind::Path { path, .. } => path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned(),
                InputKind::Stdin => "-".to_owned(),
                InputKind::Unreadable { reason } => format!("!{}: {reason}", f.name),
            })
            .collect()
    }

    #[test]
    fn folders_are_walked_recursively_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for path in [
            "b.json",
            "a/z.evtx",
            "a/c/d.txt",
            "a/B.log",
            "C.gz",
            ".hidden",
            "a/.x",
        ] {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "x").unwrap();
        }
        let found = discover(&[Input::Path(root.to_path_buf())]).unwrap();
        assert_eq!(
            names(&found, root),
            ["C.gz", "a/B.log", "a/c/d.txt", "a/z.evtx", "b.json"]
        );
        assert!(found.skips.is_empty());
        assert_eq!(found.total_bytes(), 5);
    }

    #[cfg(unix)]
    #[test]
    fn inputs_keep_their_order_and_a_file_found_again_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("b"), "1").unwrap();
        fs::write(root.join(".a"), "1").unwrap();
        fs::write(root.join("c"), "1").unwrap();
        let inputs = [
            Input::Path(root.join("b")),
            Input::Stdin,
            Input::Path(root.join(".a")),
            Input::Path(root.to_path_buf()),
        ];
        let found = discover(&inputs).unwrap();
        assert_eq!(names(&found, root), ["b", "-", ".a", "c"]);
        let b = root.join("b").display().to_string();
        let notes: Vec<(String, String, u64)> = found
            .skips
            .iter()
            .map(|s| (s.path.to_string(), s.reason.clone(), s.records))
            .collect();
        assert_eq!(
            notes,
            [(b.clone(), "given more than once; read once".to_owned(), 0)]
        );

        // Another name of the same file (a link), and many repeats: a few notes. The folder
        // holds `b`, `c` and `link`: `c` and `link` are one file, found first as `link`.
        std::os::unix::fs::symlink(root.join("c"), root.join("link")).unwrap();
        let inputs = [
            Input::Path(root.join("link")),
            Input::Path(root.to_path_buf()),
            Input::Path(root.to_path_buf()),
        ];
        let found = discover(&inputs).unwrap();
        assert_eq!(names(&found, root), ["link", "b"]);
        let reasons: Vec<&str> = found.skips.iter().map(|s| s.reason.as_str()).collect();
        let link = root.join("link").display().to_string();
        assert_eq!(
            reasons,
            [
                format!("the same file as {link}; read once"),
                "given more than once; read once".to_owned(),
                "given more than once; read once (so are 2 more files)".to_owned(),
            ]
        );
    }

    #[test]
    fn a_missing_named_input_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.evtx");
        let err = discover(&[Input::Path(missing.clone())]).unwrap_err();
        assert!(matches!(err, SourceError::Input { ref path, .. } if *path == missing));
        assert!(err.to_string().starts_with(&missing.display().to_string()));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("sub/f"), "1").unwrap();
        std::os::unix::fs::symlink(root, root.join("sub/loop")).unwrap();
        let found = discover(&[Input::Path(root.to_path_buf())]).unwrap();
        assert_eq!(names(&found, root), ["sub/f"]);
    }

    #[cfg(unix)]
    #[test]
    fn files_that_are_no_logs_by_name_are_left_out_of_folders_with_one_note() {
        // Found by the fifth review: a checkout's info.yml and SOURCE files, an evidence
        // folder's LICENSE, were read as text and hit by keyword rules.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "a.log",
            "info.yml",
            "rules.YAML",
            "README.md",
            "LICENSE.GPL",
            "b.jsonl",
            "license.log",
            "readme-app.log",
        ] {
            fs::write(root.join(name), "x").unwrap();
        }
        let found = discover(&[Input::Path(root.to_path_buf())]).unwrap();
        // Logs whose names merely start with such a word are read.
        assert_eq!(
            names(&found, root),
            ["a.log", "b.jsonl", "license.log", "readme-app.log"]
        );
        assert_eq!(found.skips.len(), 1, "{:?}", found.skips);
        assert!(
            found.skips[0].path.ends_with("LICENSE.GPL"),
            "{:?}",
            found.skips
        );
        assert_eq!(found.skips[0].records, 0);
        assert!(
            found.skips[0]
                .reason
                .ends_with("not read, nor 3 more such files (name one to read it)"),
            "{:?}",
            found.skips
        );
        // Named, such a file is read, also when a folder named after it holds it (it was
        // noted as "not read"; review of the change).
        let named = discover(&[Input::Path(root.join("info.yml"))]).unwrap();
        assert_eq!(named.files.len(), 1);
        assert!(named.skips.is_empty());
        let both = discover(&[
            Input::Path(root.join("info.yml")),
            Input::Path(root.to_path_buf()),
        ])
        .unwrap();
        assert_eq!(
            names(&both, root),
            [
                "info.yml",
                "a.log",
                "b.jsonl",
                "license.log",
                "readme-app.log"
            ]
        );
        assert!(
            both.skips
                .iter()
                .all(|s| !s.path.ends_with("info.yml") || s.reason.contains("read once")),
            "{:?}",
            both.skips
        );
    }

    #[test]
    fn special_files_and_broken_links_in_folders_are_unreadable_files() {
        // Found by fuzzing: a FIFO in a folder made the run wait for a writer forever.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.log"), "x").unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("b.sock")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("c.dangling")).unwrap();
        std::os::unix::fs::symlink(root.join("d.loop"), root.join("d.loop")).unwrap();
        let found = discover(&[Input::Path(root.to_path_buf())]).unwrap();
        assert!(found.skips.is_empty());
        let kinds: Vec<_> = found
            .files
            .iter()
            .map(|f| match &f.kind {
                InputKind::Unreadable { reason } => {
                    format!("{}: {reason}", f.name.rsplit('/').next().unwrap_or(""))
                }
                _ => f.name.rsplit('/').next().unwrap_or("").to_owned(),
            })
            .collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        assert_eq!(kinds[0], "a.log");
        assert_eq!(kinds[1], "b.sock: not a regular file (a socket); skipped");
        assert_eq!(
            kinds[2],
            "c.dangling: a broken link (its target does not exist); skipped"
        );
        assert!(
            kinds[3].starts_with("d.loop: a link that cannot be followed ("),
            "{kinds:?}"
        );
        // Named on the command line, a special file is read as a stream.
        let named = discover(&[Input::Path(root.join("b.sock"))]).unwrap();
        assert!(matches!(
            named.files[0].kind,
            InputKind::Path {
                seekable: false,
                ..
            }
        ));
    }

    #[test]
    fn dash_is_stdin() {
        assert_eq!(Input::from_arg("-"), Input::Stdin);
        assert_eq!(Input::from_arg("./-"), Input::Path(PathBuf::from("./-")));
    }
}
