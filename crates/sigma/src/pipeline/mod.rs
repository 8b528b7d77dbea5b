//! Pipelines: the one mapping model between Sigma's taxonomy and a site's data, shared by the
//! query backends and the in-process engine.
//!
//! Applying pipelines to a [`Rule`](crate::rule::Rule) gives a [`ResolvedRule`]: one
//! [`Variant`] per log source the rule maps to, each with the site's field names, the extra
//! conditions that select that log source's events, the index patterns to query, and a record
//! of which pipeline item made each change.

mod resolved;

pub use resolved::{Change, FieldMapper, ResolvedRule, Variant, resolve_identity};
