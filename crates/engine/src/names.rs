//! What people call things: the master-data names of places, parties and products, so screens, reports and
//! the consumer page say "广州母婴商贸 配送中心" rather than `urn:epc:id:sgln:6930001.00001.0`. Read from the
//! EPCIS master data and kept for a few seconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use suyuan_store::StoreError;

use crate::Engine;

/// How long a loaded set of names is used before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(5);

const MDA: &str = "urn:epcglobal:cbv:mda:";

/// The name and whereabouts of one master-data element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Named {
    /// Its name (`name`, `regulatedProductName` or `descriptionShort`, first found).
    pub name: String,
    /// City, when given.
    pub city: Option<String>,
    /// Province or state, when given.
    pub region: Option<String>,
    /// English short description, when given.
    pub description: Option<String>,
    /// Its parent in the location hierarchy, when some element lists it as a child.
    pub parent: Option<String>,
}

/// Names by master-data id.
#[derive(Debug, Default)]
pub struct Names {
    by_id: HashMap<String, Named>,
    /// Product class patterns by GTIN-14 (Digital Links name products by GTIN).
    by_gtin: HashMap<String, String>,
}

/// The GTIN-14 of an SGTIN class pattern (`urn:epc:idpat:sgtin:6901234.012345.*` → `06901234123456`).
pub fn pattern_gtin(pattern: &str) -> Option<String> {
    let rest = pattern.strip_prefix("urn:epc:idpat:sgtin:")?;
    let mut parts = rest.split('.');
    let (prefix, item) = (parts.next()?, parts.next()?);
    let (indicator, item) = item.split_at_checked(1)?;
    let body = format!("{indicator}{prefix}{item}");
    let check = suyuan_core::gs1::check_digit(&body)?;
    (body.len() == 13).then(|| format!("{body}{check}"))
}

/// The GTIN-14 a Digital Link names (`https://id.gs1.org/01/06901234123456/21/A` → `06901234123456`).
fn link_gtin(id: &str) -> Option<&str> {
    let (_, rest) = id.split_once("/01/")?;
    let g = rest.split('/').next()?;
    (g.len() == 14 && g.bytes().all(|b| b.is_ascii_digit())).then_some(g)
}

/// The EPC class pattern a product identifier belongs to (`urn:epc:idpat:sgtin:6901234.012345.*` for an SGTIN,
/// an LGTIN class or the pattern itself).
pub fn class_pattern(id: &str) -> Option<String> {
    let rest = id
        .strip_prefix("urn:epc:id:sgtin:")
        .or_else(|| id.strip_prefix("urn:epc:class:lgtin:"))
        .or_else(|| id.strip_prefix("urn:epc:idpat:sgtin:"))?;
    let mut parts = rest.split('.');
    let (prefix, item) = (parts.next()?, parts.next()?);
    Some(format!("urn:epc:idpat:sgtin:{prefix}.{item}.*"))
}

impl Names {
    /// Names from master-data elements (every vocabulary type).
    pub fn from_elements(elements: &[suyuan_epcis::masterdata::VocabularyElement]) -> Names {
        let mut by_id: HashMap<String, Named> = HashMap::new();
        for e in elements {
            let attr = |k: &str| {
                e.attributes.iter().find_map(|(id, v)| {
                    (id.strip_prefix(MDA) == Some(k) || id == k)
                        .then(|| v.as_str().map(str::to_string))
                        .flatten()
                })
            };
            let name = attr("name")
                .or_else(|| attr("regulatedProductName"))
                .or_else(|| attr("descriptionShort"))
                .unwrap_or_default();
            let entry = by_id.entry(e.id.clone()).or_default();
            entry.name = name;
            entry.city = attr("city");
            entry.region = attr("state");
            entry.description = attr("descriptionShort");
            for c in &e.children {
                by_id.entry(c.clone()).or_default().parent = Some(e.id.clone());
            }
        }
        by_id.retain(|_, n| !n.name.is_empty() || n.parent.is_some());
        // Object keys name places and parties in their canonical Digital Link form too.
        let keyed: Vec<(String, Named)> = by_id
            .iter()
            .filter_map(|(id, n)| {
                let key = suyuan_core::projection::object_key(id);
                (key != *id).then(|| (key, n.clone()))
            })
            .collect();
        by_id.extend(keyed);
        let by_gtin = by_id
            .keys()
            .filter_map(|id| Some((pattern_gtin(id)?, id.clone())))
            .collect();
        Names { by_id, by_gtin }
    }

