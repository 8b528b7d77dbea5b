//! Query backends for the Elasticsearch family.
