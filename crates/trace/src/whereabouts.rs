//! Where every object is now, kept beside the genealogy so a recall of 100,000 units needs no store reads:
//! per node its last event, location, disposition, container and holding party (the same projection the
//! store keeps, from the same [`suyuan_core::projection::projection_ops`]), and the events that handed it to
//! a party (its shipments).

use hashbrown::HashMap;

/// No value.
pub(crate) const NONE: u32 = u32::MAX;

/// A small interner for values that repeat (locations, parties, dispositions).
#[derive(Debug, Default)]
pub(crate) struct Values {
    pub(crate) list: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Values {
    pub(crate) fn intern(&mut self, v: &str) -> u32 {
        if let Some(id) = self.ids.get(v) {
            return *id;
        }
        let id = self.list.len() as u32;
        self.list.push(v.into());
        self.ids.insert(v.into(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> Option<&str> {
        self.list.get(id as usize).map(|s| &**s)
    }

    pub(crate) fn from_list(list: Vec<Box<str>>) -> Self {
        let ids = list
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        Self { list, ids }
    }

    fn heap_bytes(&self) -> usize {
        self.list
            .iter()
            .map(|v| 2 * v.len() + 16 + 24)
            .sum::<usize>()
            + self.ids.capacity() * 21
    }
}

/// The current state of every node, in arrays indexed by node id.
#[derive(Debug, Default)]
pub(crate) struct States {
    pub(crate) values: Values,
    pub(crate) last_seq: Vec<u64>,
    pub(crate) location: Vec<u32>,
    pub(crate) disposition: Vec<u32>,
    pub(crate) party: Vec<u32>,
    pub(crate) container: Vec<u32>,
    /// Seqs of the events that handed a node to a party, oldest first.
    pub(crate) handovers: HashMap<u32, Vec<u64>>,
}

impl States {
    /// Makes room for `nodes` nodes.
    pub(crate) fn grow(&mut self, nodes: usize) {
        if self.last_seq.len() < nodes {
            self.last_seq.resize(nodes, 0);
            self.location.resize(nodes, NONE);
            self.disposition.resize(nodes, NONE);
            self.party.resize(nodes, NONE);
            self.container.resize(nodes, NONE);
        }
    }

    /// Records an event at `seq` naming `node`, with the values it sets.
    pub(crate) fn touch(
        &mut self,
        node: u32,
        seq: u64,
        location: Option<&str>,
        disposition: Option<&str>,
        party: Option<&str>,
    ) {
        let i = node as usize;
        self.last_seq[i] = seq;
        if let Some(l) = location {
            self.location[i] = self.values.intern(l);
        }
        if let Some(d) = disposition {
            self.disposition[i] = self.values.intern(d);
        }
        if let Some(p) = party {
            self.party[i] = self.values.intern(p);
            self.handovers.entry(node).or_default().push(seq);
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.last_seq.shrink_to_fit();
        self.location.shrink_to_fit();
        self.disposition.shrink_to_fit();
        self.party.shrink_to_fit();
        self.container.shrink_to_fit();
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.values.heap_bytes()
            + self.last_seq.capacity() * 8
            + (self.location.capacity()
                + self.disposition.capacity()
                + self.party.capacity()
                + self.container.capacity())
                * 4
            + self.handovers.capacity() * (4 + 24 + 1)
            + self
                .handovers
                .values()
                .map(|v| v.capacity() * 8)
                .sum::<usize>()
    }
}

/// Where one object is now, as the store's projection would say.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Whereabouts {
    /// Seq of its last event (0 if no event named it directly).
    pub last_seq: u64,
    /// Its own last business location.
    pub location: Option<String>,
    /// Its last disposition.
    pub disposition: Option<String>,
    /// The container it is in now.
    pub container: Option<NodeIdName>,
    /// The party it was last handed to.
    pub party: Option<String>,
    /// The events that handed it to a party, oldest first.
    pub handovers: Vec<u64>,
}

/// A node id with its key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeIdName {
    /// Node id.
    #[serde(skip)]
    pub node: u32,
    /// Its key.
    pub id: String,
}
