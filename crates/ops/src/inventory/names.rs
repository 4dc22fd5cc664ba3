//! Interned texts of the inventory: each text is kept once, in a list whose index is its id, with a hash
//! table of ids to find it (the table holds ids, not a second copy of the text). A snapshot saves the list
//! alone; loading rebuilds the table.

use hashbrown::HashTable;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::hash::BuildHasher;

use super::sized::MOST_RESERVED;

/// An interned text.
pub(super) type Id = u32;

/// Texts by id (id 0 is the empty text, `NONE`).
#[derive(Debug, Default, Clone)]
pub(super) struct Names {
    list: Vec<Box<str>>,
    table: HashTable<Id>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl PartialEq for Names {
    /// Equal when they hold the same texts under the same ids (the table follows from the list).
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl From<Vec<Box<str>>> for Names {
    fn from(list: Vec<Box<str>>) -> Self {
        let mut n = Names {
            list,
            ..Names::default()
        };
        n.table.reserve(n.list.len(), |_| 0);
        for i in 1..n.list.len() {
            let hash = n.hasher.hash_one(&*n.list[i]);
            let (list, hasher) = (&n.list, &n.hasher);
            n.table
                .insert_unique(hash, i as Id, |&j| hasher.hash_one(&*list[j as usize]));
        }
        n
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Reads the list with room made for all of it at once (serde makes room for 1 MiB at most, and a
        /// list of millions then grows and is copied a dozen times).
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Vec<Box<str>>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MOST_RESERVED));
                while let Some(s) = seq.next_element()? {
                    list.push(s);
                }
                Ok(list)
            }
        }
        d.deserialize_seq(List).map(Names::from)
    }
}

impl Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(s)
    }
}

impl Names {
    /// The id of `s`, interning it when new.
    pub(super) fn id(&mut self, s: &str) -> Id {
        if let Some(i) = self.get(s) {
            return i;
        }
        if self.list.is_empty() {
            self.list.push("".into());
        }
        let i = self.list.len() as Id;
        self.list.push(s.into());
        let hash = self.hasher.hash_one(s);
        let (list, hasher) = (&self.list, &self.hasher);
        self.table
            .insert_unique(hash, i, |&j| hasher.hash_one(&*list[j as usize]));
        i
    }

    /// The id of `s`, if interned.
    pub(super) fn get(&self, s: &str) -> Option<Id> {
        let hash = self.hasher.hash_one(s);
        self.table
            .find(hash, |&j| &*self.list[j as usize] == s)
            .copied()
    }

    /// The text of an id (`""` for an unknown one).
    pub(super) fn text(&self, i: Id) -> &str {
        self.list.get(i as usize).map_or("", |s| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_from_their_list_find_the_same_ids() {
        let mut n = Names::default();
        let a = n.id("urn:a");
        let b = n.id("https://id.gs1.org/01/06920001000011/21/S1");
        assert_eq!(n.id("urn:a"), a, "interned once");
        let list: Vec<Box<str>> = n.list.clone();
        let back = Names::from(list);
        assert_eq!(back.get("urn:a"), Some(a));
        assert_eq!(
            back.get("https://id.gs1.org/01/06920001000011/21/S1"),
            Some(b)
        );
        assert_eq!(back.get("urn:c"), None);
        assert_eq!(back.text(b), "https://id.gs1.org/01/06920001000011/21/S1");
        assert_eq!(back, n);
    }
}
