//! Counting the index's objects by where they stand now: the dashboard's "objects by disposition" and its
//! drill-down list, read from the whereabouts kept beside the genealogy without touching the store.

use super::*;

impl TraceIndex {
    /// The disposition a node stands in now: the freshest among its own and its containers' (a can in a
    /// shipped case is in transit).
    pub fn current_disposition(&self, node: NodeId) -> Option<&str> {
        let s = &self.states;
        let mut best: Option<(u64, u32)> = None;
        let mut at = node;
        for _ in 0..17 {
            let i = at as usize;
            if let Some(&d) = s.disposition.get(i).filter(|&&d| d != NONE) {
                let seq = s.last_seq.get(i).copied().unwrap_or(0);
                if best.is_none_or(|(b, _)| seq > b) {
                    best = Some((seq, d));
                }
            }
            match s.container.get(i) {
                Some(&c) if c != NONE && c != node => at = c,
                _ => break,
            }
        }
        best.and_then(|(_, d)| s.values.get(d))
    }

    /// How many objects stand in each disposition now (objects no event gave a disposition are left out),
    /// most first.
    pub fn disposition_counts(&self) -> Vec<(String, u64)> {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for node in 0..self.states.disposition.len() as NodeId {
            if let Some(d) = self.current_disposition(node) {
                *counts.entry(d).or_default() += 1;
            }
        }
        let mut out: Vec<(String, u64)> = counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Up to `limit` objects standing in `disposition` now (the value as stored), most recently touched
    /// first, with the total.
    pub fn in_disposition(&self, disposition: &str, limit: usize) -> (Vec<String>, u64) {
        let mut hits: Vec<(u64, NodeId)> = Vec::new();
        let mut total = 0u64;
        for node in 0..self.states.disposition.len() as NodeId {
            if self.current_disposition(node) == Some(disposition) {
                total += 1;
                hits.push((
                    self.states
                        .last_seq
                        .get(node as usize)
                        .copied()
                        .unwrap_or(0),
                    node,
                ));
            }
        }
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        let list = hits
            .into_iter()
            .take(limit)
            .map(|(_, n)| self.name(n))
            .collect();
        (list, total)
    }
}

#[cfg(test)]
mod tests {
    use crate::TraceIndex;
    use suyuan_core::Event;

    fn event(v: serde_json::Value) -> Event {
        suyuan_epcis::jsonld::parse_stored(&v)
            .expect("event")
            .pop()
            .expect("one")
    }

    #[test]
    fn a_packed_can_takes_its_case_disposition() {
        let mut ix = TraceIndex::new();
        let t = |m: u32| format!("2026-10-01T10:{m:02}:00+08:00");
        let base = |m: u32| serde_json::json!({"eventTime": t(m), "eventTimeZoneOffset": "+08:00", "eventID": format!("ni:///sha-256;{m}")});
        let mut a = base(1);
        a.as_object_mut().expect("object").extend(
            serde_json::json!({"type": "ObjectEvent", "action": "ADD", "epcList": ["urn:epc:id:sgtin:6901234.012345.A", "urn:epc:id:sgtin:6901234.012345.B"], "disposition": "active"})
                .as_object()
                .expect("object")
                .clone(),
        );
        ix.apply(&event(a), "e1", 1);
        let mut b = base(2);
        b.as_object_mut().expect("object").extend(
            serde_json::json!({"type": "AggregationEvent", "action": "ADD", "parentID": "urn:epc:id:sscc:6901234.0000000001", "childEPCs": ["urn:epc:id:sgtin:6901234.012345.A"]})
                .as_object()
                .expect("object")
                .clone(),
        );
        ix.apply(&event(b), "e2", 2);
        let mut c = base(3);
        c.as_object_mut().expect("object").extend(
            serde_json::json!({"type": "ObjectEvent", "action": "OBSERVE", "epcList": ["urn:epc:id:sscc:6901234.0000000001"], "bizStep": "shipping", "disposition": "in_transit"})
                .as_object()
                .expect("object")
                .clone(),
        );
        ix.apply(&event(c), "e3", 3);
        let counts = ix.disposition_counts();
        let of = |d: &str| counts.iter().find(|(k, _)| k.ends_with(d)).map(|x| x.1);
        assert_eq!(of("in_transit"), Some(2), "{counts:?}");
        assert_eq!(of("active"), Some(1), "{counts:?}");
        let (list, total) = ix.in_disposition(&counts[0].0, 10);
        assert_eq!(total, 2);
        assert!(list.iter().any(|n| n.ends_with("/21/A")), "{list:?}");
    }
}
