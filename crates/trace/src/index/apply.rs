//! Applying events to the index: edges opened and closed in time, whereabouts, retractions of declared
//! errors, and compaction.

#[allow(unused_imports)]
use super::*;

impl TraceIndex {
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
    pub(super) fn apply_whereabouts(&mut self, e: &Event, seq: u64) {
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
    pub(super) fn maybe_compact(&mut self) {
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

    pub(super) fn fold(&mut self) {
        let n = self.names.len();
        self.out.compact(n);
        self.inn.compact(n);
    }

    pub(super) fn end(&mut self, id: u32, t: i64, seq: u64) {
        let e = &mut self.edges[id as usize];
        e.end_ms = t.max(e.start_ms);
        self.end_seqs.insert(id, seq);
    }

    pub(super) fn log_close(
        &mut self,
        parent: NodeId,
        relation: Relation,
        seq: u64,
        t: i64,
        child: NodeId,
    ) {
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
    pub(super) fn recompute_end(&mut self, id: u32) {
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
}
