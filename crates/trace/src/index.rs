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

    fn seq_of(&self, edge: u32) -> u64 {
        let i = self.run_first.partition_point(|&f| f <= edge);
        i.checked_sub(1).map_or(0, |i| self.run_seq[i])
    }

    /// Edge ids made by the event at `seq`.
    fn made_by(&self, seq: u64) -> std::ops::Range<u32> {
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

    fn adjacency(&self, node: NodeId, dir: Direction) -> impl Iterator<Item = u32> + '_ {
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

    fn is_live(&self, id: u32) -> bool {
        self.kinds[id as usize] & RETRACTED == 0
    }

    fn add_edge(&mut self, rec: EdgeRec, relation: Relation, seq: u64) -> u32 {
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
    fn open_edge(&self, child: NodeId, parent: NodeId, relation: Relation) -> Option<u32> {
        let code = relation_code(relation);
        self.adjacency(child, Direction::Forward).find(|&id| {
            let r = &self.edges[id as usize];
            r.to == parent && r.end_ms == OPEN && self.kinds[id as usize] == code
        })
    }

    /// Adds what an event at `seq` (with its stored eventID) says about genealogy. Events must come in
    /// ledger order. Error declarations are not applied here: see [`TraceIndex::retract`].
    pub fn apply(&mut self, e: &Event, event_id: &str, seq: u64) {
        self.last_seq = self.last_seq.max(seq);
        self.apply_whereabouts(e, seq);
        if e.error_declaration.is_some() {
            return;
        }
        let t = suyuan_core::time::parse_timestamp(&e.event_time)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0);
        for link in links(e, event_id) {
            match link {
                Link::Flow { from, to, relation } => {
                    let (from, to) = (self.names.intern(&from), self.names.intern(&to));
                    let rec = EdgeRec {
                        from,
                        to,
                        start_ms: t,
                        end_ms: t.saturating_add(1),
                    };
                    self.add_edge(rec, relation, seq);
                }
                Link::Open {
                    child,
                    parent,
                    relation,
                } => {
                    let (child, parent) = (self.names.intern(&child), self.names.intern(&parent));
                    // Packed again without an unpack: the old containment ends now.
                    if let Some(old) = self.open_edge(child, parent, relation) {
                        self.end(old, t, seq);
                    }
                    let rec = EdgeRec {
                        from: child,
                        to: parent,
                        start_ms: t,
                        end_ms: OPEN,
                    };
                    self.add_edge(rec, relation, seq);
                }
                Link::Close {
                    child,
                    parent,
                    relation,
                } => {
                    let Some(parent) = self.node(&parent) else {
                        continue;
                    };
                    let closing: Vec<u32> = match child.as_deref() {
                        Some(c) => {
                            let Some(c) = self.node(c) else { continue };
                            self.log_close(parent, relation, seq, t, c);
                            self.open_edge(c, parent, relation).into_iter().collect()
                        }
                        None => {
                            self.log_close(parent, relation, seq, t, ALL);
                            let code = relation_code(relation);
                            self.adjacency(parent, Direction::Backward)
                                .filter(|&id| {
                                    self.kinds[id as usize] == code
                                        && self.edges[id as usize].end_ms == OPEN
                                })
                                .collect()
                        }
                    };
                    for id in closing {
                        self.end(id, t, seq);
                    }
                }
            }
        }
        self.maybe_compact();
    }

    /// The same object-state changes the store's projection makes (an error declaration touches too).
    fn apply_whereabouts(&mut self, e: &Event, seq: u64) {
        use suyuan_core::projection::{ProjectionOp, projection_ops};
        for op in projection_ops(e) {
            match op {
                ProjectionOp::Touch {
                    object,
                    location,
                    disposition,
                    party,
                } => {
                    let node = self.names.intern(&object);
                    self.states.grow(self.names.len());
                    self.states.touch(
                        node,
                        seq,
                        location.as_deref(),
                        disposition.as_deref(),
                        party.as_deref(),
                    );
                }
                ProjectionOp::SetContainer { child, parent } => {
                    let (c, p) = (self.names.intern(&child), self.names.intern(&parent));
                    self.states.grow(self.names.len());
                    self.states.container[c as usize] = p;
                }
                ProjectionOp::ClearContainer { child, parent } => {
                    if let (Some(c), Some(p)) = (self.node(&child), self.node(&parent))
                        && self.states.container.get(c as usize) == Some(&p)
                    {
                        self.states.container[c as usize] = NONE;
                    }
                }
                ProjectionOp::ClearChildrenOf { parent } => {
                    let Some(p) = self.node(&parent) else {
                        continue;
                    };
                    let children: Vec<u32> = self
                        .adjacency(p, Direction::Backward)
                        .map(|id| self.edges[id as usize].from)
                        .collect();
                    for c in children {
                        if self.states.container.get(c as usize) == Some(&p) {
                            self.states.container[c as usize] = NONE;
                        }
                    }
                }
            }
        }
    }

    /// Where a node is now, as the store's object projection says (`None` for an unknown id).
    pub fn whereabouts(&self, node: NodeId) -> Option<Whereabouts> {
        let s = self.state(node)?;
        Some(Whereabouts {
            last_seq: s.last_seq,
            location: s.location.map(str::to_string),
            disposition: s.disposition.map(str::to_string),
            container: s.container.map(|c| NodeIdName {
                node: c,
                id: self.name(c),
            }),
            party: s.party.map(str::to_string),
            handovers: s.handovers.to_vec(),
        })
    }

    /// [`TraceIndex::whereabouts`] without copying anything.
    pub fn state(&self, node: NodeId) -> Option<StateRef<'_>> {
        let i = node as usize;
        let s = &self.states;
        let value = |v: &Vec<u32>| v.get(i).and_then(|&id| s.values.get(id));
        (i < self.names.len()).then(|| StateRef {
            last_seq: s.last_seq.get(i).copied().unwrap_or(0),
            location: value(&s.location),
            disposition: value(&s.disposition),
            container: s.container.get(i).copied().filter(|&c| c != NONE),
            party: value(&s.party),
            handovers: s.handovers.get(&node).map_or(&[][..], Vec::as_slice),
        })
    }

    /// Where a node is now with its containers taken into account: the location and the holding party are
    /// the freshest among the node and its container chain (a can moves with its case). Returns (location,
    /// holder, outermost container).
    pub fn located(&self, node: NodeId) -> (Option<&str>, Option<&str>, Option<NodeId>) {
        let s = &self.states;
        let mut links = [node; 17];
        let mut len = 1;
        let mut at = node as usize;
        while let Some(&c) = s.container.get(at).filter(|&&c| c != NONE) {
            if len == links.len() || links[..len].contains(&c) {
                break;
            }
            links[len] = c;
            len += 1;
            at = c as usize;
        }
        let chain = &links[..len];
        let freshest = |v: &Vec<u32>| {
            chain
                .iter()
                .filter_map(|&n| {
                    let id = *v.get(n as usize)?;
                    (id != NONE).then(|| (s.last_seq[n as usize], id))
                })
                .max_by_key(|&(seq, _)| seq)
                .and_then(|(_, id)| s.values.get(id))
        };
        let outermost = chain.last().copied().filter(|&c| c != node);
        (freshest(&s.location), freshest(&s.party), outermost)
    }

    /// Heap bytes of the object-state arrays (kept beside the genealogy, counted apart from it).
    pub fn whereabouts_heap_bytes(&self) -> usize {
        self.states.heap_bytes()
    }

    /// Folds recent adjacency into the compact arrays when it has grown past half of them.
    fn maybe_compact(&mut self) {
        let recent = self.out.recent_len();
        if recent > (1 << 20).max(self.out.compacted_len() / 2) {
            self.fold();
        }
    }

    /// Folds all recent adjacency into the compact arrays (also done automatically as the index grows) and
    /// gives back the spare capacity of the growing arrays; for after a bulk load.
    pub fn compact(&mut self) {
        self.fold();
        self.names.shrink_to_fit();
        self.edges.shrink_to_fit();
        self.kinds.shrink_to_fit();
        self.run_first.shrink_to_fit();
        self.run_seq.shrink_to_fit();
        self.states.shrink_to_fit();
    }

    fn fold(&mut self) {
        let n = self.names.len();
        self.out.compact(n);
        self.inn.compact(n);
    }

    fn end(&mut self, id: u32, t: i64, seq: u64) {
        let e = &mut self.edges[id as usize];
        e.end_ms = t.max(e.start_ms);
        self.end_seqs.insert(id, seq);
    }

    fn log_close(&mut self, parent: NodeId, relation: Relation, seq: u64, t: i64, child: NodeId) {
        self.closes.entry(parent).or_default().push(CloseOp {
            seq,
            time_ms: t,
            child,
            relation: relation_code(relation),
            pad: [0; 3],
        });
    }

    /// Withdraws what the event `original`, stored at `original_seq`, did: the edges it made leave the
    /// genealogy, and containments it ended end where the next pack or unpack that still stands ends them.
    /// The caller applies this for an error declaration, after the declared event itself.
    pub fn retract(&mut self, original: &Event, original_seq: u64) {
        if !self.withdrawn.insert(original_seq) {
            return;
        }
        for id in self.made_by(original_seq) {
            self.kinds[id as usize] |= RETRACTED;
        }
        // Containments it ended are under the parents it named.
        let mut parents: Vec<NodeId> = links(original, "")
            .into_iter()
            .filter_map(|l| match l {
                Link::Open { parent, .. } | Link::Close { parent, .. } => self.node(&parent),
                Link::Flow { .. } => None,
            })
            .collect();
        parents.sort_unstable();
        parents.dedup();
        let mut closed = Vec::new();
        for p in parents {
            closed
                .extend(self.adjacency(p, Direction::Backward).filter(|id| {
                    self.end_seqs.get(id) == Some(&original_seq) && self.is_live(*id)
                }));
        }
        for id in closed {
            self.recompute_end(id);
        }
    }

    /// Ends a containment at the first later pack or unpack of its parent that still stands (as if the
    /// withdrawn events never happened), or leaves it open.
    fn recompute_end(&mut self, id: u32) {
        let rec = self.edges[id as usize];
        let code = self.kinds[id as usize] & 3;
        let seq = self.seq_of(id);
        // A later pack of the same child into the same parent…
        let repack = self
            .adjacency(rec.from, Direction::Forward)
            .filter(|&o| {
                o > id && self.kinds[o as usize] == code && self.edges[o as usize].to == rec.to
            })
            .map(|o| (self.seq_of(o), self.edges[o as usize].start_ms))
            .next();
        // …or a later unpack of it (or of everything) that was not withdrawn.
        let unpack = self.closes.get(&rec.to).and_then(|ops| {
            ops.iter()
                .filter(|op| {
                    op.seq > seq
                        && op.relation == code
                        && (op.child == ALL || op.child == rec.from)
                        && !self.withdrawn.contains(&op.seq)
                })
                .map(|op| (op.seq, op.time_ms))
                .next()
        });
        let next = match (repack, unpack) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match next {
            Some((s, t)) => self.end(id, t, s),
            None => {
                self.edges[id as usize].end_ms = OPEN;
                self.end_seqs.remove(&id);
            }
        }
    }

    /// Everything the node came from: inputs and their inputs, lots, for containers their contents (while
    /// inside) and the contents' origins, and for a lot the origins of its instances.
    pub fn backward(&self, key: &str, opts: &TraceOptions) -> Option<Trace> {
        Some(self.traverse(self.node(key)?, opts, Direction::Backward))
    }

    /// Everything made from the node or holding it: outputs and their outputs, members of a lot, and the
    /// containers it was in (while inside) and their containers.
    pub fn forward(&self, key: &str, opts: &TraceOptions) -> Option<Trace> {
        Some(self.traverse(self.node(key)?, opts, Direction::Forward))
    }

    /// A trace from a node id.
    pub fn traverse(&self, start: NodeId, opts: &TraceOptions, dir: Direction) -> Trace {
        // Per reached node: its position in `order`. Windows explored from each node: the first in
        // `windows[pos]`, others (rare: containments re-entered in another interval) in `more`. The first
        // expansion of a node always comes before its re-expansions (the queue is FIFO).
        let mut position = Visited::new(self.names.len());
        let mut order: Vec<Reached> = Vec::new();
        let mut windows: Vec<(i64, i64)> = Vec::new();
        let mut more: HashMap<u32, Vec<(i64, i64)>> = HashMap::new();
        let mut reported_again: HashSet<u32> = HashSet::new();
        let mut edges_out = Vec::new();
        let mut queue = VecDeque::new();
        queue.push_back((0u32, BEGINNING, OPEN, false, false));
        position.insert(start, 0);
        order.push(reached(start, 0, BEGINNING, OPEN));
        windows.push((BEGINNING, OPEN));
        while let Some((pos, lo, hi, again, from_member)) = queue.pop_front() {
            let Reached { node, depth, .. } = order[pos as usize];
            if opts.max_depth.is_some_and(|d| depth >= d) {
                continue;
            }
            // On a re-expansion, edges the first window already stepped over were reported then.
            let first = windows[pos as usize];
            // Backwards, a lot is its instances too: what made them made the lot. Not when the lot was
            // reached from one of its instances (a can's origins are not its siblings' origins).
            let members = (dir == Direction::Backward && !from_member)
                .then(|| self.adjacency(node, Direction::Forward))
                .into_iter()
                .flatten()
                .filter(|&eid| relation_of(self.kinds[eid as usize]) == Relation::Member)
                .map(|eid| (eid, true));
            for (eid, down) in self
                .adjacency(node, dir)
                .map(|eid| (eid, false))
                .chain(members)
            {
                let kind = self.kinds[eid as usize];
                let e = &self.edges[eid as usize];
                if kind & RETRACTED != 0
                    || opts.from_ms.is_some_and(|f| e.start_ms < f)
                    || opts.to_ms.is_some_and(|t| e.start_ms >= t)
                {
                    continue;
                }
                let relation = relation_of(kind);
                let stepped = |lo, hi| {
                    if down {
                        member_of_lot(e, lo, hi)
                    } else {
                        step(e, relation, dir, lo, hi)
                    }
                };
                let Some((next, nlo, nhi)) = stepped(lo, hi) else {
                    continue;
                };
                let next_from_member = !down && relation == Relation::Member;
                if !again || (stepped(first.0, first.1).is_none() && reported_again.insert(eid)) {
                    edges_out.push(eid);
                }
                let covers = |&(a, b): &(i64, i64)| a <= nlo && nhi <= b;
                match position.get(next) {
                    Some(p) => {
                        if covers(&windows[p as usize])
                            || more.get(&p).is_some_and(|m| m.iter().any(covers))
                        {
                            continue;
                        }
                        more.entry(p).or_default().push((nlo, nhi));
                        widen(&mut order[p as usize], nlo, nhi);
                        queue.push_back((p, nlo, nhi, true, next_from_member));
                    }
                    None => {
                        let p = order.len() as u32;
                        position.insert(next, p);
                        order.push(reached(next, depth + 1, nlo, nhi));
                        windows.push((nlo, nhi));
                        queue.push_back((p, nlo, nhi, false, next_from_member));
                    }
                }
            }
        }
        Trace {
            nodes: order,
            edges: edges_out,
        }
    }
}

