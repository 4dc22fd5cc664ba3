//! EPCIS master data documents (vocabularies in the header).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = suyuan_epcis::masterdata::from_document(&v);
    }
});
