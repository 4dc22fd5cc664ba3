//! EPCIS 2.0 JSON-LD capture documents: any bytes are refused with located errors or parsed, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(events) = suyuan_epcis::parse_capture(&v) {
            for e in &events {
                let _ = suyuan_epcis::event_hash(e);
            }
        }
    }
});
