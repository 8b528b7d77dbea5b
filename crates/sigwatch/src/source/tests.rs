//! Reading whole inputs: fixtures of our own (in `tests/fixtures/` or written here at run
//! time), and the shared corpus when `SIGWATCH_DATA` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Everything one file yields, read sequentially.
#[derive(Debug, Default)]
struct Read {
    format: Option<Format>,
    records: Vec<(u64, String)>,
    skips: Vec<Skip>,
    batches: usize,
    /// Skipped records as counted by the progress counters.
    skipped: u64,
}

impl Read {
    /// Records as values; records that are not events become skips.
    fn values(&self) -> Vec<(u64, Value)> {
        self.records
            .iter()
            .map(|(n, text)| {
                let data = if self.format == Some(Format::Text) {
                    RecordData::Text(text)
                } else {
                    RecordData::Json(text)
                };
                (*n, Record { number: *n, data }.to_value().unwrap())
            })
            .collect()
    }
}

fn read_with(file: &InputFile, opts: &SourceOptions) -> Read {
    let progress = Progress::new();
    let mut out = Read::default();
    let mut seqs = Vec::new();
    for mut batch in read_file(0, file, opts, &progress) {
        out.format = Some(batch.format);
        seqs.push((batch.seq, batch.last));
        out.records
            .extend(batch.records().map(|r| (r.number, r.text().to_owned())));
        out.skips.extend(std::mem::take(&mut batch.skips));
    }
    // Batches are numbered from 0 and exactly the final one is marked last.
    let n = seqs.len();
    assert!(n > 0, "every file yields at least one batch");
    for (i, (seq, last)) in seqs.into_iter().enumerate() {
        assert_eq!(seq, i as u64);
        assert_eq!(last, i + 1 == n);
    }
    out.batches = n;
    let counts = progress.snapshot();
    out.skipped = counts.skipped;
    assert_eq!(counts.records, out.records.len() as u64);
    assert_eq!(counts.skipped, Skip::count_records(&out.skips));
    assert_eq!(counts.files_done, 1);
    out
}

fn read_path(path: &Path) -> Read {
    read_with(&InputFile::path(path), &SourceOptions::default())
}

/// Skips as `(location, start of reason)` for compact assertions.
fn skip_locations(skips: &[Skip]) -> Vec<Location> {
    skips.iter().map(|s| s.location).collect()
}

#[test]
fn json_lines_fixture_keeps_line_numbers_and_reports_bad_lines() {
    let read = read_path(&fixture("events.jsonl"));
    assert_eq!(read.format, Some(Format::JsonLines));
    // Blank lines (2 and 4) are dropped silently; the source does not parse JSON.
    let numbers: Vec<u64> = read.records.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 3, 5, 6, 7]);
    assert!(read.skips.is_empty());

    // The value helper reports what is not an event, by line.
    let file = InputFile::path(fixture("events.jsonl"));
    let progress = Progress::new();
    let mut values = Vec::new();
    let mut rejected = Vec::new();
    for batch in read_file(0, &file, &SourceOptions::default(), &progress) {
        for item in batch.values() {
            match item {
                Ok((n, value)) => values.push((n, value)),
                Err(skip) => rejected.push(skip),
            }
        }
    }
    assert_eq!(
        values
            .iter()
            .map(|(n, v)| (*n, v["EventID"].clone()))
            .collect::<Vec<_>>(),
        [(1, json!(1)), (5, json!(4688)), (7, json!(11))]
    );
    assert_eq!(values[1].1["Message"], json!("café 'quoted'"));
    let messages: Vec<String> = rejected.iter().map(ToString::to_string).collect();
    let name = fixture("events.jsonl").display().to_string();
    assert!(messages[0].starts_with(&format!("{name}:3: invalid JSON: EOF while parsing")));
    assert_eq!(
        messages[1],
        format!("{name}:6: not a JSON object (found an array)")
    );
}

#[test]
fn json_array_fixture_streams_elements() {
    let read = read_path(&fixture("array.json"));
    assert_eq!(read.format, Some(Format::JsonArray));
    let values = read.values();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].0, 1);
    assert_eq!(values[0].1["Nested"]["list"][1], json!("two, ]"));
    assert_eq!(
        values[1],
        (3, json!({"EventID": 4625, "TargetUserName": "bob"}))
    );
    assert_eq!(skip_locations(&read.skips), [Location::Element(2)]);
    assert_eq!(read.skips[0].reason, "not a JSON object");
}

#[test]
fn text_fixture_is_one_message_per_line() {
    let read = read_path(&fixture("cisco.log"));
    assert_eq!(read.format, Some(Format::Text));
    let values = read.values();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].0, 1);
    assert_eq!(values[1].0, 3);
    let first = values[0].1["message"].as_str().unwrap();
    assert!(first.starts_with("Mar  1 10:00:01 edge-rtr %SEC-6-IPACCESSLOGP"));
    assert!(first.ends_with("1 packet"), "no \\r left: {first:?}");
}

