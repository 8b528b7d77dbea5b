//! `sigwatch dump` as a user runs it: exit codes, stdout, stderr.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::{mkfifo, output_within};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn sigwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sigwatch"))
}

fn dump(args: &[&str]) -> Output {
    sigwatch()
        .arg("dump")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("sigwatch runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn summary(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|line| line.starts_with("dump: "))
        .unwrap_or_else(|| panic!("no summary line in {stderr:?}"))
}

#[test]
fn prints_events_as_compact_json_lines_and_skips_on_stderr() {
    let path = fixture("events.jsonl");
    let out = dump(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"EventID":1,"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami"}"#,
            r#"{"EventID":4688,"NewProcessName":"C:\\Windows\\System32\\net.exe","Message":"caf\u00e9 \u0027quoted\u0027"}"#,
            r#"{"EventID":11,"TargetFilename":"C:\\Users\\Public\\evil.dll"}"#,
        ]
    );
    let stderr = text(&out.stderr);
    let name = path.display().to_string();
    let messages: Vec<&str> = stderr.lines().collect();
    assert_eq!(messages.len(), 3, "{stderr}");
    // The reasons `hunt` gives: dump checks lines with the engine's scanner.
    assert!(messages[0].starts_with(&format!("{name}:3: invalid JSON at byte ")));
    assert_eq!(
        messages[1],
        format!("{name}:6: invalid JSON at byte 0: a JSON line must be an object, not an array")
    );
    let summary = summary(&stderr);
    assert!(
        summary.starts_with("dump: 1 file, 3 events, 2 skipped, "),
        "{summary}"
    );
    assert!(summary.ends_with(" events/s"), "{summary}");
}

