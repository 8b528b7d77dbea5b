//! Sigma language: rule model, loader, conditions, modifiers, pipelines.

pub mod span;
pub mod yaml;

pub use span::{Pos, Span};