#[test]
fn text_lines_of_nul_padding_are_skipped_and_counted() {
    // copytruncate rotation: NULs up to the old size, sometimes followed by new lines; a crash
    // can leave a run of them mid-file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syslog");
    let mut bytes = Vec::new();
    for i in 1..=6 {
        bytes.extend_from_slice(format!("Nov 24 10:00:0{i} host sshd[1]: line {i}\n").as_bytes());
    }
    bytes.extend_from_slice(&[0; 300]);
    bytes.extend_from_slice(b"\n\0\0\0Nov 24 10:01:00 host cron[2]: after\n");
    bytes.extend_from_slice(&[0; 4000]);
    std::fs::write(&path, &bytes).unwrap();
    let read = read_path(&path);
    assert_eq!(read.format, Some(Format::Text));
    let messages: Vec<(u64, String)> = read
        .values()
        .into_iter()
        .map(|(n, v)| (n, v["message"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(messages.len(), 7, "{messages:?}");
    assert_eq!(
        messages[6],
        (8, "Nov 24 10:01:00 host cron[2]: after".to_owned())
    );
    assert!(messages.iter().all(|(_, m)| !m.contains('\0')));
    assert_eq!(
        skip_locations(&read.skips),
        [Location::Line(7), Location::Line(9)]
    );
    assert_eq!(
        read.skips[1].reason,
        "4000 bytes of NUL padding, no text; skipped"
    );
    assert_eq!(read.skipped, 2);
}

#[test]
fn gzip_is_detected_by_magic_and_the_inner_format_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("events.jsonl")).unwrap();
    // A .gz name, and a name that says nothing: the magic bytes decide.
    for name in ["events.jsonl.gz", "events.data"] {
        let path = dir.path().join(name);
        std::fs::write(&path, gzip(&plain)).unwrap();
        let read = read_path(&path);
        assert_eq!(read.format, Some(Format::JsonLines), "{name}");
        assert_eq!(read.records, read_path(&fixture("events.jsonl")).records);
    }
    // Concatenated gzip members read as one stream.
    let path = dir.path().join("two-members.gz");
    let mut two = gzip(b"{\"a\":1}\n");
    two.extend(gzip(b"{\"a\":2}\n"));
    std::fs::write(&path, two).unwrap();
    assert_eq!(
        read_path(&path).records,
        [(1, r#"{"a":1}"#.into()), (2, r#"{"a":2}"#.into())]
    );
    // Text and arrays inside gzip too.
    let path = dir.path().join("cisco.log.gz");
    std::fs::write(&path, gzip(&std::fs::read(fixture("cisco.log")).unwrap())).unwrap();
    assert_eq!(read_path(&path).format, Some(Format::Text));
    let path = dir.path().join("array.gz");
    std::fs::write(&path, gzip(&std::fs::read(fixture("array.json")).unwrap())).unwrap();
    assert_eq!(read_path(&path).records.len(), 2);
}

#[test]
fn a_truncated_gzip_file_keeps_its_whole_lines_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = String::new();
    for i in 1..=20_000 {
        plain.push_str(&format!(
            "{{\"n\":{i},\"pad\":\"{}\"}}\n",
            "x".repeat(i % 50)
        ));
    }
    let compressed = gzip(plain.as_bytes());
    let path = dir.path().join("cut.jsonl.gz");
    std::fs::write(&path, &compressed[..compressed.len() / 2]).unwrap();
    let opts = SourceOptions {
        batch_bytes: 16 * 1024,
        ..SourceOptions::default()
    };
    let read = read_with(&InputFile::path(&path), &opts);
    assert!(read.batches > 1);
    let n = read.records.len();
    assert!(n > 1000 && n < 20_000, "{n} records");
    // What came out is exactly the first lines, each whole.
    for (i, (number, text)) in read.records.iter().enumerate() {
        assert_eq!(*number, i as u64 + 1);
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["n"], json!(i + 1));
    }
    assert_eq!(read.skips.len(), 1, "{:?}", read.skips);
    assert_eq!(read.skips[0].location, Location::Line(n as u64 + 1));
    assert!(
        read.skips[0]
            .reason
            .starts_with("read error, rest of input skipped")
    );
}

/// `gzip(bytes)` with its checksum (the trailer's first four bytes) made wrong.
fn gzip_with_a_bad_checksum(bytes: &[u8]) -> Vec<u8> {
    let mut member = gzip(bytes);
    let crc = member.len() - 8;
    member[crc] ^= 0xff;
    member
}

#[test]
fn a_gzip_member_with_a_bad_checksum_is_read_whole_and_noted() {
    let dir = tempfile::tempdir().unwrap();
    let note = "gzip member 1: its checksum does not match its content; read as it is (it may \
                be damaged)";
    // The only member, its last line without a line end: every line is read and none is
    // counted as skipped (the mismatch is found after the whole content was handed on).
    let path = dir.path().join("bad-crc.jsonl.gz");
    std::fs::write(&path, gzip_with_a_bad_checksum(b"{\"a\":1}\n{\"a\":2}")).unwrap();
    let read = read_path(&path);
    assert_eq!(
        read.records,
        [(1, r#"{"a":1}"#.into()), (2, r#"{"a":2}"#.into())]
    );
    assert_eq!(skip_reasons(&read), [(Location::File, note.to_owned())]);
    assert_eq!(read.skipped, 0);
    // A damaged first member no longer loses the members after it.
    let path = dir.path().join("three-members.jsonl.gz");
    let mut three = gzip_with_a_bad_checksum(b"{\"a\":1}\n");
    three.extend(gzip(b"{\"a\":2}\n"));
    three.extend(gzip_with_a_bad_checksum(b"{\"a\":3}\n"));
    std::fs::write(&path, three).unwrap();
    let read = read_path(&path);
    assert_eq!(read.records.len(), 3, "{:?}", read.skips);
    assert_eq!(
        skip_reasons(&read),
        [
            (Location::File, note.to_owned()),
            (Location::File, note.replace("member 1", "member 3"))
        ]
    );
    assert_eq!(read.skipped, 0);
    // Bytes after a member that are no gzip member still end the input, reported as before.
    let mut trailing = gzip(b"{\"a\":1}\n");
    trailing.extend_from_slice(b"this is no gzip member\n");
    std::fs::write(&path, trailing).unwrap();
    let read = read_path(&path);
    assert_eq!(read.records, [(1, r#"{"a":1}"#.into())]);
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Line(2),
            "read error, rest of input skipped: invalid gzip header".to_owned()
        )]
    );
}

#[test]
fn invalid_utf8_lines_are_repaired_and_noted_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(
        &path,
        b"{\"a\":1}\n{\"b\":\"\xff\xfe\"}\n{\"c\":3}\n{\"d\":\"caf\xe9\"}\n",
    )
    .unwrap();
    let read = read_path(&path);
    assert_eq!(
        read.records,
        [
            (1, r#"{"a":1}"#.into()),
            (2, "{\"b\":\"\u{fffd}\u{fffd}\"}".into()),
            (3, r#"{"c":3}"#.into()),
            (4, "{\"d\":\"caf\u{fffd}\"}".into())
        ]
    );
    // One note for the block, at its first bad line, counting the others; no record skipped.
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Line(2),
            "not valid UTF-8 (invalid byte at offset 6); read with U+FFFD in its place (as 1 \
             more record, up to 4)"
                .to_owned()
        )]
    );
    assert_eq!(read.skipped, 0);

    let path = dir.path().join("access.log");
    std::fs::write(&path, b"GET /caf\xe9 200\nGET /ok 200\n").unwrap();
    let read = read_path(&path);
    assert_eq!(
        read.records,
        [
            (1, "GET /caf\u{fffd} 200".into()),
            (2, "GET /ok 200".into())
        ]
    );
    assert!(read.skips.is_empty());
}

#[test]
fn forced_formats_override_detection() {
    let jsonl = InputFile::path(fixture("events.jsonl"));
    let as_text = SourceOptions {
        format: Some(Format::Text),
        ..SourceOptions::default()
    };
    let read = read_with(&jsonl, &as_text);
    assert_eq!(read.format, Some(Format::Text));
    assert_eq!(read.records.len(), 5);

    let as_array = SourceOptions {
        format: Some(Format::JsonArray),
        ..SourceOptions::default()
    };
    // Read as JSON objects one after the other: the unterminated second one is passed over up
    // to the next line that starts with `{` (it ran to the end before), and so is `[1, 2]`.
    let read = read_with(&jsonl, &as_array);
    assert_eq!(read.records.len(), 3);
    assert_eq!(
        skip_locations(&read.skips),
        [Location::Element(2), Location::Element(4)]
    );

    let as_evtx = SourceOptions {
        format: Some(Format::Evtx),
        ..SourceOptions::default()
    };
    let progress = Progress::new();
    let batches: Vec<Batch> = read_file(0, &jsonl, &as_evtx, &progress).collect();
    assert_eq!(batches.len(), 1);
    assert!(
        batches[0].skips[0]
            .reason
            .starts_with("not a readable EVTX file")
    );
    assert_eq!(progress.snapshot().files_failed, 1);
}

#[test]
fn unreadable_binary_and_empty_files_are_handled_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let progress = Progress::new();
    let opts = SourceOptions::default();

    let missing = InputFile::path(dir.path().join("gone.jsonl"));
    let batches: Vec<Batch> = read_file(0, &missing, &opts, &progress).collect();
    assert_eq!(batches.len(), 1);
    assert!(batches[0].last && batches[0].is_empty());
    assert!(
        batches[0].skips[0]
            .to_string()
            .contains("gone.jsonl: cannot open:")
    );

    let binary = dir.path().join("image.bin");
    std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let read = read_path(&binary);
    assert!(read.records.is_empty());
    assert_eq!(
        read.skips[0].reason,
        "binary data (not EVTX, gzip, JSON or text)"
    );

    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, b"").unwrap();
    let read = read_path(&empty);
    assert!(read.records.is_empty() && read.skips.is_empty());
    assert_eq!(read.batches, 1);

    assert_eq!(progress.snapshot().files_failed, 1);
}

