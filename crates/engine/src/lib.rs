//! The in-process Sigma engine: compiled matchers over an [`Event`] trait.
//!
//! # Use
//!
//! 1. Resolve the rules with a pipeline (`sigma::pipeline::Chain::apply`, e.g. the built-in
//!    `evtx` one) and give every [`ResolvedRule`](sigma::pipeline::ResolvedRule) to
//!    [`Engine::compile`]. Indices into that vector name the rules from then on
//!    ([`Match::rule`], [`Engine::rules`]). Rules the pipeline marked not applicable
//!    (`ResolvedRule::skipped`) are not compiled and are listed with their reason by
//!    [`Engine::skipped`]; rules that cannot be compiled (unexpanded placeholder, regex too
//!    large, ...) by [`Engine::errors`]. Either way the other rules work.
//! 2. The [`Engine`] is `Send + Sync`: share it (`&Engine`, `Arc<Engine>`) between threads and
//!    give each thread its own [`Worker`] ([`Engine::worker`]).
//! 3. Per event: [`Worker::match_json`] for JSON text (a JSON line, or an EVTX record rendered
//!    as JSON: the hot path, fields decoded lazily), [`Worker::match_value`] for a
//!    [`serde_json::Value`], [`Worker::match_event`] for any [`Event`]. Each returns the
//!    matches as a slice borrowed from the worker, in rule order, one per rule; an event that
//!    matches nothing allocates nothing. A [`Match`] with `needs_correlation` is a hit of a
//!    rule with a legacy aggregation (`| count() by ...`, `near`), for [`correlation`], not a
//!    detection by itself.
//! 4. Why a rule did or did not match: [`Engine::explain`] (or [`Worker::explain_json`]) gives
//!    an [`Explanation`], structured and `Display`able.
//!
//! ```
//! use sigma::pipeline::{Chain, builtin};
//!
//! let yaml = "title: cmd\nid: 2ff1c5f8-0a8e-4bd0-9f44-3b2e8e5c4a11\n\
//!             logsource: {product: windows, category: process_creation}\n\
//!             detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n";
//! let rule = sigma::load_str(yaml, "cmd.yml").rules.remove(0);
//! let evtx = builtin::get("evtx").expect("a built-in").expect("it loads");
//! let chain = Chain::new(vec![evtx]).expect("a chain");
//! let engine = engine::Engine::compile(vec![chain.apply(&rule).expect("resolves")]);
//! assert!(engine.errors().is_empty() && engine.skipped().next().is_none());
//!
//! let mut worker = engine.worker();
//! let record = br#"{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},
//!                  "EventData":{"Image":"C:\\Windows\\System32\\CMD.EXE"}}}"#;
//! let hits = worker.match_json(record).expect("valid JSON");
//! assert_eq!(hits.len(), 1);
//! assert_eq!(engine.rules()[hits[0].rule].rule.id(), Some("2ff1c5f8-0a8e-4bd0-9f44-3b2e8e5c4a11"));
//! let other = serde_json::json!({"Event": {"System": {"EventID": 1}}});
//! assert!(worker.match_value(&other).is_empty());
//! println!("{}", engine.explain(0, &other));
//! ```
//!
//! # Inside
//!
//! Stages: resolved rules → [`compile`] (shared items,
//! condition trees, matchers in [`matcher`]) → [`route`] (log-source routing on necessary
//! equalities) and [`prefilter`] (necessary literals, one Aho-Corasick per field) → evaluation
//! per event ([`Engine::matches`]). [`naive`] is the slow reference every optimisation is
//! tested against; [`explain`] says why a rule did or did not match an event.
//!
//! The meaning of every comparison is defined once, in [`semantics`] and [`naive`]. Events come
//! as [`serde_json::Value`] (EVTX records, JSON), [`event::EsHit`] (Elasticsearch hits) or
//! [`jsonline::LineEvent`] (JSON lines decoded lazily, only the fields the rules read).
//! Regular expressions are Rust `regex` with ASCII `\d \w \s \b` (PCRE's reading).
//!
//! [`correlation`] (event counts, value counts, temporal rules over the matches) sits on top.
//!
//! No file or network I/O happens here.

pub mod compile;
pub mod correlation;
mod engine;
pub mod event;
pub mod explain;
pub mod jsonline;
pub mod matcher;
pub mod naive;
pub mod par;
pub mod prefilter;
pub mod route;
pub mod semantics;

pub use compile::{CompileError, CompileErrorKind};
pub use engine::{Engine, Match, Matches, Scratch, Worker};
pub use event::{EsHit, Event, FieldPath, Scalar};
pub use explain::{Explainer, Explanation};
pub use jsonline::{JsonError, LineEvent, LineScanner, ScanPlan};

/// The engine is shared between worker threads; workers move to their thread.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<Engine>();
    send::<Worker<'static>>();
};
