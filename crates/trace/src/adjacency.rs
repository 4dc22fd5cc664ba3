//! Adjacency lists in compressed sparse row form (one offsets array and one array of edge ids), with a small
//! per-node overflow for edges added since the last compaction. Compaction folds the overflow back in.

use hashbrown::HashMap;

/// Edge ids per node, one direction.
#[derive(Debug, Default)]
pub struct Adjacency {
    /// `offsets[n]..offsets[n + 1]` indexes `targets` for node `n` (nodes past the end have no base edges).
    pub(crate) offsets: Vec<u32>,
    /// Edge ids, grouped by node, ascending within a node.
    pub(crate) targets: Vec<u32>,
    recent: HashMap<u32, Vec<u32>>,
    recent_len: usize,
}

impl Adjacency {
    /// The edge ids of `node`: compacted ones, then recent ones (both ascending).
    pub fn of(&self, node: u32) -> (&[u32], &[u32]) {
        let n = node as usize;
        let base = match (self.offsets.get(n), self.offsets.get(n + 1)) {
            (Some(&a), Some(&b)) => &self.targets[a as usize..b as usize],
            _ => &[],
        };
        let recent = self.recent.get(&node).map_or(&[][..], Vec::as_slice);
        (base, recent)
    }

    /// Adds edge `edge` to `node`'s list.
    pub fn push(&mut self, node: u32, edge: u32) {
        self.recent.entry(node).or_default().push(edge);
        self.recent_len += 1;
    }

    /// Edges not yet compacted.
    pub fn recent_len(&self) -> usize {
        self.recent_len
    }

    /// Edges in the compacted part.
    pub fn compacted_len(&self) -> usize {
        self.targets.len()
    }

    /// Folds the recent edges into the compact arrays, for `nodes` nodes.
    pub fn compact(&mut self, nodes: usize) {
        if self.recent_len == 0 && self.offsets.len() == nodes + 1 {
            return;
        }
        let mut offsets = Vec::with_capacity(nodes + 1);
        let mut total = 0u32;
        offsets.push(0);
        for n in 0..nodes {
            let (base, recent) = self.of(n as u32);
            total += (base.len() + recent.len()) as u32;
            offsets.push(total);
        }
        let mut targets = Vec::with_capacity(total as usize);
        for n in 0..nodes {
            let (base, recent) = self.of(n as u32);
            targets.extend_from_slice(base);
            targets.extend_from_slice(recent);
        }
        self.offsets = offsets;
        self.targets = targets;
        self.recent = HashMap::new();
        self.recent_len = 0;
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4
            + self.targets.capacity() * 4
            + self.recent.capacity() * (4 + 24 + 1)
            + self
                .recent
                .values()
                .map(|v| v.capacity() * 4)
                .sum::<usize>()
    }

    /// Builds from loaded arrays (checked by the caller).
    pub(crate) fn from_parts(offsets: Vec<u32>, targets: Vec<u32>) -> Self {
        Self {
            offsets,
            targets,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_compaction() {
        let mut a = Adjacency::default();
        a.push(2, 0);
        a.push(0, 1);
        a.push(2, 2);
        assert_eq!(a.of(2), (&[][..], &[0, 2][..]));
        a.compact(3);
        assert_eq!(a.of(2), (&[0, 2][..], &[][..]));
        assert_eq!(a.of(1), (&[][..], &[][..]));
        a.push(2, 3);
        a.push(4, 4);
        assert_eq!(a.of(2), (&[0, 2][..], &[3][..]));
        a.compact(5);
        assert_eq!(a.of(2), (&[0, 2, 3][..], &[][..]));
        assert_eq!(a.of(4), (&[4][..], &[][..]));
        assert_eq!(a.of(0), (&[1][..], &[][..]));
        assert_eq!(a.of(9), (&[][..], &[][..]));
    }
}