/// Many files, tiny batches: the parallel reader must hand over exactly what the sequential one
/// does, and `Reorder` must put it back in the same order.
#[test]
fn read_all_in_file_order_matches_sequential_reading() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..12 {
        let sub = root.join(format!("d{}", i % 3));
        std::fs::create_dir_all(&sub).unwrap();
        let mut text = String::new();
        for line in 0..(i * 97 + 5) {
            if line % 41 == 7 {
                text.push('\n');
            } else {
                text.push_str(&format!("{{\"file\":{i},\"line\":{line}}}\n"));
            }
        }
        let bytes = if i % 2 == 0 {
            text.into_bytes()
        } else {
            gzip(text.as_bytes())
        };
        std::fs::write(sub.join(format!("f{i:02}.jsonl")), bytes).unwrap();
    }
    std::fs::write(
        root.join("d1/cisco.log"),
        std::fs::read(fixture("cisco.log")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        root.join("d2/array.json"),
        std::fs::read(fixture("array.json")).unwrap(),
    )
    .unwrap();
    let found = discover(&[Input::Path(root.to_path_buf())]).unwrap();
    assert_eq!(found.files.len(), 14);
    let opts = SourceOptions {
        threads: 2,
        batch_bytes: 256,
        ..SourceOptions::default()
    };

    let flatten = |batch: &Batch| -> Vec<String> {
        let mut lines: Vec<String> = batch
            .records()
            .map(|r| format!("{}:{} {}", batch.file, r.number, r.text()))
            .collect();
        lines.extend(batch.skips.iter().map(ToString::to_string));
        lines
    };
    let sequential_progress = Progress::new();
    let sequential: Vec<String> = read_sequential(&found.files, &opts, &sequential_progress)
        .flat_map(|batch| flatten(&batch))
        .collect();

    let progress = Progress::new();
    let order = Mutex::new((Reorder::new(), Vec::new()));
    read_all(&found.files, &opts, &progress, |batch| {
        let lines = flatten(&batch);
        let mut guard = order.lock().unwrap();
        let (reorder, out) = &mut *guard;
        reorder.push(batch.file, batch.seq, batch.last, lines, |ready| {
            out.extend(ready)
        });
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let (reorder, parallel) = order.into_inner().unwrap();
    assert_eq!(reorder.waiting(), 0);
    assert_eq!(reorder.files_done(), found.files.len());
    assert_eq!(parallel, sequential);
    assert!(sequential.len() > 5000);
    assert_eq!(progress.snapshot(), sequential_progress.snapshot());
}

#[test]
fn read_all_stops_when_the_sink_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..20 {
        let path = dir.path().join(format!("{i}.jsonl"));
        std::fs::write(&path, "{\"a\":1}\n".repeat(1000)).unwrap();
        files.push(InputFile::path(path));
    }
    let opts = SourceOptions {
        threads: 2,
        batch_bytes: 64,
        ..SourceOptions::default()
    };
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let progress = Progress::new();
    read_all(&files, &opts, &progress, |_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::ops::ControlFlow::Break(())
    })
    .unwrap();
    // Each worker may have had a few units under way; nowhere near the 2,500 batches.
    assert!(seen.into_inner() < 50);
}

#[test]
fn strings_with_control_bytes_are_escaped_wherever_they_sit() {
    // Control bytes in the first block, in a later one and in the tail after the last whole
    // block of the quick look: each is escaped.
    for pad in [0, 1, 30, 31, 32, 33, 64, 100] {
        let filler = "x".repeat(pad);
        let text = format!("{{\"f\":\"{filler}\",\"a\":\"b\u{1}c\"}}");
        let record = Record {
            number: 1,
            data: RecordData::Json(&text),
        };
        let mut out = Vec::new();
        record.write_json(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(r#"{{"f":"{filler}","a":"b\u0001c"}}"#),
            "pad {pad}"
        );
    }
}

#[test]
fn write_json_validates_and_compacts() {
    let mut out = Vec::new();
    let record = |text| Record {
        number: 1,
        data: RecordData::Json(text),
    };
    record("{ \"a\" : [1, 2] ,\n \"b\": \"x y\\\" z\" }")
        .write_json(&mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        r#"{"a":[1,2],"b":"x y\" z"}"#
    );
    assert!(record("{\"a\":").write_json(&mut out).is_err());
    // Refused as `hunt` refuses it, with the same reason.
    assert_eq!(
        record("\"s\"").write_json(&mut out),
        Err("invalid JSON at byte 0: a JSON line must be an object, not a string".to_owned())
    );
    let deep = format!("{{\"a\":{}", "[".repeat(600));
    let refused = record(&deep).write_json(&mut out).unwrap_err();
    assert!(refused.ends_with(": nested too deeply"), "{refused}");
    // Accepted as `hunt` accepts it, and written as the engine reads it, in strict JSON: a
    // surrogate escape that is not half of a pair is U+FFFD, raw control characters in strings
    // are escaped; pairs and other escapes stay as written.
    out.clear();
    record(concat!(
        r#"{"a":"x\ud800","b":"tab"#,
        "\t",
        r#"here"#,
        "\u{1}",
        r#"", "c":"\udc00\ud83d\ude00\u0041\ud83d\"\\","d":"\ud83d\u00e9"}"#
    ))
    .write_json(&mut out)
    .unwrap();
    let written = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        written,
        r#"{"a":"x\ufffd","b":"tab\u0009here\u0001","c":"\ufffd\ud83d\ude00\u0041\ufffd\"\\","d":"\ufffd\u00e9"}"#
    );
    // Strict parsers take it.
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["c"], "\u{fffd}\u{1f600}A\u{fffd}\"\\");
    let text = Record {
        number: 1,
        data: RecordData::Text("say \"hi\"\t"),
    };
    out.clear();
    text.write_json(&mut out).unwrap();
    assert_eq!(out, br#"{"message":"say \"hi\"\t"}"#);
}