/// Positions of the nodes a traversal reached: a hash map while few, then an array over all node ids (a
/// zeroed allocation costs only the pages it touches, and node ids made together sit together).
enum Visited {
    Few(HashMap<NodeId, u32>, usize),
    Many(Vec<u32>),
}

/// Reached nodes above which the array is used.
const FEW: usize = 4096;

impl Visited {
    fn new(nodes: usize) -> Self {
        Visited::Few(HashMap::with_capacity(64), nodes)
    }

    fn get(&self, node: NodeId) -> Option<u32> {
        match self {
            Visited::Few(m, _) => m.get(&node).copied(),
            Visited::Many(v) => v.get(node as usize).and_then(|&p| p.checked_sub(1)),
        }
    }

    fn insert(&mut self, node: NodeId, pos: u32) {
        match self {
            Visited::Few(m, nodes) if m.len() >= FEW => {
                let mut v = vec![0u32; (*nodes).max(node as usize + 1)];
                for (&n, &p) in m.iter() {
                    v[n as usize] = p + 1;
                }
                v[node as usize] = pos + 1;
                *self = Visited::Many(v);
            }
            Visited::Few(m, _) => {
                m.insert(node, pos);
            }
            Visited::Many(v) => {
                if let Some(slot) = v.get_mut(node as usize) {
                    *slot = pos + 1;
                }
            }
        }
    }
}

