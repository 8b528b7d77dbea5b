//! The condition parser never panics, and whatever it parses prints back to text that parses
//! to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = sigma::condition::parse(text) {
            let printed = c.to_string();
            let again = sigma::condition::parse(&printed)
                .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?} fails: {e:?}"));
            assert!(c.same(&again), "{text:?} -> {printed:?}");
        }
    }
});
