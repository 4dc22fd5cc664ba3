//! Reading the inventory's largest collections back from a snapshot with room made for all of them at once:
//! serde makes room for 1 MiB at most, and a map of millions of units then grows and rehashes a dozen times.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;

/// The most entries a collection is made room for before it is read (a length is taken from a checksummed
/// file, but even so a wrong one must not reserve unbounded memory).
pub(super) const MOST_RESERVED: usize = 1 << 24;

/// Reads a map with room made for all of it at once, for the inventory's largest maps (millions of units).
pub(super) fn map<'de, D, K, V>(d: D) -> Result<HashMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    struct Sized<K, V>(PhantomData<(K, V)>);
    impl<'de, K, V> Visitor<'de> for Sized<K, V>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
    {
        type Value = HashMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = HashMap::with_capacity(map.size_hint().unwrap_or(0).min(MOST_RESERVED));
            while let Some((k, v)) = map.next_entry()? {
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Sized(PhantomData))
}
