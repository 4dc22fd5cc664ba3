//! EPCIS master data: vocabulary elements (a location, a read point, a product class…) with attributes and
//! children, as captured in a document's `epcisHeader.epcisMasterData`; the location hierarchy that
//! `WD_readPoint` / `WD_bizLocation` follow; and SimpleMasterDataQuery (EPCIS 2.0 §8.2.7.2).

use crate::jsonld::FieldError;
use crate::query::QueryParamError;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use suyuan_core::projection::object_key;

#[cfg(test)]
mod tests;

/// The vocabulary type of business locations.
pub const BUSINESS_LOCATION: &str = "urn:epcglobal:epcis:vtype:BusinessLocation";

/// The vocabulary type of read points.
pub const READ_POINT: &str = "urn:epcglobal:epcis:vtype:ReadPoint";

/// One vocabulary element: its vocabulary type, its id, its attributes (id → value: a string, a number or
/// an object of extension elements) and the ids of its children.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VocabularyElement {
    /// Vocabulary type URI (`urn:epcglobal:epcis:vtype:BusinessLocation`, …).
    pub vtype: String,
    /// Element id (a URI).
    pub id: String,
    /// Attributes by id, in the order given.
    pub attributes: Vec<(String, Value)>,
    /// Children ids, in the order given.
    pub children: Vec<String>,
    /// The namespace prefixes the attribute objects use (prefix → IRI), from the capturing document's
    /// `@context`, so that an answer can declare them.
    pub namespaces: BTreeMap<String, String>,
}

impl VocabularyElement {
    /// The stored form: `{"attributes": [{"id", "attribute"}…], "children": […]}`.
    pub fn to_doc(&self) -> Value {
        json!({
            "attributes": self.attributes.iter().map(|(id, v)| json!({"id": id, "attribute": v})).collect::<Vec<_>>(),
            "children": self.children,
            "namespaces": self.namespaces,
        })
    }

