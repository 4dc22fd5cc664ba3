//! The in-memory genealogy index: interned node ids, edges with validity intervals in flat arrays, adjacency
//! both ways in compressed rows, updated event by event in ledger order; and the time-aware backward and
//! forward traversals.

use crate::adjacency::Adjacency;
use crate::links::{Link, Relation, links};
use crate::names::Names;
use crate::whereabouts::{NONE, NodeIdName, States, Whereabouts};
use hashbrown::{HashMap, HashSet};
use std::collections::VecDeque;
use suyuan_core::Event;

mod apply;
mod census;
mod graph;
pub use graph::{Graph, GraphNode, GraphOptions};
mod traverse;

/// Interned node id.
pub type NodeId = u32;

/// Open end of an interval.
pub const OPEN: i64 = i64::MAX;
/// Open start of an interval.
pub const BEGINNING: i64 = i64::MIN;

/// One edge as callers see it: `from` flows into / is inside `to` during `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Source (input, lot, child).
    pub from: NodeId,
    /// Target (transformation or output, member, parent).
    pub to: NodeId,
    /// Relation.
    pub relation: Relation,
    /// Seq of the event that made the edge.
    pub seq: u64,
    /// When it started (event time, ms).
    pub start_ms: i64,
    /// When it ended (`OPEN` while it lasts; flows are instants, `start_ms + 1`).
    pub end_ms: i64,
    /// Seq of the event that ended a containment, if any.
    pub end_seq: Option<u64>,
    /// Withdrawn by an error declaration.
    pub retracted: bool,
}

/// The stored part of an edge (24 bytes); relation and retraction live in `kinds`, seqs in runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(crate) struct EdgeRec {
    pub(crate) from: NodeId,
    pub(crate) to: NodeId,
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
}

const RETRACTED: u8 = 0x80;

fn relation_code(r: Relation) -> u8 {
    match r {
        Relation::Transform => 0,
        Relation::Contain => 1,
        Relation::Member => 2,
        Relation::Associate => 3,
    }
}

pub(crate) fn relation_of(kind: u8) -> Relation {
    match kind & 3 {
        0 => Relation::Transform,
        1 => Relation::Contain,
        2 => Relation::Member,
        _ => Relation::Associate,
    }
}

/// An unpack at a parent, kept so that a withdrawn unpack can be replayed around.
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(crate) struct CloseOp {
    pub(crate) seq: u64,
    pub(crate) time_ms: i64,
    /// The child, or `ALL` for "every child".
    pub(crate) child: NodeId,
    pub(crate) relation: u8,
    pub(crate) pad: [u8; 3],
}

/// `CloseOp::child` for an unpack of every child.
pub(crate) const ALL: NodeId = NodeId::MAX;

/// The genealogy of everything indexed so far.
#[derive(Debug, Default)]
pub struct TraceIndex {
    pub(crate) names: Names,
    pub(crate) edges: Vec<EdgeRec>,
    pub(crate) kinds: Vec<u8>,
    /// First edge id made by each event that made edges, and that event's seq (both ascending).
    pub(crate) run_first: Vec<u32>,
    pub(crate) run_seq: Vec<u64>,
    /// Seq of the event that ended a containment.
    pub(crate) end_seqs: HashMap<u32, u64>,
    pub(crate) out: Adjacency,
    pub(crate) inn: Adjacency,
    /// Unpacks per parent, in ledger order.
    pub(crate) closes: HashMap<NodeId, Vec<CloseOp>>,
    /// Seqs of events withdrawn by error declarations.
    pub(crate) withdrawn: HashSet<u64>,
    /// Highest seq applied.
    pub(crate) last_seq: u64,
    /// Where every object is now.
    pub(crate) states: States,
}

/// Where a node is now, borrowed from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRef<'a> {
    /// Seq of its last event (0 if no event named it directly).
    pub last_seq: u64,
    /// Its own last business location.
    pub location: Option<&'a str>,
    /// Its last disposition.
    pub disposition: Option<&'a str>,
    /// The container it is in now.
    pub container: Option<NodeId>,
    /// The party it was last handed to.
    pub party: Option<&'a str>,
    /// The events that handed it to a party, oldest first.
    pub handovers: &'a [u64],
}

/// Limits of a trace query.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    /// Most hops from the start (unlimited when `None`).
    pub max_depth: Option<u32>,
    /// Only edges that started at or after this time (ms).
    pub from_ms: Option<i64>,
    /// Only edges that started before this time (ms).
    pub to_ms: Option<i64>,
}

