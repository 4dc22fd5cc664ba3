//! EPCIS 2.0 XML documents: read into JSON-LD and parsed, or refused with a message.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(doc) = suyuan_epcis::xml::document_from_xml(text) {
            let _ = suyuan_epcis::parse_capture(&doc);
        }
    }
});