/// Each regression `.evtx` must read as the events of its `.json`, in order, with the same
/// structure, keys, numbers and strings. The `.json` files were rendered by an older `evtx`
/// release than the pinned 0.15.1, which differs in three ways the comparison allows for (and
/// counts): GUIDs in braces and lower case (`{54849625-...}` for `54849625-...`), timestamps
/// to 100 ns (7 digits) instead of 1 µs (a few files have 9 digits), and string values that
/// keep trailing blanks (a Sysmon `ParentCommandLine` ending in a space) instead of trimming
/// them. One `.json` was edited by hand ([`EDITED_REGRESSION_JSON`]).
#[test]
fn evtx_regression_files_match_their_json() {
    let Some(data) = testkit::data_root("source corpus test") else {
        return;
    };
    let root = data.join("regression_data");
    let found = discover(&[Input::Path(root)]).unwrap();
    let mut checked = 0;
    let mut allowed = [0usize; 3];
    for file in &found.files {
        let InputKind::Path { path, .. } = &file.kind else {
            continue;
        };
        if path.extension().is_none_or(|ext| ext != "evtx") {
            continue;
        }
        let read = read_with(file, &SourceOptions::default());
        assert_eq!(read.format, Some(Format::Evtx));
        assert!(losses(&read.skips).is_empty(), "{:?}", read.skips);
        let json_text = std::fs::read_to_string(path.with_extension("json")).unwrap();
        let expected: Vec<Value> = serde_json::Deserializer::from_str(&json_text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap();
        let got = read.values();
        assert_eq!(got.len(), expected.len(), "{}", path.display());
        for ((number, value), want) in got.iter().zip(&expected) {
            // These files were cut from bigger logs: the record headers count from 1 while
            // the XML keeps the original EventRecordID. Records are numbered by their header.
            assert!(*number >= 1 && *number <= expected.len() as u64);
            let mut value = value.clone();
            normalize_old_evtx_rendering(&mut value, &mut allowed);
            let mut want = want.clone();
            normalize_old_evtx_rendering(&mut want, &mut [0; 3]);
            for (case, pointer, ours, theirs) in EDITED_REGRESSION_JSON {
                if path.to_string_lossy().contains(case)
                    && want.pointer(pointer) == Some(&json!(theirs))
                    && let Some(field) = want.pointer_mut(pointer)
                {
                    *field = json!(ours);
                }
            }
            assert_eq!(value, want, "{}", path.display());
        }
        checked += 1;
    }
    assert_eq!(checked, 127);
    eprintln!(
        "regression EVTX vs JSON: {} GUIDs, {} timestamps, {} trailing blanks differ in rendering",
        allowed[0], allowed[1], allowed[2]
    );
}

/// Regression `.json` values that differ from their `.evtx` (edited by hand, it seems):
/// `(case folder, JSON pointer, value in the .evtx, value in the .json)`.
const EDITED_REGRESSION_JSON: &[(&str, &str, &str, &str)] = &[(
    "proc_creation_win_susp_right_to_left_override",
    "/Event/EventData/ParentCommandLine",
    "C:\\Windows\\Explorer.EXE",
    "C:\\Windows\\Explorer.exe",
)];

/// Brings string values to the older rendering: GUIDs upper case without braces, timestamps cut
/// to microseconds, trailing blanks trimmed. Counts what it changed.
fn normalize_old_evtx_rendering(value: &mut Value, changed: &mut [usize; 3]) {
    match value {
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| normalize_old_evtx_rendering(v, changed)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| normalize_old_evtx_rendering(v, changed)),
        Value::String(text) => {
            let bytes = text.as_bytes();
            let is_guid = bytes.len() == 38
                && bytes[0] == b'{'
                && bytes[37] == b'}'
                && [9, 14, 19, 24].iter().all(|&i| bytes[i] == b'-');
            // 2019-04-27T15:57:25.8688632Z; some files have nanoseconds.
            let is_time = bytes.len() > 27
                && bytes[10] == b'T'
                && bytes[19] == b'.'
                && bytes.ends_with(b"Z")
                && bytes[20..bytes.len() - 1].iter().all(u8::is_ascii_digit);
            if is_guid {
                *text = text[1..37].to_ascii_uppercase();
                changed[0] += 1;
            } else if is_time {
                *text = format!("{}Z", &text[..26]);
                changed[1] += 1;
            } else if text.trim_end().len() != text.len() {
                text.truncate(text.trim_end().len());
                changed[2] += 1;
            }
        }
        _ => {}
    }
}

/// The smallest shared EVTX file with at least `chunks` chunks.
fn evtx_with_chunks(data: &Path, chunks: u64) -> PathBuf {
    let found = discover(&[Input::Path(data.join("evtx-attack-samples"))]).unwrap();
    found
        .files
        .iter()
        .filter(|f| f.name.ends_with(".evtx"))
        .filter(|f| f.size.unwrap_or(0) >= 4096 + chunks * 65536)
        .min_by_key(|f| (f.size, f.name.clone()))
        .map(|f| match &f.kind {
            InputKind::Path { path, .. } => path.clone(),
            InputKind::Stdin | InputKind::Unreadable { .. } => unreachable!(),
        })
        .expect("a multi-chunk sample")
}

