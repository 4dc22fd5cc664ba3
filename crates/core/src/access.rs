//! Who may do what: the eleven roles, the permissions (which are also the API token scopes), the one
//! permission matrix, and the row scopes of partners and regulators as pure predicates over events.

use crate::projection::object_key;
use serde_json::Value;
use std::fmt;

/// A user's role. Every user has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages users, tokens, grants and everything else.
    Admin,
    /// Configures coding rules, label templates and master data.
    Engineer,
    /// Records production on the line and prints labels.
    Operator,
    /// Records inspections.
    Inspector,
    /// Owns quality: holds, traces, recalls.
    QualityManager,
    /// Receives, stores and ships.
    Warehouse,
    /// Reads everything internal, changes nothing.
    Viewer,
    /// A trading partner: sees and captures only what was shipped to it or by it.
    Partner,
    /// A regulator: reads, within its grants only, and every read is logged.
    Regulator,
    /// A system account of an integration: captures, reads, and keeps named queries and subscriptions.
    Integrator,
    /// Anyone, unauthenticated.
    Public,
}

impl Role {
    /// Every role, in the order of the matrix.
    pub const ALL: [Role; 11] = [
        Role::Admin,
        Role::Engineer,
        Role::Operator,
        Role::Inspector,
        Role::QualityManager,
        Role::Warehouse,
        Role::Viewer,
        Role::Partner,
        Role::Regulator,
        Role::Integrator,
        Role::Public,
    ];

    /// The role's name as users type it (`quality_manager`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Engineer => "engineer",
            Role::Operator => "operator",
            Role::Inspector => "inspector",
            Role::QualityManager => "quality_manager",
            Role::Warehouse => "warehouse",
            Role::Viewer => "viewer",
            Role::Partner => "partner",
            Role::Regulator => "regulator",
            Role::Integrator => "integrator",
            Role::Public => "public",
        }
    }

    /// Parses a role name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role holds `p` (the permission matrix, read by row).
    pub fn allows(self, p: Permission) -> bool {
        p == Permission::Public || MATRIX.iter().any(|(r, ps)| *r == self && ps.contains(&p))
    }

    /// The permissions of this role, in the order of [`Permission::ALL`].
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request needs. The names double as API token scopes (`events:read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Open to anyone: health, static files, the ledger's public key and checkpoint, sign-in.
    Public,
    /// Read events, objects and their pages.
    EventsRead,
    /// Capture events.
    EventsWrite,
    /// Backward and forward trace, recall reports.
    TraceRead,
    /// Read coding rules, check codes, parse identifiers.
    CodesRead,
    /// Save coding rules, issue and revoke codes.
    CodesWrite,
    /// Read label templates, previews, barcodes and print jobs.
    LabelsRead,
    /// Save label templates and start print jobs (which issue codes).
    LabelsWrite,
    /// Named EPCIS queries and subscriptions to them (webhooks, WebSockets): create and delete.
    QueriesWrite,
    /// Inclusion and consistency proofs.
    LedgerRead,
    /// Prometheus metrics.
    MetricsRead,
    /// Change operations master data (products, BOMs, routings, locations, partners, operators).
    MasterDataWrite,
    /// Users, roles, tokens, grants and the access log.
    Admin,
}

impl Permission {
    /// Every permission except [`Permission::Public`], which needs no grant.
    pub const ALL: [Permission; 12] = [
        Permission::EventsRead,
        Permission::EventsWrite,
        Permission::TraceRead,
        Permission::CodesRead,
        Permission::CodesWrite,
        Permission::LabelsRead,
        Permission::LabelsWrite,
        Permission::QueriesWrite,
        Permission::LedgerRead,
        Permission::MetricsRead,
        Permission::MasterDataWrite,
        Permission::Admin,
    ];

    /// The scope name (`events:read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Public => "public",
            Permission::EventsRead => "events:read",
            Permission::EventsWrite => "events:write",
            Permission::TraceRead => "trace:read",
            Permission::CodesRead => "codes:read",
            Permission::CodesWrite => "codes:write",
            Permission::LabelsRead => "labels:read",
            Permission::LabelsWrite => "labels:write",
            Permission::QueriesWrite => "queries:write",
            Permission::LedgerRead => "ledger:read",
            Permission::MetricsRead => "metrics:read",
            Permission::MasterDataWrite => "masterdata:write",
            Permission::Admin => "admin",
        }
    }

    /// Parses a scope name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use Permission as P;

