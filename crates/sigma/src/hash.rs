//! Hash maps for what rules and pipelines are made of (field names, literals, ids), filled
//! while rules are loaded, resolved and compiled.
//!
//! Their keys come from the rules the user chose, not from the events a rule runs on, so a
//! fast fixed-seed hash serves instead of the standard library's keyed SipHash, which was a
//! twentieth of a hunt's start-up. A fixed seed also gives the same iteration order in every
//! run.

use std::collections::{HashMap, HashSet};

/// The hasher of [`FastMap`] and [`FastSet`].
pub type FastState = foldhash::fast::FixedState;

/// A `HashMap` with [`FastState`]; make one with `FastMap::default()` or
/// `FastMap::with_capacity_and_hasher(n, FastState::default())`.
pub type FastMap<K, V> = HashMap<K, V, FastState>;

/// A `HashSet` with [`FastState`].
pub type FastSet<K> = HashSet<K, FastState>;
