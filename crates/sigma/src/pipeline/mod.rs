//! Pipelines: the one mapping model between Sigma's taxonomy and a site's data, shared by the
//! query backends and the in-process engine.
//!
//! Applying pipelines to a [`Rule`](crate::rule::Rule) gives a [`ResolvedRule`]: one
//! [`Variant`] per log source the rule maps to, each with the site's field names, the extra
//! conditions that select that log source's events, the index patterns to query, and a record
//! of which pipeline item made each change.
//!
//! - [`model`]: the data model every reader produces ([`Pipeline`], [`Item`], [`Action`]).
//! - Readers: [`native`] (our format, also what `show` prints), [`sigmac`] (legacy configs),
//!   [`pysigma`] (processing pipelines); [`builtin`] pipelines are written in our format.
//! - [`Chain`] applies pipelines in order ([`apply`]).
//! - [`render`]: a stable text form of resolved rules (`sigwatch resolve`, snapshot tests).
//!
//! Field paths for nested JSON are dotted (`Event.EventData.Image`).

mod apply;
pub mod builtin;
mod error;
pub mod model;
pub mod native;
pub mod pysigma;
mod read;
pub mod render;
mod resolved;
pub mod sigmac;

pub use apply::Chain;
pub use error::{ApplyError, PipelineError};
pub use model::{Action, Format, Item, Pipeline, Unmapped};
pub use resolved::{
    Change, FieldMapper, IntoSharedRule, NameStep, NotApplicable, ResolvedRule, Variant,
    resolve_identity,
};

/// Read a pipeline file, recognising its format: pySigma (`transformations`), ours (`items`)
/// or sigmac (`fieldmappings`, `logsources`, ...).
pub fn read(path: &str, text: &str) -> Result<Pipeline, PipelineError> {
    match detect(text) {
        Some(Format::PySigma) => pysigma::read(path, text),
        Some(Format::Native) => native::read(path, text),
        Some(Format::Sigmac) => sigmac::read(path, text),
        None => {
            // Report YAML problems first; else say what was expected.
            let mut r = read::Reader::new(path, text);
            if let Some(doc) = r.document() {
                r.error(
                    "pipeline-format",
                    &doc,
                    "not a pipeline: expected a sigwatch pipeline ('items'), a pySigma \
                     pipeline ('transformations') or a sigmac configuration ('fieldmappings', \
                     'logsources', 'defaultindex')",
                );
            }
            Err(r
                .finish(())
                .err()
                .unwrap_or_else(|| PipelineError::plain(path, "not a pipeline")))
        }
    }
}

/// Which format a pipeline text is in, from its top-level keys.
pub fn detect(text: &str) -> Option<Format> {
    let docs = crate::yaml::parse(text);
    let doc = docs.docs.into_iter().find(|d| !d.is_null())?;
    let keys: Vec<&str> = doc
        .as_map()?
        .iter()
        .filter_map(|(k, _)| k.scalar_text())
        .collect();
    let has = |k: &str| keys.contains(&k);
    if has("transformations") || has("postprocessing") || has("finalizers") {
        Some(Format::PySigma)
    } else if has("items") {
        Some(Format::Native)
    } else if has("fieldmappings")
        || has("logsources")
        || has("defaultindex")
        || has("backends")
        || has("order")
    {
        Some(Format::Sigmac)
    } else if has("vars") || has("priority") {
        Some(Format::PySigma)
    } else {
        None
    }
}