fn reached(node: NodeId, depth: u32, lo: i64, hi: i64) -> Reached {
    Reached {
        node,
        depth,
        from_ms: (lo != BEGINNING).then_some(lo),
        until_ms: (hi != OPEN).then_some(hi),
    }
}

fn widen(r: &mut Reached, lo: i64, hi: i64) {
    r.from_ms = match (r.from_ms, lo) {
        (None, _) | (_, BEGINNING) => None,
        (Some(a), b) => Some(a.min(b)),
    };
    r.until_ms = match (r.until_ms, hi) {
        (None, _) | (_, OPEN) => None,
        (Some(a), b) => Some(a.max(b)),
    };
}

/// A backward trace from a lot over one of its membership edges: the instance stands for the lot from the
/// moment it joined it, for the part of the window `[lo, hi)` after that.
fn member_of_lot(e: &EdgeRec, lo: i64, hi: i64) -> Option<(NodeId, i64, i64)> {
    let from = lo.max(e.start_ms);
    (from < hi).then_some((e.to, from, hi))
}

/// Where a traversal goes over edge `e` from a node that carries the traced material during `[lo, hi)`, and
/// during which window the next node carries it.
fn step(
    e: &EdgeRec,
    relation: Relation,
    dir: Direction,
    lo: i64,
    hi: i64,
) -> Option<(NodeId, i64, i64)> {
    match (relation, dir) {
        // A flow counts when it happened while the source carried the material; the output carries it from then on.
        (Relation::Transform | Relation::Member, Direction::Forward) => {
            (e.start_ms >= lo && e.start_ms < hi).then_some((e.to, e.start_ms, OPEN))
        }
        // Backwards: whatever flowed in before the end of the window, up to that moment.
        (Relation::Transform | Relation::Member, Direction::Backward) => {
            (e.start_ms < hi).then_some((e.from, BEGINNING, e.start_ms.saturating_add(1)))
        }
        // Containment counts for the overlap of the window with the time inside.
        (Relation::Contain | Relation::Associate, _) => {
            let (a, b) = (lo.max(e.start_ms), hi.min(e.end_ms));
            (a < b).then_some((
                if dir == Direction::Forward {
                    e.to
                } else {
                    e.from
                },
                a,
                b,
            ))
        }
    }
}
