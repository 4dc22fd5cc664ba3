//! Walking the index: backward and forward traces from an object, with containment windows and lot
//! membership taken into account.

#[allow(unused_imports)]
use super::*;

impl TraceIndex {
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
pub(super) enum Visited {
    Few(HashMap<NodeId, u32>, usize),
    Many(Vec<u32>),
}

/// Reached nodes above which the array is used.
pub(super) const FEW: usize = 4096;

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

pub(super) fn reached(node: NodeId, depth: u32, lo: i64, hi: i64) -> Reached {
    Reached {
        node,
        depth,
        from_ms: (lo != BEGINNING).then_some(lo),
        until_ms: (hi != OPEN).then_some(hi),
    }
}

pub(super) fn widen(r: &mut Reached, lo: i64, hi: i64) {
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
pub(super) fn member_of_lot(e: &EdgeRec, lo: i64, hi: i64) -> Option<(NodeId, i64, i64)> {
    let from = lo.max(e.start_ms);
    (from < hi).then_some((e.to, from, hi))
}

/// Where a traversal goes over edge `e` from a node that carries the traced material during `[lo, hi)`, and
/// during which window the next node carries it.
pub(super) fn step(
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
