//! Holds: which objects each open hold keeps, and which holds keep each object, so that releasing a hold
//! (or part of it, after a partial rework) frees exactly what it held and nothing another open hold
//! still holds.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    /// Its identifier.
    pub id: String,
    /// Why it was placed.
    pub reason: String,
    /// The nonconformance report it belongs to, if any.
    pub ncr: Option<String>,
    /// The object it was placed on (the failed lot, or what was held by hand).
    pub origin: String,
    /// Who placed it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Objects it still keeps.
    pub objects: Vec<String>,
    /// Objects it kept that were released.
    pub released: Vec<String>,
    /// Whether it is still open.
    pub open: bool,
}

/// Every hold and the open holds on each object.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holds {
    holds: BTreeMap<String, Hold>,
    on: HashMap<String, Vec<String>>,
}

impl Holds {
    /// Records a hold placed on `objects` (duplicates dropped).
    /// A hold placed again (its objects came in several events) keeps the objects of each.
    pub fn place(&mut self, hold: Hold) {
        let id = hold.id.clone();
        let entry = self.holds.entry(id.clone()).or_insert_with(|| Hold {
            objects: Vec::new(),
            ..hold.clone()
        });
        entry.open = true;
        let mut seen: HashSet<String> = entry.objects.iter().cloned().collect();
        for o in hold.objects {
            if seen.insert(o.clone()) {
                let list = self.on.entry(o.clone()).or_default();
                if !list.contains(&id) {
                    list.push(id.clone());
                }
                entry.objects.push(o);
            }
        }
    }

    /// What releasing `hold` (all of it, or only `part`) would free: its objects that no other open hold
    /// keeps. Objects the hold does not keep are left out.
    pub fn freed_by(&self, hold: &str, part: Option<&[String]>) -> Vec<String> {
        let Some(h) = self.holds.get(hold).filter(|h| h.open) else {
            return Vec::new();
        };
        let wanted: Option<HashSet<&str>> = part.map(|p| p.iter().map(String::as_str).collect());
        h.objects
            .iter()
            .filter(|o| wanted.as_ref().is_none_or(|w| w.contains(o.as_str())))
            .filter(|o| {
                self.on
                    .get(*o)
                    .is_none_or(|hs| hs.iter().all(|x| x == hold))
            })
            .cloned()
            .collect()
    }

    /// Records the release of `hold` (all of it, or `part`); the hold closes when it keeps nothing.
    pub fn release(&mut self, hold: &str, part: Option<&[String]>) {
        let Some(h) = self.holds.get_mut(hold) else {
            return;
        };
        let wanted: Option<HashSet<String>> = part.map(|p| p.iter().cloned().collect());
        let (gone, kept): (Vec<String>, Vec<String>) = h
            .objects
            .drain(..)
            .partition(|o| wanted.as_ref().is_none_or(|w| w.contains(o)));
        h.objects = kept;
        h.open = !h.objects.is_empty();
        for o in &gone {
            if let Some(list) = self.on.get_mut(o) {
                list.retain(|x| x != hold);
                if list.is_empty() {
                    self.on.remove(o);
                }
            }
        }
        h.released.extend(gone);
    }

    /// The open holds keeping `object`.
    pub fn on(&self, object: &str) -> Vec<&Hold> {
        self.on
            .get(object)
            .map(|ids| ids.iter().filter_map(|i| self.holds.get(i)).collect())
            .unwrap_or_default()
    }

    /// Whether any open hold keeps `object`.
    pub fn is_held(&self, object: &str) -> bool {
        self.on.contains_key(object)
    }

    /// The hold `id`.
    pub fn get(&self, id: &str) -> Option<&Hold> {
        self.holds.get(id)
    }

    /// Every hold, oldest identifier first.
    pub fn all(&self) -> impl Iterator<Item = &Hold> {
        self.holds.values()
    }

    /// How many objects are held by at least one open hold.
    pub fn held_objects(&self) -> usize {
        self.on.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(id: &str, objects: &[&str]) -> Hold {
        Hold {
            id: id.into(),
            reason: "test".into(),
            ncr: None,
            origin: objects[0].into(),
            by: "qm".into(),
            at: "2026-10-12T08:00:00Z".into(),
            objects: objects.iter().map(|s| s.to_string()).collect(),
            released: Vec::new(),
            open: true,
        }
    }

    #[test]
    fn releasing_frees_only_what_no_other_hold_keeps() {
        let mut h = Holds::default();
        h.place(hold("H1", &["lot", "can1", "can2", "case"]));
        h.place(hold("H2", &["can2", "x"]));
        assert_eq!(h.freed_by("H1", None), vec!["lot", "can1", "case"]);
        h.release("H1", None);
        assert!(!h.get("H1").expect("hold").open);
        assert!(h.is_held("can2"));
        assert!(!h.is_held("can1"));
        assert_eq!(h.freed_by("H2", None), vec!["can2", "x"]);
    }

    #[test]
    fn a_partial_release_keeps_the_rest_on_hold() {
        let mut h = Holds::default();
        h.place(hold("H1", &["lot", "can1", "can2"]));
        let part = vec!["can1".to_string(), "elsewhere".to_string()];
        assert_eq!(h.freed_by("H1", Some(&part)), vec!["can1"]);
        h.release("H1", Some(&part));
        let kept = h.get("H1").expect("hold");
        assert!(kept.open);
        assert_eq!(kept.objects, vec!["lot", "can2"]);
        assert_eq!(kept.released, vec!["can1"]);
        assert_eq!(h.on("can2").len(), 1);
        assert_eq!(h.held_objects(), 2);
    }
}