    /// What master data says of `id`: the element itself, or for a product instance or lot its class.
    pub fn of(&self, id: &str) -> Option<&Named> {
        self.by_id
            .get(id)
            .filter(|n| !n.name.is_empty())
            .or_else(|| match link_gtin(id) {
                Some(g) => self.by_id.get(self.by_gtin.get(g)?),
                None => self.by_id.get(&class_pattern(id)?),
            })
    }

    /// The product named by a GTIN-14, when master data has its class.
    pub fn product(&self, gtin: &str) -> Option<&Named> {
        self.by_id.get(self.by_gtin.get(gtin)?)
    }

    /// The name of `id`, or `id` itself when master data does not name it.
    pub fn label(&self, id: &str) -> String {
        self.of(id)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The region (province) of a place, from itself or the nearest ancestor that gives one.
    pub fn region(&self, id: &str) -> Option<String> {
        let mut at = id.to_string();
        for _ in 0..8 {
            let n = self.by_id.get(&at)?;
            if let Some(r) = &n.region {
                return Some(r.clone());
            }
            at = n.parent.clone()?;
        }
        None
    }

    /// Every named place (SGLN), sorted by id: (id, name).
    pub fn places(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .by_id
            .iter()
            .filter(|(id, n)| id.starts_with("urn:epc:id:sgln:") && !n.name.is_empty())
            .map(|(id, n)| (id.clone(), n.name.clone()))
            .collect();
        out.sort();
        out
    }

    /// How many elements have a name.
    pub fn len(&self) -> usize {
        self.by_id.values().filter(|n| !n.name.is_empty()).count()
    }

    /// Whether no element has a name.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The engine's cached names.
#[derive(Default)]
pub(crate) struct NameCache(tokio::sync::RwLock<Option<(Instant, Arc<Names>)>>);

impl NameCache {
    /// Drops the cached names (master data changed in this process).
    pub(crate) async fn forget(&self) {
        *self.0.write().await = None;
    }
}

impl Engine {
    /// The master-data names, read again when older than a few seconds.
    pub async fn names(&self) -> Result<Arc<Names>, StoreError> {
        if let Some((at, n)) = self.names.0.read().await.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return Ok(n.clone());
        }
        let mut slot = self.names.0.write().await;
        if let Some((at, n)) = slot.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return Ok(n.clone());
        }
        let names = Arc::new(Names::from_elements(&self.store().master_data(&[]).await?));
        *slot = Some((Instant::now(), names.clone()));
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suyuan_epcis::masterdata::VocabularyElement;

    fn element(id: &str, attrs: &[(&str, &str)], children: &[&str]) -> VocabularyElement {
        VocabularyElement {
            vtype: "urn:epcglobal:epcis:vtype:BusinessLocation".into(),
            id: id.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (format!("{MDA}{k}"), serde_json::json!(v)))
                .collect(),
            children: children.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn names_places_products_and_regions() {
        let names = Names::from_elements(&[
            element("dc", &[("name", "配送中心"), ("state", "广东")], &["store"]),
            element("store", &[("name", "门店 1")], &[]),
            element(
                "urn:epc:idpat:sgtin:6901234.012345.*",
                &[
                    ("regulatedProductName", "奶粉"),
                    ("descriptionShort", "Formula"),
                ],
                &[],
            ),
        ]);
        assert_eq!(names.label("store"), "门店 1");
        assert_eq!(names.region("store").as_deref(), Some("广东"));
        assert_eq!(names.label("urn:epc:id:sgtin:6901234.012345.X1"), "奶粉");
        assert_eq!(
            names
                .of("urn:epc:class:lgtin:6901234.012345.L1")
                .and_then(|n| n.description.clone())
                .as_deref(),
            Some("Formula")
        );
        assert_eq!(names.label("unknown"), "unknown");
        assert_eq!(
            names.label("https://id.gs1.org/01/06901234123456/21/X"),
            "奶粉"
        );
        assert_eq!(
            pattern_gtin("urn:epc:idpat:sgtin:6901234.012345.*").as_deref(),
            Some("06901234123456")
        );
        assert!(names.len() >= 3);
    }
}