#[test]
fn a_corrupt_evtx_chunk_is_skipped_and_the_others_still_come_out() {
    let Some(data) = testkit::data_root("source corpus test") else {
        return;
    };
    let original_path = evtx_with_chunks(&data, 4);
    let original = std::fs::read(&original_path).unwrap();
    let progress = Progress::new();
    let opts = SourceOptions::default();
    let clean: Vec<Batch> =
        read_file(0, &InputFile::path(&original_path), &opts, &progress).collect();
    assert!(clean.len() >= 4);
    assert!(clean.iter().all(|b| losses(&b.skips).is_empty()));
    let records = |batches: &[Batch]| -> Vec<(u64, String)> {
        batches
            .iter()
            .flat_map(|b| b.records().map(|r| (r.number, r.text().to_owned())))
            .collect()
    };

    let chunk = |n: usize| 4096 + n * 65536;
    let mut corrupt = original.clone();
    // Chunk 1: its header magic is gone, so the whole chunk is reported.
    corrupt[chunk(1)..chunk(1) + 8].copy_from_slice(b"XXXXXXXX");
    // Chunk 2: bytes flipped in the middle of its records.
    for offset in (chunk(2) + 2000..chunk(2) + 60_000).step_by(997) {
        corrupt[offset] ^= 0x5a;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.evtx");
    std::fs::write(&path, &corrupt).unwrap();
    let progress = Progress::new();
    let damaged: Vec<Batch> = read_file(0, &InputFile::path(&path), &opts, &progress).collect();

    let skips: Vec<&Skip> = damaged.iter().flat_map(|b| &b.skips).collect();
    assert!(
        skips.iter().any(|s| s.location == Location::Chunk(1)),
        "{skips:?}"
    );
    let counted: u64 = skips.iter().map(|s| s.records).sum();
    assert_eq!(progress.snapshot().skipped, counted);
    assert_eq!(progress.snapshot().files_failed, 0);
    // Chunk 0 and chunks 3.. are untouched: their records come out exactly as before.
    let damaged_records = records(&damaged);
    let mut untouched = records(&clean[..1]);
    untouched.extend(records(&clean[3..]));
    for record in &untouched {
        assert!(damaged_records.contains(record), "record {} lost", record.0);
    }
    assert!(damaged_records.len() < records(&clean).len());
}

#[test]
fn evtx_through_gzip_reads_the_same() {
    let Some(data) = testkit::data_root("source corpus test") else {
        return;
    };
    let path = evtx_with_chunks(&data, 2);
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("log.evtx.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&path).unwrap())).unwrap();
    let plain = read_path(&path);
    let zipped = read_path(&gz);
    assert_eq!(zipped.format, Some(Format::Evtx));
    assert!(!plain.records.is_empty());
    assert_eq!(zipped.records, plain.records);
    // A bad checksum: the same records, and a note.
    std::fs::write(
        &gz,
        gzip_with_a_bad_checksum(&std::fs::read(&path).unwrap()),
    )
    .unwrap();
    let damaged = read_path(&gz);
    assert_eq!(damaged.records, plain.records);
    let mut notes = vec![(
        Location::File,
        "gzip member 1: its checksum does not match its content; read as it is (it may be \
         damaged)"
            .to_owned(),
    )];
    notes.extend(skip_reasons(&plain));
    assert_eq!(skip_reasons(&damaged), notes);
}

#[test]
fn lines_ended_by_lone_crs_are_lines() {
    // Found by fuzzing: keep/cr_only.log (200 lines ended by CR) was one text event.
    let dir = tempfile::tempdir().unwrap();
    let text: String = (1..=200).map(|i| format!("line {i}\r")).collect();
    let path = dir.path().join("cr.log");
    std::fs::write(&path, &text).unwrap();
    let read = read_path(&path);
    assert_eq!(read.format, Some(Format::Text));
    assert_eq!(read.records.len(), 200);
    assert_eq!(read.records[199], (200, "line 200".to_owned()));
    let json: String = (1..=3).map(|i| format!("{{\"n\":{i}}}\r")).collect();
    std::fs::write(&path, &json).unwrap();
    let read = read_path(&path);
    assert_eq!(read.format, Some(Format::JsonLines));
    assert_eq!(read.records[2], (3, "{\"n\":3}".to_owned()));
    // CRLF files are read as before.
    std::fs::write(&path, "a\r\n\r\nb\r\n").unwrap();
    let read = read_path(&path);
    assert_eq!(read.records, [(1, "a".to_owned()), (3, "b".to_owned())]);
}

#[test]
fn a_truncated_evtx_gzip_keeps_its_chunks_and_reports_the_cut() {
    // Found by fuzzing: keep/trunc_big.evtx.gz said 'cannot read: incomplete deflate stream'
    // and gave nothing, though the part that decompresses holds whole chunks.
    let Some(data) = testkit::data_root("source corpus test") else {
        return;
    };
    let path = evtx_with_chunks(&data, 3);
    let plain = read_path(&path);
    let compressed = gzip(&std::fs::read(&path).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("cut.evtx.gz");
    std::fs::write(&gz, &compressed[..compressed.len() * 7 / 10]).unwrap();
    for threads in [1, 2] {
        let progress = Progress::new();
        let files = [InputFile::path(&gz)];
        let opts = SourceOptions {
            threads,
            ..SourceOptions::default()
        };
        let batches = Mutex::new(Vec::new());
        read_all(&files, &opts, &progress, |batch| {
            batches.lock().unwrap().push(batch);
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        let mut batches = batches.into_inner().unwrap();
        batches.sort_by_key(|b| b.seq);
        assert!(batches.last().is_some_and(|b| b.last));
        assert_eq!(batches.iter().filter(|b| b.last).count(), 1);
        let records: Vec<(u64, String)> = batches
            .iter()
            .flat_map(|b| b.records().map(|r| (r.number, r.text().to_owned())))
            .collect();
        assert!(!records.is_empty());
        assert!(records.len() < plain.records.len());
        // What came out is what the whole file gives, from its start.
        assert_eq!(records[..], plain.records[..records.len()]);
        // The cut is reported last, the file is not counted as unreadable.
        let skip = batches.last().and_then(|b| b.skips.last()).unwrap();
        assert_eq!(skip.location, Location::File);
        assert!(
            skip.reason
                .starts_with("read error, rest of input skipped: "),
            "{skip}"
        );
        assert_eq!(progress.snapshot().files_failed, 0);
    }
    // Cut inside the file header: nothing to read, as before.
    std::fs::write(&gz, &compressed[..200]).unwrap();
    let read = read_path(&gz);
    assert!(read.records.is_empty());
    assert!(
        read.skips[0].reason.starts_with("cannot read: "),
        "{:?}",
        read.skips
    );
}

/// Whatever a file holds, reading it ends, without a panic, with every byte accounted for as
/// records or skips.
#[test]
fn arbitrary_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x1234_5678_9abc_def1_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let prefixes: [&[u8]; 6] = [b"", b"{", b"[", b"ElfFile\0", b"\x1f\x8b", b"\xEF\xBB\xBF["];
    let alphabet = b"{}[],:\" \n\r\\a1\xff\0";
    for round in 0..200 {
        let mut bytes = prefixes[round % prefixes.len()].to_vec();
        let len = (next() % 3000) as usize;
        bytes.extend((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]));
        if round % 7 == 0 {
            bytes = gzip(&bytes);
            bytes.truncate(bytes.len() - (next() % 10) as usize);
        }
        let path = dir.path().join(format!("f{round}"));
        std::fs::write(&path, &bytes).unwrap();
        let opts = SourceOptions {
            batch_bytes: 1 + (next() % 512) as usize,
            max_record_bytes: 1 + (next() % 256) as usize,
            ..SourceOptions::default()
        };
        let read = read_with(&InputFile::path(&path), &opts);
        for (_, text) in &read.records {
            assert!(!text.is_empty());
        }
    }
}

/// The records the `evtx` crate reads from an EVTX file.
fn crate_records(bytes: Vec<u8>) -> Vec<(u64, String)> {
    let mut parser = ::evtx::EvtxParser::from_buffer(bytes)
        .unwrap()
        .with_configuration(::evtx::ParserSettings::clone(&super::evtx::settings()));
    parser
        .records_json()
        .map(|r| r.map(|r| (r.event_record_id, r.data)))
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Chunks are walked as the `evtx` crate walks them (its record iterator is the reference):
/// the oldest chunk first and around, unused all-zero chunks passed over, the zeros of a
/// chunk cut off at the end ignored; and each record's text is what the crate renders for it.
/// (Where the walk differs, a chunk cut off inside its records, see below.)
#[test]
fn evtx_chunk_walk_and_text_match_the_crate() {
    let Some(data) = testkit::data_root("source corpus test") else {
        return;
    };
    let original = std::fs::read(evtx_with_chunks(&data, 3)).unwrap();
    let chunk = |n: usize| &original[4096 + n * 65536..4096 + (n + 1) * 65536];
    let chunks = (original.len() - 4096) / 65536;
    let header = &original[..4096];
    let mut variants: Vec<(&str, Vec<u8>)> = vec![("as is", original.clone())];
    // An unused chunk between chunks 0 and 1.
    let mut gap = header.to_vec();
    gap.extend_from_slice(chunk(0));
    gap.extend(std::iter::repeat_n(0u8, 65536));
    (1..chunks).for_each(|n| gap.extend_from_slice(chunk(n)));
    variants.push(("zero chunk", gap));
    // Chunk 0 (the oldest records) moved to the end: reading starts at it and wraps around.
    let mut wrapped = header.to_vec();
    (1..chunks).for_each(|n| wrapped.extend_from_slice(chunk(n)));
    wrapped.extend_from_slice(chunk(0));
    variants.push(("wrapped", wrapped));
    // Half a chunk of zeros after the last one (space never written).
    let mut zeros = original.clone();
    zeros.extend(std::iter::repeat_n(0u8, 30_000));
    variants.push(("zero tail", zeros));

    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in variants {
        let path = dir.path().join(format!("{}.evtx", name.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let ours = read_path(&path);
        assert!(losses(&ours.skips).is_empty(), "{name}: {:?}", ours.skips);
        let expected = crate_records(bytes);
        assert!(!expected.is_empty());
        assert_eq!(ours.records, expected, "{name}");
    }

    // The file cut 30,000 bytes into chunk 1: the crate stops before it; its records up to
    // the cut are read too, as the crate renders them in the whole chunk, and the rest
    // counted. (A cut copy of an earlier chunk would be passed over as a repeat.)
    let mut whole_0 = header.to_vec();
    whole_0.extend_from_slice(chunk(0));
    let mut cut = whole_0.clone();
    cut.extend_from_slice(&chunk(1)[..30_000]);
    let path = dir.path().join("cut-off.evtx");
    std::fs::write(&path, &cut).unwrap();
    let ours = read_path(&path);
    let before = crate_records(whole_0);
    let mut chunk_1 = header.to_vec();
    chunk_1.extend_from_slice(chunk(1));
    let chunk_1 = crate_records(chunk_1);
    let read = ours.records.len() - before.len();
    assert!(
        read > 0 && read < chunk_1.len(),
        "{read} of {}",
        chunk_1.len()
    );
    assert_eq!(ours.records[..before.len()], before[..]);
    assert_eq!(ours.records[before.len()..], chunk_1[..read]);
    assert_eq!(skip_locations(&ours.skips), [Location::Chunk(1)]);
    assert_eq!(
        ours.skipped,
        (chunk_1.len() - read) as u64,
        "{:?}",
        ours.skips
    );
}

/// Skips other than the notes on records in a chunk's slack (real logs often have some: see
/// `evtx_records_in_a_chunks_slack_are_reported`).
fn losses(skips: &[Skip]) -> Vec<&Skip> {
    skips
        .iter()
        .filter(|s| !(s.records == 0 && s.reason.ends_with("(slack); not read")))
        .collect()
}

/// Writes `bytes` as an EVTX file and reads it.
fn read_evtx(bytes: &[u8]) -> Read {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.evtx");
    std::fs::write(&path, bytes).unwrap();
    let read = read_path(&path);
    assert_eq!(read.format, Some(Format::Evtx));
    read
}

/// The EventRecordIDs of what was read.
fn record_ids(read: &Read) -> Vec<u64> {
    read.records.iter().map(|(n, _)| *n).collect()
}

/// Skips as `(location, reason)`.
fn skip_reasons(read: &Read) -> Vec<(Location, String)> {
    read.skips
        .iter()
        .map(|s| (s.location, s.reason.clone()))
        .collect()
}

#[test]
fn evtx_built_from_bytes_reads_whole() {
    let chunk = testkit::evtx::Chunk::new(1, 3, 10);
    let read = read_evtx(&testkit::evtx::file(&[chunk]));
    assert_eq!(
        read.records,
        (1..=3)
            .map(|id| (id, testkit::evtx::event_json(id, 10)))
            .collect::<Vec<_>>()
    );
    assert!(read.skips.is_empty());
}

/// A chunk that cannot be parsed at all counts the records its header lists, not 1; with an
/// implausible range it counts 1. Found by the EVTX fuzz sweep (`rec1_body_ff`,
/// `fz_v1_b_chdr`).
#[test]
fn evtx_a_skipped_chunk_counts_the_records_its_header_lists() {
    use testkit::evtx::{Chunk, chunk_field, file};
    let mut chunk = Chunk::new(1, 30, 400);
    chunk.break_string_table();
    let read = read_evtx(&file(&[chunk.clone(), Chunk::new(31, 5, 10)]));
    assert_eq!(record_ids(&read), (31..=35).collect::<Vec<_>>());
    assert_eq!(read.skips.len(), 1, "{:?}", read.skips);
    assert_eq!(read.skips[0].location, Location::Chunk(0));
    assert!(
        read.skips[0]
            .reason
            .starts_with("Failed to build string cache")
    );
    assert!(
        read.skips[0]
            .reason
            .ends_with("; chunk skipped (30 records)"),
        "{:?}",
        read.skips
    );
    assert_eq!(read.skipped, 30);

    // A reversed range says nothing about how many records there were.
    chunk.set_u64(chunk_field::FIRST_RECORD_ID, 40);
    let read = read_evtx(&file(&[chunk]));
    assert!(read.skips[0].reason.ends_with("; chunk skipped"));
    assert_eq!(read.skipped, 1);
}

/// A chunk header whose last record ID says less than the chunk holds (edited or damaged)
/// made the crate stop there, silently: the records after it are read, with a note. A header
/// whose records are damaged before its last one is left to the crate. Found by the third
/// fuzz check (`r10.evtx`, `x1.evtx`).
#[test]
fn evtx_records_past_the_headers_last_id_are_read() {
    use testkit::evtx::{Chunk, chunk_field, file};
    for last in [3, 1] {
        let mut chunk = Chunk::new(1, 5, 10);
        chunk.set_u64(chunk_field::LAST_RECORD_ID, last);
        let read = read_evtx(&file(&[chunk]));
        assert_eq!(
            record_ids(&read),
            (1..=5).collect::<Vec<_>>(),
            "last {last}"
        );
        assert_eq!(
            skip_reasons(&read),
            [(
                Location::Chunk(0),
                format!("the header's last record ID is {last}, its records run to 5; all read")
            )]
        );
        assert_eq!(read.skipped, 0);
    }
    // A header that is right: no note.
    let read = read_evtx(&file(&[Chunk::new(1, 5, 10)]));
    assert!(read.skips.is_empty(), "{:?}", read.skips);
}

/// A chunk copied twice into a file (carved or recovered logs) gives its events once, with a
/// note that counts nothing lost; a chunk listing the same records with other bytes is read.
/// Found by the second fuzz sweep (`dup_b_x2`, `dup_big_c0c1c0`).
#[test]
fn evtx_a_repeated_chunk_is_read_once() {
    use testkit::evtx::{Chunk, file};
    let first = Chunk::new(1, 5, 10);
    let read = read_evtx(&file(&[first.clone(), Chunk::new(6, 3, 10), first.clone()]));
    assert_eq!(record_ids(&read), (1..=8).collect::<Vec<_>>());
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Chunk(2),
            "the same bytes as chunk 0 (records 1-5); not read again".to_owned()
        )]
    );
    assert_eq!(read.skipped, 0);

    // A copy the file's end cuts (a carved image that stops short): its whole records are
    // the earlier chunk's too. Found by the third fuzz check.
    let mut bytes = file(&[first.clone(), Chunk::new(6, 3, 10), first.clone()]);
    let cut = bytes.len() - 65_536 + 30_000;
    bytes.truncate(cut);
    let read = read_evtx(&bytes);
    assert_eq!(record_ids(&read), (1..=8).collect::<Vec<_>>());
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Chunk(2),
            "truncated (30,000 of 65,536 bytes): the same bytes as the start of chunk 0 \
             (records 1-5); not read again"
                .to_owned()
        )]
    );
    assert_eq!(read.skipped, 0);

    // The same record range with other content: both are read.
    let other = Chunk::new(1, 5, 12);
    let read = read_evtx(&file(&[first, other]));
    assert_eq!(record_ids(&read), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    assert!(read.skips.is_empty(), "{:?}", read.skips);
}

/// A file header with a bit flipped in its magic does not lose the file when chunks follow
/// it: they are read, with a note that counts no record. Without a chunk after it, the file is
/// still refused. Found by the EVTX fuzz sweep (`filemagic_1bit`).
#[test]
fn evtx_a_damaged_file_header_is_read_from_its_chunks() {
    use testkit::evtx::{Chunk, FILE_HEADER_SIZE, file};
    let mut bytes = file(&[Chunk::new(1, 5, 10), Chunk::new(6, 2, 10)]);
    bytes[7] = 1;
    let read = read_evtx(&bytes);
    assert_eq!(record_ids(&read), (1..=7).collect::<Vec<_>>());
    assert_eq!(skip_locations(&read.skips), [Location::File]);
    let reason = &read.skips[0].reason;
    assert!(
        reason.starts_with("damaged file header (")
            && reason.contains("Invalid EVTX file header magic")
            && reason.ends_with("); read from its chunks"),
        "{reason}"
    );
    assert_eq!(read.skipped, 0);

    // No chunk magic after the header: not EVTX after all.
    bytes[FILE_HEADER_SIZE] = b'X';
    let read = read_evtx(&bytes);
    assert!(read.records.is_empty());
    assert!(
        read.skips[0]
            .reason
            .starts_with("not a readable EVTX file: "),
        "{:?}",
        read.skips
    );
}

/// Chunks start at 4096 + n × 65536 whatever the file header's block size says, so a larger
/// block size must not hide a chunk's errors. Found by the EVTX fuzz sweep
/// (`hbs_8192_gchunk`, `magic_garbage`).
#[test]
fn evtx_a_large_header_block_size_does_not_hide_a_bad_chunk() {
    use testkit::evtx::{CHUNK_SIZE, Chunk, FILE_HEADER_SIZE, HEADER_BLOCK_SIZE_FIELD, file};
    let mut bytes = file(&[Chunk::new(1, 5, 10)]);
    bytes[HEADER_BLOCK_SIZE_FIELD..HEADER_BLOCK_SIZE_FIELD + 2]
        .copy_from_slice(&8192u16.to_le_bytes());
    let read = read_evtx(&bytes);
    assert_eq!(record_ids(&read), (1..=5).collect::<Vec<_>>());

    bytes[FILE_HEADER_SIZE..FILE_HEADER_SIZE + CHUNK_SIZE].fill(0x5a);
    let read = read_evtx(&bytes);
    assert!(read.records.is_empty());
    assert_eq!(skip_locations(&read.skips), [Location::Chunk(0)]);
    assert!(
        read.skips[0]
            .reason
            .contains("Invalid EVTX chunk header magic"),
        "{:?}",
        read.skips
    );
    assert!(read.skips[0].reason.ends_with("; chunk skipped"));
}

/// A file cut inside a chunk (a copy stopped early, a log read while it was written): the
/// records the cut left whole are read, and the loss is reported with the records it counts.
/// Found by the EVTX fuzz sweep (`trunc_midrec`, `big_trunc_2ndchunk`).
#[test]
fn evtx_cut_inside_a_chunk_keeps_its_whole_records_and_counts_the_rest() {
    use testkit::evtx::{CHUNK_SIZE, Chunk, FILE_HEADER_SIZE, file};
    let first = Chunk::new(1, 20, 400);
    let second = Chunk::new(21, 40, 400);
    let whole = file(&[first, second.clone()]);
    // Cut in the middle of a record of the second chunk.
    let (cut_id, cut_start, cut_end) = second.records[25];
    let cut = (cut_start + cut_end) / 2;
    let read = read_evtx(&whole[..FILE_HEADER_SIZE + CHUNK_SIZE + cut]);
    assert_eq!(record_ids(&read), (1..cut_id).collect::<Vec<_>>());
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Chunk(1),
            format!(
                "truncated ({} of 65,536 bytes); 25 records read, 15 skipped",
                super::evtx::group_digits(cut)
            )
        )]
    );
    assert_eq!(read.skipped, 15);
    // The records before the cut are the untouched file's.
    let untouched = read_evtx(&whole);
    assert_eq!(read.records[..], untouched.records[..read.records.len()]);

    // Cut right after a record: that record is whole.
    let read = read_evtx(&whole[..FILE_HEADER_SIZE + CHUNK_SIZE + cut_end]);
    assert_eq!(read.records.len(), 20 + 26);
    assert_eq!(read.skipped, 14);

    // A one-chunk file cut inside its chunk header: nothing to read, the header's records lost.
    let one = file(&[Chunk::new(1, 40, 400)]);
    let read = read_evtx(&one[..FILE_HEADER_SIZE + 200]);
    assert!(read.records.is_empty());
    assert_eq!(read.skips.len(), 1, "{:?}", read.skips);
    assert_eq!(read.skips[0].location, Location::Chunk(0));
    assert!(
        read.skips[0]
            .reason
            .starts_with("truncated (200 of 65,536 bytes): "),
        "{:?}",
        read.skips
    );
    assert!(
        read.skips[0]
            .reason
            .ends_with("; chunk skipped (40 records)")
    );
    assert_eq!(read.skipped, 40);

    // A cut that leaves only zeros of the last chunk (space never written) loses nothing.
    let mut padded = one.clone();
    padded.extend(std::iter::repeat_n(0u8, 30_000));
    let read = read_evtx(&padded);
    assert_eq!(record_ids(&read), (1..=40).collect::<Vec<_>>());
    assert!(read.skips.is_empty(), "{:?}", read.skips);
}

