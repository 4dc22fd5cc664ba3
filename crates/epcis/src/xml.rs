//! EPCIS 2.0 XML documents (and 1.x-style `extension` / `baseExtension` wrappers) read into the JSON-LD
//! document form, so that one parser, one validator and one event hash serve both syntaxes. Extension
//! elements keep their namespace and prefix (`prefix:localName`, the prefix declared in `@context`).

use quick_xml::NsReader;
use quick_xml::events::Event as XmlEvent;
use quick_xml::name::ResolveResult;
use serde_json::{Map, Value, json};
use suyuan_core::cbv::Vocab;

mod read;
mod read_event;
mod write;

pub use read::*;
use read_event::*;
pub use write::*;

/// The EPCIS 2.0 JSON-LD context every converted document names first.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Why an XML document could not be read; nothing of it was used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XML: {0}")]
pub struct XmlError(pub String);
