//! GS1 Digital Link URIs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = suyuan_core::id::dl::parse_digital_link(text);
    }
});