#[test]
fn folders_come_out_in_sorted_order_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in [
        ("b/2.json", "array.json"),
        ("a.jsonl", "events.jsonl"),
        ("b/1.log", "cisco.log"),
    ] {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(fixture(source), path).unwrap();
    }
    let root = dir.path().to_str().unwrap();
    let one = dump(&["--threads", "1", root]);
    let two = dump(&["-j", "2", root]);
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(one.stdout, two.stdout);
    let strip_summary = |stderr: &[u8]| -> Vec<String> {
        text(stderr)
            .lines()
            .filter(|l| !l.starts_with("dump: "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(strip_summary(&one.stderr), strip_summary(&two.stderr));
    let stdout = text(&one.stdout);
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // a.jsonl (3 events), then b/1.log (2), then b/2.json (2).
    assert_eq!(events.len(), 7);
    assert_eq!(events[0]["EventID"], 1);
    assert!(events[3]["message"].as_str().unwrap().starts_with("Mar  1"));
    assert_eq!(events[6]["TargetUserName"], "bob");
    assert!(summary(&text(&one.stderr)).starts_with("dump: 3 files, 7 events, 3 skipped"));
}

/// Runs `sigwatch dump -` with `input` written to its standard input.
fn dump_stdin(input: Vec<u8>) -> Output {
    let mut child = sigwatch()
        .args(["dump", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sigwatch runs");
    let mut stdin = child.stdin.take().expect("piped");
    // From another thread: a big input would fill the pipe while stdout is not read.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("waits");
    writer.join().expect("writer ends").expect("input written");
    out
}

#[test]
fn reads_stdin_for_dash() {
    let out = dump_stdin(b"{\"a\": 1}\n\nnot json\n{\"b\": [true, null]}".to_vec());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "{\"a\":1}\n{\"b\":[true,null]}\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("<stdin>:3: invalid JSON at byte 0: "),
        "{stderr}"
    );
}

#[test]
fn text_format_can_be_forced_and_output_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let out = dump(&[
        "--format",
        "text",
        "--output",
        output.to_str().unwrap(),
        fixture("events.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&output).unwrap();
    let first: serde_json::Value = serde_json::from_str(written.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["message"],
        r#"{"EventID": 1, "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"}"#
    );
    assert_eq!(written.lines().count(), 5);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.evtx");
    let out = dump(&[
        fixture("events.jsonl").to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: {}: ", missing.display())),
        "{stderr}"
    );
    assert_eq!(dump(&[]).status.code(), Some(2));
    assert_eq!(dump(&["--format", "xml", "x"]).status.code(), Some(2));
}

#[test]
fn nothing_readable_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dump(&[dir.path().to_str().unwrap()]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(text(&empty.stderr).contains("error: no log files found in the inputs given"));

    let binary = dir.path().join("blob.bin");
    std::fs::write(&binary, b"\0\x01\x02\x03garbage").unwrap();
    let out = dump(&[binary.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("blob.bin: binary data"), "{stderr}");
    assert!(summary(&stderr).starts_with("dump: 1 file (1 unreadable), 0 events, 1 skipped"));

    // One readable file among unreadable ones is a success.
    let out = dump(&[
        binary.to_str().unwrap(),
        fixture("cisco.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
}

/// Runs `sigwatch dump args`, killing it after 20 s (a hang fails the test, not the run).
fn dump_within_time(args: &[&str]) -> Output {
    let child = sigwatch()
        .arg("dump")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sigwatch runs");
    output_within(
        child,
        Duration::from_secs(20),
        &format!("sigwatch dump {args:?}"),
    )
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_folder_is_skipped_and_counted_and_a_named_one_is_read() {
    // Found by fuzzing (dir_with_fifo): the walk opened the FIFO and waited for a writer.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("events.jsonl"), dir.path().join("a.jsonl")).unwrap();
    let fifo = dir.path().join("z.jsonl");
    if !mkfifo(&fifo) {
        return;
    }
    let out = dump_within_time(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 3);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: not a regular file (a FIFO); skipped\n",
            fifo.display()
        )),
        "{stderr}"
    );
    assert!(
        summary(&stderr).starts_with("dump: 2 files (1 unreadable), 3 events, 3 skipped"),
        "{stderr}"
    );

    // Named on the command line, the FIFO is read: that is how logs are piped in.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, b"{\"piped\":1}\n"))
    };
    let out = dump_within_time(&[fifo.to_str().unwrap()]);
    writer.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "{\"piped\":1}\n");
}

#[cfg(unix)]
#[test]
fn broken_links_in_a_folder_count_as_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("cisco.log"), dir.path().join("a.log")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("b.log")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("c.log"), dir.path().join("c.log")).unwrap();
    let out = dump(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("b.log: a broken link (its target does not exist); skipped"),
        "{stderr}"
    );
    assert!(
        summary(&stderr).starts_with("dump: 3 files (2 unreadable), 2 events, 2 skipped"),
        "{stderr}"
    );
}

/// A folder that cannot be listed is an input not read: named, and counted with the
/// unreadable files in the summary (it was a note only, and the count said all was read).
/// Root lists any folder, so as root the binary runs as `nobody` (through `setpriv`).
#[cfg(unix)]
#[test]
fn a_folder_that_cannot_be_listed_counts_as_unreadable() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    mode(dir.path(), 0o755);
    let logs = dir.path().join("logs");
    let locked = logs.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::copy(fixture("cisco.log"), logs.join("a.log")).unwrap();
    std::fs::copy(fixture("cisco.log"), locked.join("b.log")).unwrap();
    mode(&locked, 0o000);
    let logs_arg = logs.to_str().unwrap();
    let out = if std::fs::read_dir(&locked).is_ok() {
        let bin = dir.path().join("sigwatch");
        std::fs::copy(env!("CARGO_BIN_EXE_sigwatch"), &bin).unwrap();
        mode(&bin, 0o755);
        Command::new("setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(&bin)
            .args(["dump", logs_arg])
            .stdin(Stdio::null())
            .output()
            .expect("setpriv (util-linux) runs the test as nobody")
    } else {
        dump(&[logs_arg])
    };
    mode(&locked, 0o755);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: cannot list folder: ", locked.display())),
        "{stderr}"
    );
    assert!(
        summary(&stderr).starts_with("dump: 2 files (1 unreadable), "),
        "{stderr}"
    );
}

fn json_lines(n: usize) -> String {
    (1..=n)
        .map(|i| format!("{{\"EventID\":{i},\"Message\":\"{}\"}}\n", "m".repeat(300)))
        .collect()
}

#[test]
fn nul_bytes_in_a_json_lines_file_cost_only_the_bad_line() {
    // Found by fuzzing: one line of NULs (keep/nul_one_line.jsonl) or the NULs copytruncate
    // leaves at the start (keep/nul_prefix_copytruncate.jsonl) made the file binary data.
    let dir = tempfile::tempdir().unwrap();
    let lines = json_lines(40);
    let (first, rest) = lines.split_at(lines.find('\n').unwrap() + 1);
    let junk_line = dir.path().join("junk_line.jsonl");
    std::fs::write(
        &junk_line,
        [first.as_bytes(), b"\0\0\0\0\n", rest.as_bytes()].concat(),
    )
    .unwrap();
    let out = dump(&[junk_line.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 40);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:2: invalid JSON", junk_line.display())),
        "{stderr}"
    );
    assert!(summary(&stderr).starts_with("dump: 1 file, 40 events, 1 skipped"));

    let padded = dir.path().join("padded.jsonl");
    std::fs::write(
        &padded,
        [vec![0u8; 8192], lines.clone().into_bytes()].concat(),
    )
    .unwrap();
    let out = dump(&[padded.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 40);
    assert!(stdout.starts_with("{\"EventID\":1,"));
    assert!(summary(&text(&out.stderr)).starts_with("dump: 1 file, 40 events, 0 skipped"));

    // The same bytes through a pipe.
    let out = dump_stdin(std::fs::read(&padded).unwrap());
    assert_eq!(text(&out.stdout).lines().count(), 40);
}

#[test]
fn utf16_text_is_read() {
    // Found by fuzzing: keep/utf16le.log, what `>` writes in Windows PowerShell 5, was binary
    // data.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ps.log");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "line one mimikatz\r\nline two é\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    std::fs::write(&path, bytes).unwrap();
    let out = dump(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "{\"message\":\"line one mimikatz\"}\n{\"message\":\"line two é\"}\n"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let line = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(200));
    std::fs::write(&path, line.repeat(100_000)).unwrap();
    let mut child = sigwatch()
        .args(["dump", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"pad\":"));
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn evtx_samples_dump_with_record_order_kept() {
    let Some(data) = testkit::data_root("evtx_samples_dump_with_record_order_kept") else {
        return;
    };
    let folder = Path::new(&data).join("evtx-attack-samples/Lateral Movement");
    let out = dump(&[folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let mut records = 0;
    for line in stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        // The crate's shape: `"EventID": 4688`, or with qualifiers
        // `"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}`.
        let id = &event["Event"]["System"]["EventID"];
        assert!(id.is_u64() || id["#text"].is_u64(), "{line}");
        records += 1;
    }
    assert!(records > 100);
    let stderr = text(&out.stderr);
    assert!(
        summary(&stderr).contains(&format!(", {records} events, 0 skipped")),
        "{stderr}"
    );
}

/// Skips are counted in records: an EVTX file cut inside its chunk prints the records the cut
/// left whole, one message for the loss, and the lost records in the summary. Found by the
/// EVTX fuzz sweep (`trunc_midrec`).
#[test]
fn a_cut_evtx_file_counts_its_lost_records() {
    use testkit::evtx::{Chunk, FILE_HEADER_SIZE, file};
    let chunk = Chunk::new(1, 40, 400);
    let cut = chunk.records[30].1 + 100;
    let bytes = file(&[chunk]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.evtx");
    std::fs::write(&path, &bytes[..FILE_HEADER_SIZE + cut]).unwrap();
    let out = dump(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 30);
    let stderr = text(&out.stderr);
    let messages: Vec<&str> = stderr.lines().collect();
    assert_eq!(messages.len(), 2, "{stderr}");
    assert!(
        messages[0].starts_with(&format!("{}: chunk 0: truncated (", path.display())),
        "{stderr}"
    );
    assert!(messages[0].ends_with(" of 65,536 bytes); 30 records read, 10 skipped"));
    assert!(
        summary(&stderr).starts_with("dump: 1 file, 30 events, 10 skipped"),
        "{stderr}"
    );
}

/// A file forced to a format it is not in printed a message per line (365 for one EVTX file
/// read as JSON lines; fifth review): the first hundred are shown, the rest counted in one line,
/// in dump as in hunt; the summary still counts every skipped record.
#[test]
fn messages_about_one_input_stop_after_a_hundred() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "not json\n".repeat(150)).unwrap();
    let path = junk.to_str().unwrap();
    let out = dump(&["--log-format", "jsonl", path]);
    let stderr = text(&out.stderr);
    let about: Vec<&str> = stderr.lines().filter(|l| l.starts_with(path)).collect();
    assert_eq!(about.len(), 101, "{stderr}");
    assert!(about[99].starts_with(&format!("{path}:100: ")), "{stderr}");
    assert_eq!(
        about[100],
        format!("{path}: 50 more messages about its records not shown (the first 100 are)")
    );
    assert!(stderr.contains("0 events, 150 skipped"), "{stderr}");
    let hunt = Command::new(env!("CARGO_BIN_EXE_sigwatch"))
        .args(["hunt", "-q", "--log-format", "jsonl", "-r"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hunt/rules"))
        .arg(path)
        .output()
        .unwrap();
    let stderr = text(&hunt.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with(path)).count(),
        101,
        "{stderr}"
    );
}
