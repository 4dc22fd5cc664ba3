//! The in-memory genealogy index: interned node ids, edges with validity intervals, adjacency both ways,
//! updated event by event in ledger order; and the time-aware backward and forward traversals.

use crate::links::{Link, Relation, links};
use std::collections::{HashMap, VecDeque};
use suyuan_core::Event;

/// Interned node id.
pub type NodeId = u32;

/// Open end of an interval.
pub const OPEN: i64 = i64::MAX;
/// Open start of an interval.
pub const BEGINNING: i64 = i64::MIN;

/// One edge: `from` flows into / is inside `to` during `[start_ms, end_ms)`.
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

/// The genealogy of everything indexed so far.
#[derive(Debug, Default)]
pub struct TraceIndex {
    ids: HashMap<Box<str>, NodeId>,
    names: Vec<Box<str>>,
    out_edges: Vec<Vec<u32>>,
    in_edges: Vec<Vec<u32>>,
    edges: Vec<Edge>,
    /// Open containments: (child, parent, relation) → edge.
    open: HashMap<(NodeId, NodeId, Relation), u32>,
    /// Edges made and containments closed, by eventID, for error declarations.
    made_by: HashMap<Box<str>, (Vec<u32>, Vec<u32>)>,
    /// Packs and unpacks per parent, in ledger order, so a withdrawn unpack can be replayed around.
    parent_ops: HashMap<(NodeId, Relation), Vec<ParentOp>>,
    /// Events withdrawn by error declarations.
    withdrawn: std::collections::HashSet<Box<str>>,
}

/// A pack or unpack at a parent.
#[derive(Debug)]
struct ParentOp {
    seq: u64,
    time_ms: i64,
    /// The child, or `None` for "every child" (unpacks only).
    child: Option<NodeId>,
    event: Box<str>,
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

/// A node reached by a trace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reached {
    /// Node id.
    #[serde(skip)]
    pub node: NodeId,
    /// Node key (canonical URI, or `transformation:…`).
    pub id: String,
    /// Hops from the start.
    pub depth: u32,
    /// The time window in which it carries the traced material (ms; `null` for open ends).
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

    /// The node id of a key.
    pub fn node(&self, key: &str) -> Option<NodeId> {
        self.ids.get(key).copied()
    }

    /// The key of a node.
    pub fn name(&self, node: NodeId) -> &str {
        self.names.get(node as usize).map_or("", |s| s)
    }

    /// An edge by id.
    pub fn edge(&self, id: u32) -> Option<&Edge> {
        self.edges.get(id as usize)
    }

