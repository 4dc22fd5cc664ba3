//! EPCIS XML checked against GS1's EPCIS 2.0 XML Schema (embedded, `data/epcis/EPCglobal-epcis-2_0.xsd`): the
//! content of every event list — each event's elements in the order and number the XSD's sequences and choices
//! allow, user extensions only where `xsd:any` admits them — down through every complex type the schema
//! defines. Simple-type values are left to the semantic checks and GS1's JSON schema, which also run.

use crate::jsonld::FieldError;
use crate::xml::{Element, XmlError, parse_tree};
use std::collections::HashMap;
use std::sync::OnceLock;

const XSD: &str = include_str!("../data/epcis/EPCglobal-epcis-2_0.xsd");
const XS: &str = "http://www.w3.org/2001/XMLSchema";
/// The schema's target namespace; its own elements are unqualified.
const TARGET: &str = "urn:epcglobal:epcis:xsd:2";

/// Which namespaces an `xsd:any` admits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AnyNs {
    /// `##any`.
    Any,
    /// `##other`: a namespace, not the target's and not none.
    Other,
    /// `##local`: no namespace.
    Local,
}

/// One particle of a content model, with its occurrence bounds (`max` `None` = unbounded).
#[derive(Debug, Clone)]
struct Particle {
    kind: Kind,
    min: u32,
    max: Option<u32>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// An element by local name, with its named type or inline content.
    Element {
        name: String,
        ty: Option<String>,
        inline: Option<Vec<Particle>>,
    },
    Any(AnyNs),
    Choice(Vec<Particle>),
    Sequence(Vec<Particle>),
}

/// A complex type: its base (for extensions) and its own particles.
#[derive(Debug, Clone, Default)]
struct RawType {
    base: Option<String>,
    own: Vec<Particle>,
}

/// The complex types of the schema, by local name, each with its whole content (base first) resolved once.
struct Model {
    types: HashMap<String, Vec<Particle>>,
}

fn local(qname: &str) -> String {
    qname.rsplit(':').next().unwrap_or(qname).to_string()
}

fn attr<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|a| a.0.is_none() && a.2 == name)
        .map(|a| a.3.as_str())
}

fn xs_children<'a>(e: &'a Element, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    e.children
        .iter()
        .filter(move |c| c.ns.as_deref() == Some(XS) && c.local == name)
}

fn bounds(e: &Element) -> (u32, Option<u32>) {
    let min = attr(e, "minOccurs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let max = match attr(e, "maxOccurs") {
        Some("unbounded") => None,
        Some(v) => Some(v.parse().unwrap_or(1)),
        None => Some(1),
    };
    (min, max)
}

/// The particles of a model group's children (`xsd:element`, `xsd:any`, `xsd:choice`, `xsd:sequence`).
fn particles(group: &Element) -> Vec<Particle> {
    group
        .children
        .iter()
        .filter(|c| c.ns.as_deref() == Some(XS))
        .filter_map(|c| {
            let (min, max) = bounds(c);
            let kind = match c.local.as_str() {
                "element" => Kind::Element {
                    name: attr(c, "name")
                        .or_else(|| attr(c, "ref"))
                        .map(local)
                        .unwrap_or_default(),
                    ty: attr(c, "type").map(local),
                    inline: xs_children(c, "complexType").next().map(content_of),
                },
                "any" => Kind::Any(match attr(c, "namespace").unwrap_or("##any") {
                    "##other" => AnyNs::Other,
                    "##local" => AnyNs::Local,
                    _ => AnyNs::Any,
                }),
                "choice" => Kind::Choice(particles(c)),
                "sequence" => Kind::Sequence(particles(c)),
                _ => return None,
            };
            Some(Particle { kind, min, max })
        })
        .collect()
}

/// The own particles of an anonymous or named complex type (an extension's base is added when checking).
fn content_of(ct: &Element) -> Vec<Particle> {
    raw_type(ct).own
}

fn raw_type(ct: &Element) -> RawType {
    let group = |e: &Element| {
        e.children
            .iter()
            .find(|c| {
                c.ns.as_deref() == Some(XS) && matches!(c.local.as_str(), "sequence" | "choice")
            })
            .map(|g| {
                let (min, max) = bounds(g);
                let inner = particles(g);
                vec![Particle {
                    kind: if g.local == "choice" {
                        Kind::Choice(inner)
                    } else {
                        Kind::Sequence(inner)
                    },
                    min,
                    max,
                }]
            })
            .unwrap_or_default()
    };
    if let Some(cc) = xs_children(ct, "complexContent").next() {
        if let Some(ext) = xs_children(cc, "extension").next() {
            return RawType {
                base: attr(ext, "base").map(local),
                own: group(ext),
            };
        }
        if let Some(res) = xs_children(cc, "restriction").next() {
            return RawType {
                base: None,
                own: group(res),
            };
        }
    }
    RawType {
        base: None,
        own: group(ct),
    }
}

