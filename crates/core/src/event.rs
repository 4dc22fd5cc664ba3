//! The EPCIS 2.0 event model: one struct for all five event types (which fields a type allows is checked
//! when parsing), typed where Suyuan reasons about a field, ordered JSON maps for extensions and sensor data.

use serde_json::{Map, Value};

/// JSON object with preserved key order, used for extension fields.
pub type Extensions = Map<String, Value>;

/// The five EPCIS 2.0 event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// What happened to objects (observe, add, delete).
    Object,
    /// Children packed into or taken out of a parent.
    Aggregation,
    /// Inputs consumed, outputs produced.
    Transformation,
    /// Objects associated with a parent (e.g. a sensor with an asset).
    Association,
    /// Objects tied to business transactions.
    Transaction,
}

impl EventType {
    /// Every event type, in the order of the standard.
    pub const ALL: [EventType; 5] = [
        EventType::Object,
        EventType::Aggregation,
        EventType::Transaction,
        EventType::Transformation,
        EventType::Association,
    ];

    /// The JSON-LD `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Object => "ObjectEvent",
            EventType::Aggregation => "AggregationEvent",
            EventType::Transformation => "TransformationEvent",
            EventType::Association => "AssociationEvent",
            EventType::Transaction => "TransactionEvent",
        }
    }

    /// Parses the JSON-LD `type` value.
    pub fn parse(s: &str) -> Option<Self> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The EPCIS `action` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Objects came into being or were added to a parent.
    Add,
    /// Objects were seen, nothing changed in their relations.
    Observe,
    /// Objects ended or were removed from a parent.
    Delete,
}

impl Action {
    /// The JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "ADD",
            Action::Observe => "OBSERVE",
            Action::Delete => "DELETE",
        }
    }

    /// Parses the JSON value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ADD" => Some(Action::Add),
            "OBSERVE" => Some(Action::Observe),
            "DELETE" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// A class-level quantity: an EPC class (or LGTIN) with an optional quantity and unit of measure.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityElement {
    /// The class URI (EPC class, pattern or Digital Link).
    pub epc_class: String,
    /// The quantity, kept as the JSON number given.
    pub quantity: Option<serde_json::Number>,
    /// UN/ECE Recommendation 20 unit code.
    pub uom: Option<String>,
}

/// A business transaction reference.
#[derive(Debug, Clone, PartialEq)]
pub struct BizTransaction {
    /// Transaction type (bare CBV value or URI).
    pub kind: Option<String>,
    /// Transaction identifier URI.
    pub id: String,
}

/// A source or destination party or location.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDest {
    /// Source/destination type (bare CBV value or URI).
    pub kind: String,
    /// The party or location URI.
    pub id: String,
}

/// A read point or business location, with extension fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// The location URI.
    pub id: String,
    /// Extension fields inside the location.
    pub extensions: Extensions,
}

/// Persistent dispositions set and unset by an event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersistentDisposition {
    /// Dispositions that now apply.
    pub set: Vec<String>,
    /// Dispositions that no longer apply.
    pub unset: Vec<String>,
}

/// An error declaration: this event corrects an earlier one with the same eventID.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDeclaration {
    /// When the error was declared (RFC 3339, as given).
    pub declaration_time: String,
    /// Reason (bare CBV value or URI).
    pub reason: Option<String>,
    /// Events that correct the erroneous one.
    pub corrective_event_ids: Vec<String>,
    /// Extension fields.
    pub extensions: Extensions,
}

/// One sensor element: optional metadata and one or more reports, each an ordered map of its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorElement {
    /// `sensorMetadata` attributes (validated, values normalised).
    pub metadata: Option<Extensions>,
    /// `sensorReport` entries (validated, values normalised).
    pub reports: Vec<Extensions>,
    /// Extension fields of the element itself.
    pub extensions: Extensions,
}

