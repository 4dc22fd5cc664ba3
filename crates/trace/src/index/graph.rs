//! The genealogy as a graph a person can look at: a few levels from one object, backward or forward,
//! time-aware as the traces are, with siblings grouped into counted clusters ("1,200 cans in 200 cases")
//! so that a lot reaching a million descendants is drawn as a dozen nodes. A cluster's own descendants are
//! followed as clusters; the walk stops at a budget of visited nodes and marks where there is more.

use super::traverse::{member_of_lot, step};
use super::*;
use crate::node_kind;

/// Limits of a graph view.
#[derive(Debug, Clone, Copy)]
pub struct GraphOptions {
    /// Levels to walk from the start.
    pub levels: u32,
    /// Siblings of one kind above this many are drawn as one cluster.
    pub cluster_over: usize,
    /// Nodes the walk may visit before it stops (and marks the frontier as having more).
    pub budget: usize,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            levels: 8,
            cluster_over: 8,
            budget: 400_000,
        }
    }
}

/// One node of a graph view: an object, or a cluster of sibling objects of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    /// The object's key, or for a cluster its first member's.
    pub key: String,
    /// `node_kind` of the object or the cluster's members.
    pub kind: &'static str,
    /// Level from the start (0 is the start).
    pub level: u32,
    /// Objects it stands for (1 for an object).
    pub count: u64,
    /// For a cluster: the distinct containers its members were packed into (0 when none).
    pub containers: u64,
    /// For a cluster: up to 20 members.
    pub sample: Vec<String>,
    /// Whether it contains logistic units (a pallet rather than a case), for logistic units.
    pub holds_units: bool,
    /// Current dispositions of the objects it stands for, with counts (most first).
    pub dispositions: Vec<(String, u64)>,
    /// Holders now (the parties last handed the objects), with counts.
    pub holders: Vec<(String, u64)>,
    /// Whether the walk stopped here with more beyond.
    pub more: bool,
}

/// A graph view: nodes, and edges between them by index (`from` is upstream).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Nodes; the first is the start.
    pub nodes: Vec<GraphNode>,
    /// Edges (from, to) by node index, with the relation.
    pub edges: Vec<(usize, usize, Relation)>,
    /// Objects visited to build it.
    pub visited: usize,
}

/// The nodes a walk has reached: one bit per node of the index (a few hundred KB at millions of nodes, cheaper
/// than hashing every visit), and how many.
struct Seen {
    bits: Vec<u64>,
    count: usize,
}

impl Seen {
    fn new(nodes: usize) -> Seen {
        Seen {
            bits: vec![0; nodes.div_ceil(64) + 1],
            count: 0,
        }
    }

    /// Marks `n`; answers whether it was new.
    fn insert(&mut self, n: NodeId) -> bool {
        let (w, b) = (n as usize / 64, 1u64 << (n % 64));
        if w >= self.bits.len() {
            self.bits.resize(w + 1, 0);
        }
        let new = self.bits[w] & b == 0;
        self.bits[w] |= b;
        self.count += usize::from(new);
        new
    }

    fn contains(&self, n: NodeId) -> bool {
        self.bits
            .get(n as usize / 64)
            .is_some_and(|w| w & (1u64 << (n % 64)) != 0)
    }

    fn len(&self) -> usize {
        self.count
    }
}

/// Members of a cluster read for its dispositions and holders.
const SAMPLE: usize = 4096;

/// A member of a group: the node, the window it carries the material in, whether it was reached down a
/// lot's membership.
type Member = (NodeId, i64, i64, bool);

/// A group being walked: members with the window each carries the material in.
struct Group {
    node: usize,
    members: Vec<Member>,
}