    /// An element from its vocabulary type, id and stored form (parts missing from `doc` are empty).
    pub fn from_doc(vtype: &str, id: &str, doc: &Value) -> VocabularyElement {
        VocabularyElement {
            vtype: vtype.to_string(),
            id: id.to_string(),
            attributes: doc
                .get("attributes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| {
                            Some((
                                x.get("id")?.as_str()?.to_string(),
                                x.get("attribute")?.clone(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            children: doc
                .get("children")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            namespaces: doc
                .get("namespaces")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// This element updated by a newer capture of it: attributes given again take the new value, new ones
    /// are added, others are kept; the children are replaced when the newer capture lists any.
    pub fn merged_with(mut self, newer: &VocabularyElement) -> VocabularyElement {
        for (id, v) in &newer.attributes {
            match self.attributes.iter_mut().find(|(k, _)| k == id) {
                Some(slot) => slot.1 = v.clone(),
                None => self.attributes.push((id.clone(), v.clone())),
            }
        }
        if !newer.children.is_empty() {
            self.children = newer.children.clone();
        }
        self.namespaces.extend(newer.namespaces.clone());
        self
    }
}

/// The vocabulary elements of a JSON-LD document — its `epcisHeader.epcisMasterData.vocabularyList`, or the
/// `vocabularyList` of a master data query's results —, checked: every type, id, attribute id and child must be
/// a URI; each error names its JSON pointer.
pub fn from_document(doc: &Value) -> Result<Vec<VocabularyElement>, Vec<FieldError>> {
    let Some((base, list)) = [
        "/epcisHeader/epcisMasterData/vocabularyList",
        "/epcisBody/queryResults/resultsBody/vocabularyList",
    ]
    .into_iter()
    .find_map(|p| doc.pointer(p).map(|l| (p, l))) else {
        return Ok(Vec::new());
    };
    let context = context_prefixes(doc);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut fail = |pointer: String, message: &str| {
        errors.push(FieldError {
            pointer,
            message: message.to_string(),
        })
    };
    let Some(vocabularies) = list.as_array() else {
        fail(base.into(), "expected an array of vocabularies");
        return Err(errors);
    };
    for (i, voc) in vocabularies.iter().enumerate() {
        let at = format!("{base}/{i}");
        let Some(vtype) = voc
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| suyuan_core::cbv::is_uri(t))
        else {
            fail(format!("{at}/type"), "expected the vocabulary type URI");
            continue;
        };
        let elements = match voc.get("vocabularyElementList") {
            None => continue,
            Some(Value::Array(a)) => a,
            Some(_) => {
                fail(
                    format!("{at}/vocabularyElementList"),
                    "expected an array of vocabulary elements",
                );
                continue;
            }
        };
        for (j, el) in elements.iter().enumerate() {
            let at = format!("{at}/vocabularyElementList/{j}");
            let Some(id) = el
                .get("id")
                .and_then(Value::as_str)
                .filter(|t| suyuan_core::cbv::is_uri(t))
            else {
                fail(format!("{at}/id"), "expected the element's id, a URI");
                continue;
            };
            let mut element = VocabularyElement {
                vtype: vtype.to_string(),
                id: id.to_string(),
                ..VocabularyElement::default()
            };
            for (k, a) in el
                .get("attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let aid = a
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|t| suyuan_core::cbv::is_uri(t));
                match (aid, a.get("attribute")) {
                    (
                        Some(aid),
                        Some(v @ (Value::String(_) | Value::Number(_) | Value::Object(_))),
                    ) => element.attributes.push((aid.to_string(), v.clone())),
                    (Some(aid), None) => element.attributes.push((aid.to_string(), json!(""))),
                    (None, _) => fail(
                        format!("{at}/attributes/{k}/id"),
                        "expected the attribute's id, a URI",
                    ),
                    (Some(_), Some(_)) => fail(
                        format!("{at}/attributes/{k}/attribute"),
                        "expected a string, a number or an object",
                    ),
                }
            }
            for (k, c) in el
                .get("children")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                match c.as_str().filter(|t| suyuan_core::cbv::is_uri(t)) {
                    Some(c) => element.children.push(c.to_string()),
                    None => fail(format!("{at}/children/{k}"), "expected a child's id, a URI"),
                }
            }
            for (_, v) in &element.attributes {
                prefixes_used(v, &context, &mut element.namespaces);
            }
            out.push(element);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The prefix → IRI definitions of a document's `@context` (its objects; remote contexts are names only).
fn context_prefixes(doc: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |c: &Value| {
        if let Some(o) = c.as_object() {
            for (k, v) in o {
                if let Some(v) = v.as_str() {
                    out.insert(k.clone(), v.to_string());
                }
            }
        }
    };
    match doc.get("@context") {
        Some(Value::Array(a)) => a.iter().for_each(&mut add),
        Some(c) => add(c),
        None => {}
    }
    out
}

/// Adds to `used` the context prefixes that keys of `v` (recursively) are written with.
fn prefixes_used(
    v: &Value,
    context: &BTreeMap<String, String>,
    used: &mut BTreeMap<String, String>,
) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if let Some((p, _)) = k.split_once(':')
                    && let Some(iri) = context.get(p)
                {
                    used.insert(p.to_string(), iri.clone());
                }
                prefixes_used(x, context, used);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| prefixes_used(x, context, used)),
        _ => {}
    }
}

/// The CBV `name` attribute of an element (`urn:epcglobal:cbv:mda:name`, or its `#name` / `cbvmda:name` forms).
pub fn name_of(e: &VocabularyElement) -> Option<&str> {
    e.attributes
        .iter()
        .find(|(id, _)| {
            matches!(
                id.as_str(),
                "urn:epcglobal:cbv:mda:name" | "urn:epcglobal:cbv:mda#name" | "cbvmda:name"
            )
        })
        .and_then(|(_, v)| v.as_str())
}

/// `vocabularyList` JSON of elements, grouped by vocabulary type in the order first met.
pub fn vocabulary_list(elements: &[VocabularyElement]) -> Value {
    let mut order: Vec<&str> = Vec::new();
    let mut by_type: HashMap<&str, Vec<Value>> = HashMap::new();
    for e in elements {
        if !by_type.contains_key(e.vtype.as_str()) {
            order.push(&e.vtype);
        }
        let mut v = Map::new();
        v.insert("id".into(), json!(e.id));
        if !e.attributes.is_empty() {
            v.insert(
                "attributes".into(),
                e.attributes
                    .iter()
                    .map(|(id, a)| json!({"id": id, "attribute": a}))
                    .collect(),
            );
        }
        if !e.children.is_empty() {
            v.insert("children".into(), json!(e.children));
        }
        by_type.entry(&e.vtype).or_default().push(Value::Object(v));
    }
    Value::Array(
        order
            .into_iter()
            .map(|t| json!({"type": t, "vocabularyElementList": by_type.remove(t).unwrap_or_default()}))
            .collect(),
    )
}

/// Parent → children over location vocabularies (business locations and read points together: a place is
/// the same place whichever field names it), by canonical key.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    children: HashMap<String, Vec<String>>,
}

impl Hierarchy {
    /// The hierarchy the elements' `children` lists define.
    pub fn of<'a>(elements: impl IntoIterator<Item = &'a VocabularyElement>) -> Hierarchy {
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for e in elements {
            let kids = children.entry(object_key(&e.id)).or_default();
            kids.extend(e.children.iter().map(|c| object_key(c)));
        }
        Hierarchy { children }
    }

    /// `roots` and all their direct or indirect descendants (each once, cycles tolerated).
    pub fn with_descendants(&self, roots: &[String]) -> Vec<String> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        let mut stack: Vec<String> = roots.iter().rev().cloned().collect();
        while let Some(k) = stack.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            if let Some(kids) = self.children.get(&k) {
                stack.extend(kids.iter().rev().cloned());
            }
            out.push(k);
        }
        out
    }
}