/// A node reached by a trace; [`TraceIndex::name`] gives its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    /// Node id.
    pub node: NodeId,
    /// Hops from the start.
    pub depth: u32,
    /// The time window in which it carries the traced material (ms; `None` for open ends).
    pub from_ms: Option<i64>,
    /// End of that window.
    pub until_ms: Option<i64>,
}

/// The answer to a trace query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Nodes reached, the start first, in breadth-first order.
    pub nodes: Vec<Reached>,
    /// Edges followed (ids into [`TraceIndex::edge`]).
    pub edges: Vec<u32>,
}

/// Which way a trace goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards outputs, members and containers.
    Forward,
    /// Towards inputs, lots and contents.
    Backward,
}

impl TraceIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.names.len()
    }

    /// Number of edges (including retracted ones).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Highest seq applied so far (0 when empty).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The node id of a key.
    pub fn node(&self, key: &str) -> Option<NodeId> {
        self.names.get(key)
    }

    /// The key of a node (empty for an unknown id).
    pub fn name(&self, node: NodeId) -> String {
        let mut s = String::new();
        self.names.write(node, &mut s);
        s
    }

    /// An edge by id.
    pub fn edge(&self, id: u32) -> Option<Edge> {
        let r = self.edges.get(id as usize)?;
        let kind = self.kinds[id as usize];
        Some(Edge {
            from: r.from,
            to: r.to,
            relation: relation_of(kind),
            seq: self.seq_of(id),
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            end_seq: self.end_seqs.get(&id).copied(),
            retracted: kind & RETRACTED != 0,
        })
    }

    /// Heap bytes used by the index.
    pub fn heap_bytes(&self) -> usize {
        let closes: usize = self
            .closes
            .values()
            .map(|v| v.capacity() * std::mem::size_of::<CloseOp>() + 4 + 24 + 1)
            .sum();
        self.names.heap_bytes()
            + self.edges.capacity() * std::mem::size_of::<EdgeRec>()
            + self.kinds.capacity()
            + self.run_first.capacity() * 4
            + self.run_seq.capacity() * 8
            + self.end_seqs.capacity() * (4 + 8 + 1)
            + self.out.heap_bytes()
            + self.inn.heap_bytes()
            + closes
            + self.withdrawn.capacity() * 9
    }

    pub(super) fn seq_of(&self, edge: u32) -> u64 {
        let i = self.run_first.partition_point(|&f| f <= edge);
        i.checked_sub(1).map_or(0, |i| self.run_seq[i])
    }

    /// Edge ids made by the event at `seq`.
    pub(super) fn made_by(&self, seq: u64) -> std::ops::Range<u32> {
        match self.run_seq.binary_search(&seq) {
            Ok(i) => {
                let end = self
                    .run_first
                    .get(i + 1)
                    .copied()
                    .unwrap_or(self.edges.len() as u32);
                self.run_first[i]..end
            }
            Err(_) => 0..0,
        }
    }

    pub(super) fn adjacency(&self, node: NodeId, dir: Direction) -> impl Iterator<Item = u32> + '_ {
        let (a, b) = match dir {
            Direction::Forward => self.out.of(node),
            Direction::Backward => self.inn.of(node),
        };
        a.iter().chain(b).copied()
    }

    /// How many edges (live or not) leave (`Forward`) or enter (`Backward`) a node.
    pub fn degree(&self, node: NodeId, dir: Direction) -> usize {
        let (a, b) = match dir {
            Direction::Forward => self.out.of(node),
            Direction::Backward => self.inn.of(node),
        };
        a.len() + b.len()
    }

    pub(super) fn is_live(&self, id: u32) -> bool {
        self.kinds[id as usize] & RETRACTED == 0
    }

    pub(super) fn add_edge(&mut self, rec: EdgeRec, relation: Relation, seq: u64) -> u32 {
        let id = self.edges.len() as u32;
        if self.run_seq.last() != Some(&seq) {
            self.run_first.push(id);
            self.run_seq.push(seq);
        }
        self.out.push(rec.from, id);
        self.inn.push(rec.to, id);
        self.edges.push(rec);
        self.kinds.push(relation_code(relation));
        id
    }

    /// The open containment `child` ⊂ `parent`, if any.
    pub(super) fn open_edge(
        &self,
        child: NodeId,
        parent: NodeId,
        relation: Relation,
    ) -> Option<u32> {
        let code = relation_code(relation);
        self.adjacency(child, Direction::Forward).find(|&id| {
            let r = &self.edges[id as usize];
            r.to == parent && r.end_ms == OPEN && self.kinds[id as usize] == code
        })
    }
}
