//! Node names, stored compactly: each key is split at its last `/` or `:` into a shared prefix (interned once:
//! `https://id.gs1.org/01/06901234567892/21/`) and a suffix kept in one byte arena, with a hash table from
//! (prefix, suffix) to the node id. A can's name costs its serial's bytes plus about 20 bytes of bookkeeping.

use hashbrown::{HashMap, HashTable};
use std::hash::BuildHasher;

/// Interned node names.
#[derive(Debug, Default)]
pub struct Names {
    /// Prefix strings, by prefix id.
    pub(crate) prefixes: Vec<Box<str>>,
    prefix_ids: HashMap<Box<str>, u32>,
    /// Prefix id of every node.
    pub(crate) node_prefix: Vec<u32>,
    /// End offset of every node's suffix in `suffixes` (the start is the previous node's end).
    pub(crate) suffix_end: Vec<u64>,
    /// All suffixes, concatenated.
    pub(crate) suffixes: Vec<u8>,
    table: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

/// Splits a key into (prefix, suffix) after its last `/` or `:`.
fn split(key: &str) -> (&str, &str) {
    let at = key.rfind(['/', ':']).map_or(0, |i| i + 1);
    key.split_at(at)
}

impl Names {
    /// Number of names.
    pub fn len(&self) -> usize {
        self.node_prefix.len()
    }

    fn suffix(&self, node: u32) -> &[u8] {
        let i = node as usize;
        let end = self.suffix_end[i] as usize;
        let start = if i == 0 {
            0
        } else {
            self.suffix_end[i - 1] as usize
        };
        &self.suffixes[start..end]
    }

    fn hash_of(&self, prefix: u32, suffix: &[u8]) -> u64 {
        self.hasher.hash_one((prefix, suffix))
    }

    /// The node id of a key, if interned.
    pub fn get(&self, key: &str) -> Option<u32> {
        let (p, s) = split(key);
        let prefix = *self.prefix_ids.get(p)?;
        let hash = self.hash_of(prefix, s.as_bytes());
        self.table
            .find(hash, |&n| {
                self.node_prefix[n as usize] == prefix && self.suffix(n) == s.as_bytes()
            })
            .copied()
    }

    /// The node id of a key, interning it when new.
    pub fn intern(&mut self, key: &str) -> u32 {
        let (p, s) = split(key);
        let prefix = match self.prefix_ids.get(p) {
            Some(id) => *id,
            None => {
                let id = self.prefixes.len() as u32;
                self.prefixes.push(p.into());
                self.prefix_ids.insert(p.into(), id);
                id
            }
        };
        let hash = self.hash_of(prefix, s.as_bytes());
        if let Some(&n) = self.table.find(hash, |&n| {
            self.node_prefix[n as usize] == prefix && self.suffix(n) == s.as_bytes()
        }) {
            return n;
        }
        let node = self.node_prefix.len() as u32;
        self.node_prefix.push(prefix);
        self.suffixes.extend_from_slice(s.as_bytes());
        self.suffix_end.push(self.suffixes.len() as u64);
        let (prefix_of, suffix_end, suffixes, hasher) = (
            &self.node_prefix,
            &self.suffix_end,
            &self.suffixes,
            &self.hasher,
        );
        self.table.insert_unique(hash, node, |&n| {
            let i = n as usize;
            let start = if i == 0 {
                0
            } else {
                suffix_end[i - 1] as usize
            };
            hasher.hash_one((prefix_of[i], &suffixes[start..suffix_end[i] as usize]))
        });
        node
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.node_prefix.shrink_to_fit();
        self.suffix_end.shrink_to_fit();
        self.suffixes.shrink_to_fit();
    }

    /// Appends the name of `node` to `out`.
    pub fn write(&self, node: u32, out: &mut String) {
        let Some(&prefix) = self.node_prefix.get(node as usize) else {
            return;
        };
        out.push_str(&self.prefixes[prefix as usize]);
        // Suffixes are copied from `&str` keys split at an ASCII character, so they are valid UTF-8.
        out.push_str(&String::from_utf8_lossy(self.suffix(node)));
    }

    /// Names from loaded arrays (checked by the caller); [`Names::rebuild_lookup`] makes them searchable.
    pub(crate) fn from_parts(
        prefixes: Vec<Box<str>>,
        node_prefix: Vec<u32>,
        suffix_end: Vec<u64>,
        suffixes: Vec<u8>,
    ) -> Self {
        Self {
            prefixes,
            node_prefix,
            suffix_end,
            suffixes,
            ..Self::default()
        }
    }

    /// Rebuilds the lookup structures after the arrays were loaded from a snapshot; false when two nodes
    /// have the same name (a damaged snapshot).
    pub(crate) fn rebuild_lookup(&mut self) -> bool {
        self.prefix_ids = self
            .prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as u32))
            .collect();
        let mut table = HashTable::with_capacity(self.node_prefix.len());
        let mut start = 0usize;
        let mut unique = true;
        for (i, (&prefix, &end)) in self.node_prefix.iter().zip(&self.suffix_end).enumerate() {
            let end = end as usize;
            let suffix = &self.suffixes[start..end];
            let hash = self.hasher.hash_one((prefix, suffix));
            let entry = table.entry(
                hash,
                |&n: &u32| self.node_prefix[n as usize] == prefix && self.suffix(n) == suffix,
                |&n: &u32| {
                    self.hasher
                        .hash_one((self.node_prefix[n as usize], self.suffix(n)))
                },
            );
            match entry {
                hashbrown::hash_table::Entry::Occupied(_) => unique = false,
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(i as u32);
                }
            }
            start = end;
        }
        self.table = table;
        unique
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        let prefixes: usize = self.prefixes.iter().map(|p| 2 * p.len() + 16 + 24).sum();
        prefixes
            + self.node_prefix.capacity() * 4
            + self.suffix_end.capacity() * 8
            + self.suffixes.capacity()
            + self.table.capacity() * 4
            + self.table.capacity() // control bytes
            + self.prefix_ids.capacity() * 21
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_gives_names_back() {
        let mut n = Names::default();
        let keys = [
            "https://id.gs1.org/01/06901234567892/21/1",
            "https://id.gs1.org/01/06901234567892/21/2",
            "https://id.gs1.org/00/069012345000000017",
            "transformation:urn:uuid:1234",
            "plain",
            "",
            "https://example.com/路径/批次",
        ];
        let ids: Vec<u32> = keys.iter().map(|k| n.intern(k)).collect();
        assert_eq!(ids, (0..keys.len() as u32).collect::<Vec<_>>());
        for (k, id) in keys.iter().zip(&ids) {
            assert_eq!(n.intern(k), *id);
            assert_eq!(n.get(k), Some(*id));
            let mut s = String::new();
            n.write(*id, &mut s);
            assert_eq!(&s, k);
        }
        assert_eq!(n.get("https://id.gs1.org/01/06901234567892/21/3"), None);
        assert_eq!(n.get("https://nowhere/1"), None);
        assert!(n.rebuild_lookup());
        for (k, id) in keys.iter().zip(&ids) {
            assert_eq!(n.get(k), Some(*id));
        }
    }
}