    /// Approximate heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len() + 16).sum();
        let ids = self.ids.capacity() * (16 + 4 + 8);
        let adjacency: usize = self
            .out_edges
            .iter()
            .chain(&self.in_edges)
            .map(|v| v.capacity() * 4 + 24)
            .sum();
        let edges = self.edges.capacity() * std::mem::size_of::<Edge>();
        let open = self.open.capacity() * (12 + 4 + 8);
        names * 2 + ids + adjacency + edges + open
    }

    fn intern(&mut self, key: &str) -> NodeId {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.names.len() as NodeId;
        let k: Box<str> = key.into();
        self.ids.insert(k.clone(), id);
        self.names.push(k);
        self.out_edges.push(Vec::new());
        self.in_edges.push(Vec::new());
        id
    }

    fn add_edge(&mut self, edge: Edge) -> u32 {
        let id = self.edges.len() as u32;
        self.out_edges[edge.from as usize].push(id);
        self.in_edges[edge.to as usize].push(id);
        self.edges.push(edge);
        id
    }

    /// Adds what an event at `seq` (with its stored eventID) says about genealogy. Events must come in
    /// ledger order; an error declaration withdraws what the declared event did.
    pub fn apply(&mut self, e: &Event, event_id: &str, seq: u64) {
        if e.error_declaration.is_some() {
            self.retract(event_id);
            return;
        }
        let t = suyuan_core::time::parse_timestamp(&e.event_time)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0);
        let mut made = Vec::new();
        let mut closed = Vec::new();
        for link in links(e, event_id) {
            match link {
                Link::Flow { from, to, relation } => {
                    let (from, to) = (self.intern(&from), self.intern(&to));
                    made.push(self.add_edge(Edge {
                        from,
                        to,
                        relation,
                        seq,
                        start_ms: t,
                        end_ms: t.saturating_add(1),
                        end_seq: None,
                        retracted: false,
                    }));
                }
                Link::Open {
                    child,
                    parent,
                    relation,
                } => {
                    let (child, parent) = (self.intern(&child), self.intern(&parent));
                    self.log_op(parent, relation, seq, t, Some(child), event_id);
                    // Packed again without an unpack: the old containment ends now.
                    if let Some(old) = self.open.remove(&(child, parent, relation)) {
                        self.end(old, t, seq);
                        closed.push(old);
                    }
                    let id = self.add_edge(Edge {
                        from: child,
                        to: parent,
                        relation,
                        seq,
                        start_ms: t,
                        end_ms: OPEN,
                        end_seq: None,
                        retracted: false,
                    });
                    self.open.insert((child, parent, relation), id);
                    made.push(id);
                }
                Link::Close {
                    child,
                    parent,
                    relation,
                } => {
                    let Some(parent) = self.node(&parent) else {
                        continue;
                    };
                    let child_id = child.as_deref().and_then(|c| self.node(c));
                    if child.is_none() || child_id.is_some() {
                        self.log_op(parent, relation, seq, t, child_id, event_id);
                    }
                    let ids: Vec<u32> = match child.as_deref().and_then(|c| self.node(c)) {
                        Some(c) => self
                            .open
                            .remove(&(c, parent, relation))
                            .into_iter()
                            .collect(),
                        None if child.is_some() => Vec::new(),
                        None => {
                            let ids: Vec<u32> = self.in_edges[parent as usize]
                                .iter()
                                .copied()
                                .filter(|id| {
                                    let e = &self.edges[*id as usize];
                                    e.relation == relation && e.end_ms == OPEN && !e.retracted
                                })
                                .collect();
                            for id in &ids {
                                let e = &self.edges[*id as usize];
                                self.open.remove(&(e.from, e.to, relation));
                            }
                            ids
                        }
                    };
                    for id in ids {
                        self.end(id, t, seq);
                        closed.push(id);
                    }
                }
            }
        }
        if !made.is_empty() || !closed.is_empty() {
            self.made_by.insert(event_id.into(), (made, closed));
        }
    }

    fn end(&mut self, id: u32, t: i64, seq: u64) {
        let e = &mut self.edges[id as usize];
        e.end_ms = t.max(e.start_ms);
        e.end_seq = Some(seq);
    }

    fn log_op(
        &mut self,
        parent: NodeId,
        relation: Relation,
        seq: u64,
        time_ms: i64,
        child: Option<NodeId>,
        event: &str,
    ) {
        self.parent_ops
            .entry((parent, relation))
            .or_default()
            .push(ParentOp {
                seq,
                time_ms,
                child,
                event: event.into(),
            });
    }

    fn retract(&mut self, event_id: &str) {
        let Some((made, closed)) = self.made_by.remove(event_id) else {
            return;
        };
        self.withdrawn.insert(event_id.into());
        for id in made {
            let e = &mut self.edges[id as usize];
            e.retracted = true;
            let key = (e.from, e.to, e.relation);
            if self.open.get(&key) == Some(&id) {
                self.open.remove(&key);
            }
        }
        for id in closed {
            if !self.edges[id as usize].retracted {
                self.recompute_end(id);
            }
        }
    }

    /// Ends a containment at the first later pack or unpack of its parent that still stands (as if the
    /// withdrawn events never happened), or leaves it open.
    fn recompute_end(&mut self, id: u32) {
        let e = &self.edges[id as usize];
        let (child, parent, relation, seq) = (e.from, e.to, e.relation, e.seq);
        let next = self.parent_ops.get(&(parent, relation)).and_then(|ops| {
            ops.iter()
                .filter(|op| op.seq > seq && !self.withdrawn.contains(&op.event))
                .find(|op| op.child.is_none_or(|c| c == child))
                .map(|op| (op.time_ms, op.seq))
        });
        match next {
            Some((t, s)) => self.end(id, t, s),
            None => {
                let e = &mut self.edges[id as usize];
                e.end_ms = OPEN;
                e.end_seq = None;
                self.open.insert((child, parent, relation), id);
            }
        }
    }

    /// Everything the node came from: inputs and their inputs, lots, and for containers their contents
    /// (while inside) and the contents' origins.
    pub fn backward(&self, key: &str, opts: &TraceOptions) -> Option<Trace> {
        self.traverse(self.node(key)?, opts, Direction::Backward)
    }

    /// Everything made from the node or holding it: outputs and their outputs, members of a lot, and the
    /// containers it was in (while inside) and their containers.
    pub fn forward(&self, key: &str, opts: &TraceOptions) -> Option<Trace> {
        self.traverse(self.node(key)?, opts, Direction::Forward)
    }

    fn traverse(&self, start: NodeId, opts: &TraceOptions, dir: Direction) -> Option<Trace> {
        // Per reached node: its position in `order`, the first window explored from it, and any others.
        type Explored = (usize, (i64, i64), Vec<(i64, i64)>);
        let mut explored: HashMap<NodeId, Explored> = HashMap::with_capacity(64);
        let mut order: Vec<Reached> = Vec::new();
        let mut seen_edges: std::collections::HashSet<u32> =
            std::collections::HashSet::with_capacity(64);
        let mut edges_out = Vec::new();
        let mut queue = VecDeque::new();
        queue.push_back((start, BEGINNING, OPEN, 0u32));
        explored.insert(start, (0, (BEGINNING, OPEN), Vec::new()));
        order.push(self.reached(start, 0, BEGINNING, OPEN));
        while let Some((n, lo, hi, depth)) = queue.pop_front() {
            if opts.max_depth.is_some_and(|d| depth >= d) {
                continue;
            }
            let adjacency = match dir {
                Direction::Forward => &self.out_edges[n as usize],
                Direction::Backward => &self.in_edges[n as usize],
            };
            for &eid in adjacency {
                let e = &self.edges[eid as usize];
                if e.retracted
                    || opts.from_ms.is_some_and(|f| e.start_ms < f)
                    || opts.to_ms.is_some_and(|t| e.start_ms >= t)
                {
                    continue;
                }
                let Some((next, nlo, nhi)) = step(e, dir, lo, hi) else {
                    continue;
                };
                if seen_edges.insert(eid) {
                    edges_out.push(eid);
                }
                let covers = |&(a, b): &(i64, i64)| a <= nlo && nhi <= b;
                match explored.get_mut(&next) {
                    Some((_, first, more)) if covers(first) || more.iter().any(covers) => continue,
                    Some((pos, _, more)) => {
                        more.push((nlo, nhi));
                        widen(&mut order[*pos], nlo, nhi);
                    }
                    None => {
                        explored.insert(next, (order.len(), (nlo, nhi), Vec::new()));
                        order.push(self.reached(next, depth + 1, nlo, nhi));
                    }
                }
                queue.push_back((next, nlo, nhi, depth + 1));
            }
        }
        Some(Trace {
            nodes: order,
            edges: edges_out,
        })
    }

    fn reached(&self, node: NodeId, depth: u32, lo: i64, hi: i64) -> Reached {
        Reached {
            node,
            id: self.name(node).to_string(),
            depth,
            from_ms: (lo != BEGINNING).then_some(lo),
            until_ms: (hi != OPEN).then_some(hi),
        }
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

/// Where a traversal goes over edge `e` from a node that carries the traced material during `[lo, hi)`, and
/// during which window the next node carries it.
pub fn step(e: &Edge, dir: Direction, lo: i64, hi: i64) -> Option<(NodeId, i64, i64)> {
    match (e.relation, dir) {
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