impl TraceIndex {
    /// The graph view from `key` in `dir` (`None` for an unknown key).
    pub fn graph(&self, key: &str, dir: Direction, opts: GraphOptions) -> Option<Graph> {
        let start = self.node(key)?;
        let mut g = Graph::default();
        let mut seen = Seen::new(self.names.len());
        seen.insert(start);
        let mut next_nodes = Vec::new();
        // Kinds by name prefix: siblings share one (`…/01/{gtin}/21/`), so no name is built per visited node.
        let mut kinds: HashMap<u32, &'static str> = HashMap::new();
        g.nodes.push(self.graph_node(&[start], 0, false));
        let mut frontier = vec![Group {
            node: 0,
            members: vec![(start, BEGINNING, OPEN, false)],
        }];
        for level in 1..=opts.levels {
            let mut next = Vec::new();
            for group in frontier {
                if seen.len() >= opts.budget {
                    g.nodes[group.node].more = true;
                    continue;
                }
                let clustered = g.nodes[group.node].count > 1;
                // Reached members by (kind, relation), in first-seen order.
                let mut by_kind: Vec<(&'static str, Relation, Vec<Member>)> = Vec::new();
                for &(node, lo, hi, from_member) in &group.members {
                    self.neighbours(node, lo, hi, from_member, dir, &mut next_nodes);
                    for &(next_node, nlo, nhi, relation, via_member) in &next_nodes {
                        if !seen.insert(next_node) {
                            continue;
                        }
                        let kind = self.kind_by_prefix(next_node, &mut kinds);
                        match by_kind
                            .iter_mut()
                            .find(|(k, r, _)| *k == kind && *r == relation)
                        {
                            Some((_, _, list)) => list.push((next_node, nlo, nhi, via_member)),
                            None => by_kind.push((
                                kind,
                                relation,
                                vec![(next_node, nlo, nhi, via_member)],
                            )),
                        }
                        if seen.len() >= opts.budget {
                            break;
                        }
                    }
                }
                for (_, relation, members) in by_kind {
                    let as_cluster = clustered || members.len() > opts.cluster_over;
                    let groups: Vec<Vec<Member>> = if as_cluster {
                        vec![members]
                    } else {
                        members.into_iter().map(|m| vec![m]).collect()
                    };
                    for members in groups {
                        let ids: Vec<NodeId> = members.iter().map(|m| m.0).collect();
                        let idx = g.nodes.len();
                        g.nodes.push(self.graph_node(&ids, level, as_cluster));
                        let (from, to) = match dir {
                            Direction::Forward => (group.node, idx),
                            Direction::Backward => (idx, group.node),
                        };
                        g.edges.push((from, to, relation));
                        next.push(Group { node: idx, members });
                    }
                }
            }
            frontier = next;
            if frontier.is_empty() {
                break;
            }
        }
        // Where the walk ran out of levels, say whether there is more.
        for group in frontier {
            let more = group.members.iter().any(|&(n, lo, hi, m)| {
                self.neighbours(n, lo, hi, m, dir, &mut next_nodes);
                next_nodes.iter().any(|&(x, ..)| !seen.contains(x))
            });
            g.nodes[group.node].more |= more;
        }
        // A cluster too large to sample its containers exactly takes the count of the containers it went into.
        for i in 0..g.edges.len() {
            let (from, to, relation) = g.edges[i];
            let (parent, child) = match dir {
                Direction::Forward => (from, to),
                Direction::Backward => (to, from),
            };
            if relation == Relation::Contain
                && g.nodes[parent].count as usize > SAMPLE
                && g.nodes[parent].containers == 0
            {
                g.nodes[parent].containers = g.nodes[child].count;
            }
        }
        g.visited = seen.len();
        Some(g)
    }

    /// The kind of a node from its interned name prefix (cached per prefix).
    fn kind_by_prefix(&self, node: NodeId, cache: &mut HashMap<u32, &'static str>) -> &'static str {
        let Some(&prefix) = self.names.node_prefix.get(node as usize) else {
            return "other";
        };
        // A prefix ends where the key's last segment starts: any suffix makes a key of the same kind.
        cache
            .entry(prefix)
            .or_insert_with(|| node_kind(&format!("{}0", self.names.prefixes[prefix as usize])))
    }

    /// The nodes one step from `node` (carrying the material during `[lo, hi)`) in `dir`: (node, window,
    /// relation, whether reached down a lot's membership).
    fn neighbours(
        &self,
        node: NodeId,
        lo: i64,
        hi: i64,
        from_member: bool,
        dir: Direction,
        out: &mut Vec<(NodeId, i64, i64, Relation, bool)>,
    ) {
        let members = (dir == Direction::Backward && !from_member)
            .then(|| self.adjacency(node, Direction::Forward))
            .into_iter()
            .flatten()
            .filter(|&eid| relation_of(self.kinds[eid as usize]) == Relation::Member)
            .map(|eid| (eid, true));
        out.clear();
        for (eid, down) in self.adjacency(node, dir).map(|e| (e, false)).chain(members) {
            let kind = self.kinds[eid as usize];
            if kind & RETRACTED != 0 {
                continue;
            }
            let e = &self.edges[eid as usize];
            let relation = relation_of(kind);
            let stepped = if down {
                member_of_lot(e, lo, hi)
            } else {
                step(e, relation, dir, lo, hi)
            };
            if let Some((next, nlo, nhi)) = stepped {
                out.push((
                    next,
                    nlo,
                    nhi,
                    relation,
                    !down && relation == Relation::Member,
                ));
            }
        }
    }

    /// A node of the view standing for `ids` (one object, or a cluster).
    fn graph_node(&self, ids: &[NodeId], level: u32, cluster: bool) -> GraphNode {
        let first = ids.first().copied().unwrap_or(0);
        let key = self.name(first);
        let kind = node_kind(&key);
        let mut dispositions: HashMap<&str, u64> = HashMap::new();
        let mut holders: HashMap<&str, u64> = HashMap::new();
        let mut containers: HashSet<NodeId> = HashSet::new();
        // A large cluster's dispositions and holders are read from an even sample of its members and scaled
        // (what its colour and its holders' share need); its count stays exact.
        let step = ids.len().div_ceil(SAMPLE).max(1);
        let scale = step as u64;
        for &n in ids.iter().step_by(step) {
            if let Some(d) = self.current_disposition(n) {
                *dispositions.entry(d).or_default() += scale;
            }
            let (_, holder, outer) = self.located(n);
            if let Some(h) = holder {
                *holders.entry(h).or_default() += scale;
            }
            if cluster && step == 1 {
                // The container it went into first (a can's case), live or ended.
                if let Some(c) = self
                    .adjacency(n, Direction::Forward)
                    .find(|&eid| relation_of(self.kinds[eid as usize]) == Relation::Contain)
                    .map(|eid| self.edges[eid as usize].to)
                    .or(outer)
                {
                    containers.insert(c);
                }
            }
        }
        let sorted = |m: HashMap<&str, u64>| {
            let mut v: Vec<(String, u64)> =
                m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        let holds_units = kind == "logistic_unit"
            && self.adjacency(first, Direction::Backward).any(|eid| {
                relation_of(self.kinds[eid as usize]) == Relation::Contain
                    && node_kind(&self.name(self.edges[eid as usize].from)) == "logistic_unit"
            });
        GraphNode {
            key,
            kind,
            level,
            count: ids.len() as u64,
            containers: containers.len() as u64,
            sample: if cluster {
                ids.iter().take(20).map(|&n| self.name(n)).collect()
            } else {
                Vec::new()
            },
            holds_units,
            dispositions: sorted(dispositions),
            holders: sorted(holders),
            more: false,
        }
    }
}