fn model() -> &'static Option<Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (root, _) = parse_tree(XSD).ok()?;
        let raw: HashMap<String, RawType> = xs_children(&root, "complexType")
            .filter_map(|ct| attr(ct, "name").map(|n| (n.to_string(), raw_type(ct))))
            .collect();
        let types = raw
            .keys()
            .filter_map(|name| resolve(&raw, name, 0).map(|c| (name.clone(), c)))
            .collect();
        Some(Model { types })
    })
}

/// A type's whole content: its base's, then its own.
fn resolve(raw: &HashMap<String, RawType>, ty: &str, depth: u32) -> Option<Vec<Particle>> {
    let t = raw.get(ty)?;
    let mut out = match &t.base {
        Some(b) if depth < 16 => resolve(raw, b, depth + 1).unwrap_or_default(),
        _ => Vec::new(),
    };
    out.extend(t.own.iter().cloned());
    Some(out)
}

impl Model {
    /// A type's whole content.
    fn content(&self, ty: &str) -> Option<&[Particle]> {
        self.types.get(ty).map(Vec::as_slice)
    }
}

fn any_admits(ns: &AnyNs, child: &Element) -> bool {
    match ns {
        AnyNs::Any => true,
        AnyNs::Other => child.ns.as_deref().is_some_and(|n| n != TARGET),
        AnyNs::Local => child.ns.is_none(),
    }
}

/// What may come at a point of a content model, for messages.
fn names(ps: &[Particle], out: &mut Vec<String>) {
    for p in ps {
        match &p.kind {
            Kind::Element { name, .. } => out.push(format!("<{name}>")),
            Kind::Any(AnyNs::Other) => out.push("an element of your own namespace".into()),
            Kind::Any(_) => out.push("any element".into()),
            Kind::Choice(c) | Kind::Sequence(c) => names(c, out),
        }
        if p.min > 0 {
            break;
        }
    }
}

struct Checker<'m> {
    model: &'m Model,
    errors: Vec<FieldError>,
}

/// Where a content model stopped fitting: the child position and what it needed there.
struct Fail {
    pos: usize,
    expected: String,
}

/// Whether a group can match nothing at all.
fn nullable(p: &Particle) -> bool {
    match &p.kind {
        Kind::Element { .. } | Kind::Any(_) => false,
        Kind::Sequence(ps) => ps.iter().all(|q| q.min == 0 || nullable(q)),
        Kind::Choice(alts) => alts.iter().any(|q| q.min == 0 || nullable(q)),
    }
}

impl Checker<'_> {
    /// Matches one occurrence of `p` at `pos`: the position after it (checking the matched content), `None`
    /// when it does not start here, or the failure inside a group that did start here.
    fn one(
        &mut self,
        p: &Particle,
        kids: &[Element],
        pos: usize,
        path: &str,
    ) -> Result<Option<usize>, Fail> {
        Ok(match &p.kind {
            Kind::Element { name, ty, inline } => {
                let Some(c) = kids.get(pos).filter(|c| c.ns.is_none() && c.local == *name) else {
                    return Ok(None);
                };
                let model = self.model;
                let content = match (inline, ty) {
                    (Some(i), _) => Some(i.as_slice()),
                    (None, Some(t)) => model.content(t),
                    (None, None) => None,
                };
                if let Some(content) = content {
                    self.check(content, c, &format!("{path}/{}", c.local));
                }
                Some(pos + 1)
            }
            Kind::Any(ns) => kids.get(pos).filter(|c| any_admits(ns, c)).map(|_| pos + 1),
            Kind::Choice(alts) => {
                for a in alts {
                    match self.occur(a, kids, pos, path) {
                        Ok(next) if next > pos => return Ok(Some(next)),
                        Err(f) if f.pos > pos => return Err(f),
                        _ => {}
                    }
                }
                None
            }
            Kind::Sequence(ps) => match self.seq(ps, kids, pos, path) {
                Ok(next) => Some(next),
                Err(f) if f.pos > pos => return Err(f),
                Err(_) => None,
            },
        })
    }

    /// Matches `p` as often as its bounds allow.
    fn occur(
        &mut self,
        p: &Particle,
        kids: &[Element],
        mut pos: usize,
        path: &str,
    ) -> Result<usize, Fail> {
        let mut n = 0u32;
        while p.max.is_none_or(|m| n < m) {
            match self.one(p, kids, pos, path)? {
                Some(next) if next > pos => {
                    pos = next;
                    n += 1;
                }
                _ => break,
            }
        }
        if n < p.min && !(n == 0 && nullable(p)) {
            let mut want = Vec::new();
            names(std::slice::from_ref(p), &mut want);
            return Err(Fail {
                pos,
                expected: want.first().cloned().unwrap_or_default(),
            });
        }
        Ok(pos)
    }

    fn seq(
        &mut self,
        ps: &[Particle],
        kids: &[Element],
        mut pos: usize,
        path: &str,
    ) -> Result<usize, Fail> {
        for p in ps {
            pos = self.occur(p, kids, pos, path)?;
        }
        Ok(pos)
    }

    /// Checks an element's children against a content model, recording what does not fit.
    fn check(&mut self, content: &[Particle], el: &Element, path: &str) {
        let kids = &el.children;
        match self.seq(content, kids, 0, path) {
            Ok(end) => {
                if let Some(extra) = kids.get(end) {
                    let before = end
                        .checked_sub(1)
                        .and_then(|i| kids.get(i))
                        .map(|c| format!(" after <{}>", c.qualified()))
                        .unwrap_or_default();
                    self.errors.push(FieldError {
                        pointer: format!("{path}/{}", extra.local),
                        message: format!(
                            "does not match GS1's EPCIS 2.0 XML schema: <{}> is not allowed{before} in <{}> \
                             (the schema fixes the order of an event's elements)",
                            extra.qualified(),
                            el.local
                        ),
                    });
                }
            }
            Err(f) => {
                let found = kids.get(f.pos).map_or("nothing more".to_string(), |c| {
                    format!("<{}>", c.qualified())
                });
                self.errors.push(FieldError {
                    pointer: kids
                        .get(f.pos)
                        .map_or(path.to_string(), |c| format!("{path}/{}", c.local)),
                    message: format!(
                        "does not match GS1's EPCIS 2.0 XML schema: <{}> needs {} here, found {found}",
                        el.local, f.expected
                    ),
                });
            }
        }
    }
}

