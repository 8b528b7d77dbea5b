//! Any text given to the rule loader gives rules or diagnostics, never a panic; and every
//! diagnostic has a position inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let loaded = sigma::load_str(text, "fuzz.yml");
        let lines = sigma::diagnostic::yaml_lines(text).count().max(1) as u32 + 1;
        for d in &loaded.diagnostics {
            assert!(d.span.start.line >= 1 && d.span.start.line <= lines, "{d:?}");
            let _ = d.render("fuzz.yml", text);
        }
        let set = sigma::ruleset::RuleSet::new(loaded.rules);
        let _ = set.check();
    }
});
