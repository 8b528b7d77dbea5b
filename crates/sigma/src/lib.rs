//! Sigma language: rule model, loader, conditions, modifiers, pipelines.
//!
//! Stages, in the order data flows: [`yaml`] (text → nodes with spans) → [`loader`] (nodes →
//! [`rule::Rule`] with [`diagnostic::Diagnostic`]s; modifiers in [`modifier`], values in
//! [`value`], conditions in [`condition`]) → pipelines (rules → resolved rules).

pub mod condition;
pub mod diagnostic;
pub mod fields;
pub mod filter;
pub mod hash;
pub mod loader;
pub mod modifier;
pub mod pipeline;
pub mod regex_ascii;
pub mod rule;
pub mod ruleset;
pub mod span;
pub mod value;
pub mod yaml;

pub use diagnostic::{Diagnostic, Severity};
pub use loader::{LoadedFile, load_str};
pub use rule::{Rule, RuleBody};
pub use span::{Pos, Span};
