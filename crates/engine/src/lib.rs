//! Compiled matchers, log-source routing and correlation.