/// A chunk whose header puts the free space too early hides the records after it; the
/// shortfall against the header's record range is reported and counted, as are records lost
/// past one the walk could not get over. A live log's header that lists fewer records than
/// the chunk holds, or more, with nothing but zeros after the records (the evtx crate's issue
/// #197), is not an error.
/// Found by the EVTX fuzz sweep (`chunk_freeoff_low`, `v179_big_chdr`).
#[test]
fn evtx_records_missing_from_a_chunk_header_range_are_reported() {
    use testkit::evtx::{Chunk, chunk_field, file};
    let mut chunk = Chunk::new(1, 30, 400);
    let free = chunk.records[11].1 as u32;
    chunk.set_u32(chunk_field::FREE_SPACE_OFFSET, free);
    let read = read_evtx(&file(&[chunk, Chunk::new(31, 5, 10)]));
    assert_eq!(
        record_ids(&read),
        (1..=11).chain(31..=35).collect::<Vec<_>>()
    );
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Chunk(0),
            "header lists records 1-30, 11 read; 19 records skipped".to_owned()
        )]
    );
    assert_eq!(read.skipped, 19);

    // Headers of a chunk holding records 1-30 that are no loss: one naming records 5-10 (all
    // 30 are read, with a note: see `evtx_records_past_the_headers_last_id_are_read`), one
    // naming records 1-40 with the free space past the 30 records there, zeros after them.
    let mut short = Chunk::new(1, 30, 400);
    short.set_u64(chunk_field::FIRST_RECORD_ID, 5);
    short.set_u64(chunk_field::LAST_RECORD_ID, 10);
    let read = read_evtx(&file(&[short]));
    assert_eq!(record_ids(&read), (1..=30).collect::<Vec<_>>());
    assert_eq!(read.skipped, 0, "{:?}", read.skips);
    let mut live = Chunk::new(1, 30, 400);
    live.set_u64(chunk_field::LAST_RECORD_ID, 40);
    live.set_u32(chunk_field::FREE_SPACE_OFFSET, 60_000);
    let read = read_evtx(&file(&[live]));
    assert_eq!(record_ids(&read), (1..=30).collect::<Vec<_>>());
    assert!(read.skips.is_empty(), "{:?}", read.skips);

    // Records 10-12 overwritten: the walk reports the first, finds record 13 and goes on; the
    // two behind the first are counted.
    let mut overwritten = Chunk::new(1, 30, 400);
    let (from, to) = (overwritten.records[9].1, overwritten.records[11].2);
    overwritten.bytes[from..to].fill(0x5a);
    let read = read_evtx(&file(&[overwritten]));
    assert_eq!(
        record_ids(&read),
        (1..=9).chain(13..=30).collect::<Vec<_>>()
    );
    let reasons = skip_reasons(&read);
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].1.starts_with("record at offset "), "{reasons:?}");
    assert_eq!(
        reasons[1],
        (
            Location::Chunk(0),
            "header lists records 1-30, 28 read; 2 records skipped".to_owned()
        )
    );
    assert_eq!(read.skipped, 3);
}