/// A parsed SimpleMasterDataQuery.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterDataQuery {
    /// `vocabularyName`: only elements of these vocabulary types (all when empty).
    pub vocabularies: Vec<String>,
    /// `includeAttributes` (default true).
    pub include_attributes: bool,
    /// `includeChildren` (default true).
    pub include_children: bool,
    /// `attributeNames`: only these attributes are answered (all when empty).
    pub attribute_names: Vec<String>,
    /// `EQ_name`: only these elements.
    pub names: Vec<String>,
    /// `WD_name`: only these elements and their descendants.
    pub within: Vec<String>,
    /// `HASATTR`: only elements with one of these attributes.
    pub has_attr: Vec<String>,
    /// `EQ_ATTR_<name>`: only elements whose attribute has one of the values.
    pub attr_eq: BTreeMap<String, Vec<String>>,
    /// `maxElementCount`: refuse the query when more elements match.
    pub max_element_count: Option<u64>,
}

impl MasterDataQuery {
    /// Parses query parameters (repeated or `|`-separated lists); every unknown or malformed parameter is
    /// reported.
    pub fn parse(params: &[(String, String)]) -> Result<MasterDataQuery, Vec<QueryParamError>> {
        let mut q = MasterDataQuery {
            vocabularies: Vec::new(),
            include_attributes: true,
            include_children: true,
            attribute_names: Vec::new(),
            names: Vec::new(),
            within: Vec::new(),
            has_attr: Vec::new(),
            attr_eq: BTreeMap::new(),
            max_element_count: None,
        };
        let mut errors = Vec::new();
        let list = |v: &str| -> Vec<String> {
            v.split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let boolean = |k: &str, v: &str, errors: &mut Vec<QueryParamError>| match v {
            "true" => true,
            "false" => false,
            _ => {
                errors.push(QueryParamError {
                    parameter: k.into(),
                    message: format!("expected true or false, got \"{v}\""),
                });
                true
            }
        };
        for (k, v) in params {
            match k.as_str() {
                "vocabularyName" => q.vocabularies.extend(list(v)),
                "includeAttributes" => q.include_attributes = boolean(k, v, &mut errors),
                "includeChildren" => q.include_children = boolean(k, v, &mut errors),
                "attributeNames" => q.attribute_names.extend(list(v)),
                "EQ_name" => q.names.extend(list(v)),
                "WD_name" => q.within.extend(list(v)),
                "HASATTR" => q.has_attr.extend(list(v)),
                "maxElementCount" => match v.parse::<u64>() {
                    Ok(n) => q.max_element_count = Some(n),
                    Err(_) => errors.push(QueryParamError {
                        parameter: k.clone(),
                        message: format!("expected a whole number, got \"{v}\""),
                    }),
                },
                "perPage" | "nextPageToken" => {}
                other => match other.strip_prefix("EQ_ATTR_") {
                    Some(name) if !name.is_empty() => q
                        .attr_eq
                        .entry(name.to_string())
                        .or_default()
                        .extend(list(v)),
                    _ => errors.push(QueryParamError {
                        parameter: k.clone(),
                        message: "not a SimpleMasterDataQuery parameter (vocabularyName, includeAttributes, includeChildren, attributeNames, EQ_name, WD_name, HASATTR, EQ_ATTR_<name>, maxElementCount)".into(),
                    }),
                },
            }
        }
        if errors.is_empty() {
            Ok(q)
        } else {
            Err(errors)
        }
    }

    /// The elements that answer the query, shaped by it (attributes and children left out or narrowed as
    /// asked), in the order given; `hierarchy` resolves `WD_name`.
    pub fn answer(
        &self,
        elements: &[VocabularyElement],
        hierarchy: &Hierarchy,
    ) -> Vec<VocabularyElement> {
        let within: HashSet<String> = if self.within.is_empty() {
            HashSet::new()
        } else {
            let roots: Vec<String> = self.within.iter().map(|w| object_key(w)).collect();
            hierarchy.with_descendants(&roots).into_iter().collect()
        };
        let names: HashSet<String> = self.names.iter().map(|n| object_key(n)).collect();
        elements
            .iter()
            .filter(|e| self.vocabularies.is_empty() || self.vocabularies.contains(&e.vtype))
            .filter(|e| names.is_empty() || names.contains(&object_key(&e.id)))
            .filter(|e| within.is_empty() || within.contains(&object_key(&e.id)))
            .filter(|e| {
                self.has_attr.is_empty()
                    || e.attributes
                        .iter()
                        .any(|(id, _)| self.has_attr.contains(id))
            })
            .filter(|e| {
                self.attr_eq.iter().all(|(name, values)| {
                    e.attributes
                        .iter()
                        .any(|(id, v)| id == name && values.iter().any(|x| same_value(v, x)))
                })
            })
            .map(|e| VocabularyElement {
                vtype: e.vtype.clone(),
                id: e.id.clone(),
                attributes: if self.include_attributes {
                    e.attributes
                        .iter()
                        .filter(|(id, _)| {
                            self.attribute_names.is_empty() || self.attribute_names.contains(id)
                        })
                        .cloned()
                        .collect()
                } else {
                    Vec::new()
                },
                children: if self.include_children {
                    e.children.clone()
                } else {
                    Vec::new()
                },
                namespaces: e.namespaces.clone(),
            })
            .collect()
    }
}

/// Whether an attribute value equals a query value (numbers compared as numbers).
pub(crate) fn same_value(v: &Value, x: &str) -> bool {
    match v {
        Value::String(s) => s == x,
        Value::Number(n) => x
            .parse::<f64>()
            .ok()
            .zip(n.as_f64())
            .is_some_and(|(a, b)| a == b),
        _ => false,
    }
}