/// The permission matrix: every role and what it may do. [`Permission::Public`] is implied for all.
pub const MATRIX: [(Role, &[Permission]); 11] = [
    (Role::Admin, &Permission::ALL),
    (
        Role::Engineer,
        &[
            P::MasterDataWrite,
            P::EventsRead,
            P::TraceRead,
            P::CodesRead,
            P::CodesWrite,
            P::LabelsRead,
            P::LabelsWrite,
            P::LedgerRead,
            P::MetricsRead,
        ],
    ),
    (
        Role::Operator,
        &[
            P::EventsRead,
            P::EventsWrite,
            P::CodesRead,
            P::LabelsRead,
            P::LabelsWrite,
        ],
    ),
    (
        Role::Inspector,
        &[P::EventsRead, P::EventsWrite, P::TraceRead, P::CodesRead],
    ),
    (
        Role::QualityManager,
        &[
            P::EventsRead,
            P::EventsWrite,
            P::TraceRead,
            P::CodesRead,
            P::CodesWrite,
            P::LabelsRead,
            P::LedgerRead,
        ],
    ),
    (
        Role::Warehouse,
        &[
            P::EventsRead,
            P::EventsWrite,
            P::TraceRead,
            P::CodesRead,
            P::LabelsRead,
            P::LabelsWrite,
        ],
    ),
    (
        Role::Viewer,
        &[
            P::EventsRead,
            P::TraceRead,
            P::CodesRead,
            P::LabelsRead,
            P::LedgerRead,
        ],
    ),
    (
        Role::Partner,
        &[P::EventsRead, P::EventsWrite, P::LedgerRead],
    ),
    (
        Role::Regulator,
        &[P::EventsRead, P::TraceRead, P::LedgerRead],
    ),
    (
        Role::Integrator,
        &[
            P::EventsRead,
            P::EventsWrite,
            P::TraceRead,
            P::QueriesWrite,
            P::LedgerRead,
        ],
    ),
    (Role::Public, &[]),
];

/// A regulator's grant: products (GTINs), a period of event time, and an expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Grant id.
    pub id: String,
    /// GTIN-14s the grant covers.
    pub gtins: Vec<String>,
    /// Start of the covered event-time period (Unix ms, inclusive).
    pub from_ms: i64,
    /// End of the covered period (Unix ms, exclusive).
    pub to_ms: i64,
    /// When the grant stops working (Unix ms).
    pub expires_ms: i64,
}

/// What rows a principal may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    /// Everything (internal roles).
    All,
    /// A partner: events whose source, destination, read point or business location belongs to one of
    /// these GS1 company prefixes, and the objects those events name.
    Partner {
        /// The partner's GS1 company prefixes.
        prefixes: Vec<String>,
    },
    /// A regulator: events within its live grants.
    Regulator {
        /// Grants not yet expired.
        grants: Vec<Grant>,
    },
}

impl RowScope {
    /// Whether `event` (EPCIS JSON-LD) lies within this scope.
    pub fn event_visible(&self, event: &Value) -> bool {
        match self {
            RowScope::All => true,
            RowScope::Partner { prefixes } => {
                parties_of(event).any(|id| gln_of(&id).is_some_and(|g| owned(&g, prefixes)))
            }
            RowScope::Regulator { grants } => {
                let Some(t) = event
                    .get("eventTime")
                    .and_then(Value::as_str)
                    .and_then(|s| crate::time::parse_timestamp(s).ok())
                    .map(|t| crate::time::unix_millis(&t))
                else {
                    return false;
                };
                let live: Vec<&Grant> = grants
                    .iter()
                    .filter(|g| (g.from_ms..g.to_ms).contains(&t))
                    .collect();
                !live.is_empty()
                    && objects_of(event).any(|o| {
                        gtin_of(&o).is_some_and(|g| live.iter().any(|gr| gr.gtins.contains(&g)))
                    })
            }
        }
    }

    /// Whether an object may appear in a trace report of this scope: for a regulator, objects of a granted
    /// GTIN and logistic units (SSCC) that carry them; for a partner, objects of its own company prefixes.
    pub fn object_visible(&self, id: &str) -> bool {
        let key = object_key(id);
        match self {
            RowScope::All => true,
            RowScope::Partner { prefixes } => {
                gtin_of(&key).is_some_and(|g| owned(&g[1..], prefixes))
                    || sscc_of(&key).is_some_and(|s| owned(&s[1..], prefixes))
                    || gln_of(&key).is_some_and(|g| owned(&g, prefixes))
            }
            RowScope::Regulator { grants } => {
                sscc_of(&key).is_some()
                    || gtin_of(&key).is_some_and(|g| grants.iter().any(|gr| gr.gtins.contains(&g)))
            }
        }
    }

    /// Whether the principal sees everything.
    pub fn is_all(&self) -> bool {
        matches!(self, RowScope::All)
    }
}

fn owned(digits: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| digits.starts_with(p.as_str()))
}