/// A record whose BinXML is empty renders as `{"Event":null}`, an event with nothing in it:
/// it is reported and skipped rather than handed to the rules. Found by the EVTX fuzz sweep
/// (`rec1_body_00`).
#[test]
fn evtx_a_record_without_content_is_skipped() {
    use testkit::evtx::{Chunk, file};
    let mut chunk = Chunk::new(1, 3, 10);
    let (_, start, end) = chunk.records[1];
    chunk.bytes[start + 24..end - 4].fill(0);
    let read = read_evtx(&file(&[chunk]));
    assert_eq!(record_ids(&read), [1, 3]);
    assert_eq!(
        skip_reasons(&read),
        [(Location::Record(2), "record has no content".to_owned())]
    );
    assert_eq!(read.skipped, 1);
}

/// Records after a chunk's used space (slack: an earlier life of the chunk, as in a filtered
/// export) were dropped without a word. They are not read (they are no part of the log), but
/// noted with their number. Found by the fifth review (`sysmon_1_exec_via_sql_xpcmdshell.evtx`:
/// 1 record read, 137 in slack).
#[test]
fn evtx_records_in_a_chunks_slack_are_reported() {
    use testkit::evtx::{Chunk, chunk_field, file};
    let mut chunk = Chunk::new(1, 5, 10);
    let (_, _, end) = chunk.records[1];
    let (_, start_2, _) = chunk.records[1];
    // The header says the chunk ends after record 2, and the records after it are of an
    // earlier log (IDs 1003-1005): slack.
    for (k, id) in [(2, 1003), (3, 1004), (4, 1005)] {
        let (_, at, _) = chunk.records[k];
        chunk.set_u64(at + 8, id);
    }
    chunk
        .set_u64(chunk_field::LAST_RECORD_ID, 2)
        .set_u32(chunk_field::LAST_RECORD_OFFSET, start_2 as u32)
        .set_u32(chunk_field::FREE_SPACE_OFFSET, end as u32);
    let read = read_evtx(&file(&[chunk]));
    assert_eq!(record_ids(&read), [1, 2]);
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Chunk(0),
            "3 records after the chunk's used space, left from before it was reused \
             (slack); not read"
                .to_owned()
        )]
    );
    assert_eq!(read.skipped, 0);

    // Records right after the used space whose IDs go on from its last are the log's: a
    // header not yet updated (a live copy). They are read, with a note (review of the change).
    let mut live = Chunk::new(1, 5, 10);
    let (_, _, end_2) = live.records[1];
    let (_, start_2, _) = live.records[1];
    live.set_u64(chunk_field::LAST_RECORD_ID, 2)
        .set_u32(chunk_field::LAST_RECORD_OFFSET, start_2 as u32)
        .set_u32(chunk_field::FREE_SPACE_OFFSET, end_2 as u32);
    let read = read_evtx(&file(&[live]));
    assert_eq!(record_ids(&read), [1, 2, 3, 4, 5]);
    assert_eq!(
        skip_reasons(&read),
        [(
            Location::Chunk(0),
            "records 3-5 follow the chunk's used space, their IDs going on from its last; all \
             read"
                .to_owned()
        )]
    );
    assert_eq!(read.skipped, 0);

    // Zeros after the used space are no records.
    let whole = read_evtx(&file(&[Chunk::new(1, 5, 10)]));
    assert_eq!(record_ids(&whole), [1, 2, 3, 4, 5]);
    assert!(whole.skips.is_empty(), "{:?}", whole.skips);
}