/// The event lists of an EPCIS XML document (or one bare event) checked against GS1's XSD; each finding is
/// located as the JSON-LD form would locate it (`/epcisBody/eventList/{i}/…`). An unreadable document is an
/// error of its own.
pub fn violations(text: &str) -> Result<Vec<FieldError>, XmlError> {
    let (root, _) = parse_tree(text)?;
    Ok(violations_of(&root))
}

/// [`violations`] of a document already read.
pub(crate) fn violations_of(root: &Element) -> Vec<FieldError> {
    let Some(model) = model() else {
        return Vec::new();
    };
    let mut checker = Checker {
        model,
        errors: Vec::new(),
    };
    let event_type = |name: &str| format!("{name}Type");
    let is_event = suyuan_core::event::EventType::parse(&root.local).is_some();
    if is_event && root.ns.is_none() {
        if let Some(content) = model.content(&event_type(&root.local)) {
            checker.check(content, root, "");
        }
        return checker.errors;
    }
    // Event lists wherever the document has them (capture documents, query results).
    let mut lists: Vec<&Element> = Vec::new();
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        if e.ns.is_none() && e.local == "EventList" {
            lists.push(e);
        } else {
            stack.extend(e.children.iter());
        }
    }
    for list in lists {
        // Each event on its own, so that findings name the event's index as the JSON-LD form counts it.
        let mut i = 0;
        for c in &list.children {
            let events: Vec<&Element> = if c.ns.is_none() && c.local == "extension" {
                c.children.iter().collect()
            } else {
                vec![c]
            };
            for ev in events {
                let path = format!("/epcisBody/eventList/{i}");
                match model.content(&event_type(&ev.local)) {
                    Some(content) if ev.ns.is_none() => checker.check(content, ev, &path),
                    _ => checker.errors.push(FieldError {
                        pointer: path,
                        message: format!(
                            "does not match GS1's EPCIS 2.0 XML schema: <{}> is not an EPCIS event",
                            ev.qualified()
                        ),
                    }),
                }
                i += 1;
            }
        }
    }
    checker.errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(event: &str) -> String {
        format!(
            r#"<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://ex.org/"
                schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>{event}</EventList></EPCISBody></epcis:EPCISDocument>"#
        )
    }

    #[test]
    fn the_schema_loads_and_knows_the_event_types() {
        let m = model().as_ref().expect("XSD parses");
        for t in [
            "ObjectEventType",
            "AggregationEventType",
            "TransactionEventType",
            "TransformationEventType",
            "AssociationEventType",
        ] {
            let c = m.content(t).expect(t);
            assert!(c.len() >= 2, "{t}: base and own content");
        }
    }

    #[test]
    fn elements_in_the_schemas_order_pass_and_out_of_order_ones_are_located() {
        let ok = doc(
            "<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\
             <epcList><epc>urn:epc:id:sgtin:1.2.3</epc></epcList><action>OBSERVE</action>\
             <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep><readPoint><id>urn:epc:id:sgln:1.2.0</id></readPoint>\
             <ex:note>x</ex:note></ObjectEvent>",
        );
        assert_eq!(violations(&ok).expect("readable"), []);
        let swapped = doc(
            "<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\
             <epcList/><bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep><action>OBSERVE</action></ObjectEvent>",
        );
        let v = violations(&swapped).expect("readable");
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].pointer.starts_with("/epcisBody/eventList/0"), "{v:?}");
        assert!(v[0].message.contains("<action>"), "{v:?}");
        let nested = doc(
            "<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\
             <epcList/><action>ADD</action><readPoint><ex:x>1</ex:x><id>urn:epc:id:sgln:1.2.0</id></readPoint></ObjectEvent>",
        );
        let v = violations(&nested).expect("readable");
        assert!(v.iter().any(|f| f.pointer.contains("readPoint")), "{v:?}");
        let unknown = doc("<QuantityEvent/>");
        assert!(!violations(&unknown).expect("readable").is_empty());
    }
}