/// Party and location ids of an event: sources, destinations, read point, business location.
fn parties_of(event: &Value) -> impl Iterator<Item = String> + '_ {
    let list = |name: &'static str, field: &'static str| {
        event
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(move |e| e.get(field).and_then(Value::as_str))
    };
    let place = |name: &'static str| {
        event
            .get(name)
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
    };
    list("sourceList", "source")
        .chain(list("destinationList", "destination"))
        .chain(place("readPoint"))
        .chain(place("bizLocation"))
        .map(str::to_string)
}

/// Every object an event names: EPCs, parents, children, inputs, outputs and quantity classes.
pub fn objects_of(event: &Value) -> impl Iterator<Item = String> + '_ {
    let strings = |name: &'static str| {
        event
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    let classes = |name: &'static str| {
        event
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|q| q.get("epcClass").and_then(Value::as_str))
    };
    strings("epcList")
        .chain(strings("childEPCs"))
        .chain(strings("inputEPCList"))
        .chain(strings("outputEPCList"))
        .chain(event.get("parentID").and_then(Value::as_str))
        .chain(classes("quantityList"))
        .chain(classes("childQuantityList"))
        .chain(classes("inputQuantityList"))
        .chain(classes("outputQuantityList"))
        .map(str::to_string)
}

/// The value of one GS1 key in a canonical Digital Link (`/01/{gtin}`).
fn key_value(uri: &str, ai: &str) -> Option<String> {
    let key = object_key(uri);
    let rest = key.strip_prefix("https://id.gs1.org/")?;
    let mut parts = rest.split('/');
    (parts.next()? == ai).then(|| parts.next().map(str::to_string))?
}

/// The GTIN-14 of a GS1-keyed object URI (SGTIN, LGTIN, class, Digital Link), if it has one.
pub fn gtin_of(uri: &str) -> Option<String> {
    key_value(uri, "01")
}

fn sscc_of(uri: &str) -> Option<String> {
    key_value(uri, "00")
}

/// The GLN of a party or location URI (SGLN, PGLN, Digital Link 414/417), if it has one.
pub fn gln_of(uri: &str) -> Option<String> {
    key_value(uri, "414").or_else(|| key_value(uri, "417"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matrix_has_one_row_per_role_and_admin_holds_everything() {
        for r in Role::ALL {
            assert_eq!(MATRIX.iter().filter(|(m, _)| *m == r).count(), 1, "{r}");
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::Admin.permissions(), Permission::ALL.to_vec());
        assert!(Role::Public.permissions().is_empty());
        assert!(Role::Public.allows(Permission::Public));
        assert!(!Role::Partner.allows(Permission::TraceRead));
        assert!(!Role::Regulator.allows(Permission::EventsWrite));
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
    }

    fn shipping() -> Value {
        json!({"type": "ObjectEvent", "eventTime": "2026-10-03T09:00:00+08:00",
               "epcList": ["urn:epc:id:sscc:6901234.2000000001"],
               "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00000"}],
               "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:6930001.00000"}]})
    }

    #[test]
    fn partners_see_what_names_their_parties_or_places() {
        let p = RowScope::Partner {
            prefixes: vec!["6930001".into()],
        };
        assert!(p.event_visible(&shipping()));
        let other = RowScope::Partner {
            prefixes: vec!["6930002".into()],
        };
        assert!(!other.event_visible(&shipping()));
        let at_dc = json!({"type": "ObjectEvent", "readPoint": {"id": "https://id.gs1.org/414/6930001000012"}});
        assert!(p.event_visible(&at_dc));
        let production =
            json!({"type": "ObjectEvent", "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"}});
        assert!(!p.event_visible(&production));
    }

    #[test]
    fn regulators_see_granted_products_within_the_period() {
        let g = Grant {
            id: "g1".into(),
            gtins: vec!["06901234123456".into()],
            from_ms: 1_790_000_000_000,
            to_ms: 1_800_000_000_000,
            expires_ms: i64::MAX,
        };
        let r = RowScope::Regulator { grants: vec![g] };
        let can = json!({"type": "ObjectEvent", "eventTime": "2026-10-03T09:00:00+08:00",
                         "epcList": ["urn:epc:id:sgtin:6901234.012345.100"]});
        assert!(r.event_visible(&can));
        let late = json!({"type": "ObjectEvent", "eventTime": "2027-12-03T09:00:00+08:00",
                          "epcList": ["urn:epc:id:sgtin:6901234.012345.100"]});
        assert!(!r.event_visible(&late));
        let other = json!({"type": "ObjectEvent", "eventTime": "2026-10-03T09:00:00+08:00",
                           "quantityList": [{"epcClass": "urn:epc:class:lgtin:6920001.000011.RM1"}]});
        assert!(!r.event_visible(&other));
        assert!(r.object_visible("https://id.gs1.org/01/06901234123456/21/100"));
        assert!(!r.object_visible("urn:epc:class:lgtin:6920001.000011.RM1"));
        assert!(r.object_visible("urn:epc:id:sscc:6901234.2000000001"));
    }
}
