//! The in-process Sigma engine: compiled matchers over an [`Event`] trait.
//!
//! Stages: resolved rules ([`sigma::pipeline::ResolvedRule`]) → [`compile`] (shared items,
//! condition trees, matchers in [`matcher`]) → [`route`] (log-source routing on necessary
//! equalities) and [`prefilter`] (necessary literals, one Aho-Corasick per field) → evaluation
//! per event ([`Engine::matches`]). [`naive`] is the slow reference every optimisation is
//! tested against; [`explain`] says why a rule did or did not match an event.
//!
//! The meaning of every comparison is defined once, in [`semantics`] and [`naive`]. Events come
//! as [`serde_json::Value`] (EVTX records, JSON), [`event::EsHit`] (Elasticsearch hits) or
//! [`jsonline::LineEvent`] (JSON lines decoded lazily, only the fields the rules read).
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
pub mod prefilter;
pub mod route;
pub mod semantics;

pub use compile::{CompileError, CompileErrorKind};
pub use engine::{Engine, Match, Matches, Scratch};
pub use event::{EsHit, Event, FieldPath, Scalar};
pub use explain::Explanation;
pub use jsonline::{JsonError, LineEvent, LineScanner, ScanPlan};
