//! Compiled matchers, log-source routing and correlation.

pub mod correlation;
