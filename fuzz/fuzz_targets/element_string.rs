//! GS1 element strings, bracketed `(01)…(21)…` and raw with FNC1 (GS) separators.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = suyuan_core::id::parse_element_string(text);
    }
});
