//! Explanations.
/// Placeholder.
pub struct Explanation;