/// An EPCIS 2.0 event, normalised: CBV values in bare form, everything else as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Event type.
    pub event_type: EventType,
    /// The eventID; Suyuan fills in the event hash when a capture has none.
    pub event_id: Option<String>,
    /// When the event happened (RFC 3339 as given).
    pub event_time: String,
    /// The local offset at the place of the event.
    pub event_time_zone_offset: String,
    /// When the event was recorded, as sent by the client (Suyuan keeps its own record time in the ledger).
    pub record_time: Option<String>,
    /// Certification information: one or more URIs (a string or an array in JSON).
    pub certification_info: Option<Value>,
    /// Error declaration, for corrections.
    pub error_declaration: Option<ErrorDeclaration>,
    /// Instance-level objects (Object and Transaction events).
    pub epc_list: Vec<String>,
    /// The parent (Aggregation, Association, Transaction events).
    pub parent_id: Option<String>,
    /// Children (Aggregation and Association events).
    pub child_epcs: Vec<String>,
    /// Consumed instances (Transformation).
    pub input_epc_list: Vec<String>,
    /// Produced instances (Transformation).
    pub output_epc_list: Vec<String>,
    /// Class-level objects (Object and Transaction events).
    pub quantity_list: Vec<QuantityElement>,
    /// Class-level children (Aggregation and Association events).
    pub child_quantity_list: Vec<QuantityElement>,
    /// Consumed quantities (Transformation).
    pub input_quantity_list: Vec<QuantityElement>,
    /// Produced quantities (Transformation).
    pub output_quantity_list: Vec<QuantityElement>,
    /// Action (absent only in Transformation events).
    pub action: Option<Action>,
    /// Transformation identifier, e.g. the work order.
    pub transformation_id: Option<String>,
    /// Business step.
    pub biz_step: Option<String>,
    /// Disposition.
    pub disposition: Option<String>,
    /// Persistent disposition changes.
    pub persistent_disposition: Option<PersistentDisposition>,
    /// Where the event was observed.
    pub read_point: Option<Location>,
    /// Where the objects are after the event.
    pub biz_location: Option<Location>,
    /// Business transactions.
    pub biz_transaction_list: Vec<BizTransaction>,
    /// Sources.
    pub source_list: Vec<SourceDest>,
    /// Destinations.
    pub destination_list: Vec<SourceDest>,
    /// Sensor data.
    pub sensor_element_list: Vec<SensorElement>,
    /// Instance/lot master data.
    pub ilmd: Option<Extensions>,
    /// User extension fields at event level, keys as given (prefixed).
    pub extensions: Extensions,
    /// Namespace prefixes used by this event's extension keys, prefix → IRI.
    pub namespaces: Vec<(String, String)>,
}

impl Event {
    /// A new event of `event_type` at `event_time` with every optional field empty.
    pub fn new(
        event_type: EventType,
        event_time: impl Into<String>,
        offset: impl Into<String>,
    ) -> Self {
        Event {
            event_type,
            event_id: None,
            event_time: event_time.into(),
            event_time_zone_offset: offset.into(),
            record_time: None,
            certification_info: None,
            error_declaration: None,
            epc_list: Vec::new(),
            parent_id: None,
            child_epcs: Vec::new(),
            input_epc_list: Vec::new(),
            output_epc_list: Vec::new(),
            quantity_list: Vec::new(),
            child_quantity_list: Vec::new(),
            input_quantity_list: Vec::new(),
            output_quantity_list: Vec::new(),
            action: None,
            transformation_id: None,
            biz_step: None,
            disposition: None,
            persistent_disposition: None,
            read_point: None,
            biz_location: None,
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
            sensor_element_list: Vec::new(),
            ilmd: None,
            extensions: Extensions::new(),
            namespaces: Vec::new(),
        }
    }

    /// Children (instances, then class-level quantities) of an Aggregation or Association event.
    pub fn children(&self) -> impl Iterator<Item = &str> {
        self.child_epcs.iter().map(String::as_str).chain(
            self.child_quantity_list
                .iter()
                .map(|q| q.epc_class.as_str()),
        )
    }

    /// Inputs (instances, then classes) of a Transformation event.
    pub fn inputs(&self) -> impl Iterator<Item = &str> {
        self.input_epc_list.iter().map(String::as_str).chain(
            self.input_quantity_list
                .iter()
                .map(|q| q.epc_class.as_str()),
        )
    }

    /// Outputs (instances, then classes) of a Transformation event.
    pub fn outputs(&self) -> impl Iterator<Item = &str> {
        self.output_epc_list.iter().map(String::as_str).chain(
            self.output_quantity_list
                .iter()
                .map(|q| q.epc_class.as_str()),
        )
    }

    /// Every object URI this event names (EPCs, parent, children, inputs, outputs, classes), in field order.
    pub fn object_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        ids.extend(self.epc_list.iter().map(String::as_str));
        ids.extend(self.parent_id.as_deref());
        ids.extend(self.child_epcs.iter().map(String::as_str));
        ids.extend(self.input_epc_list.iter().map(String::as_str));
        ids.extend(self.output_epc_list.iter().map(String::as_str));
        ids.extend(self.quantity_list.iter().map(|q| q.epc_class.as_str()));
        ids.extend(
            self.child_quantity_list
                .iter()
                .map(|q| q.epc_class.as_str()),
        );
        ids.extend(
            self.input_quantity_list
                .iter()
                .map(|q| q.epc_class.as_str()),
        );
        ids.extend(
            self.output_quantity_list
                .iter()
                .map(|q| q.epc_class.as_str()),
        );
        ids
    }
}
