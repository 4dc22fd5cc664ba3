//! EPC pure identity and class URNs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = suyuan_core::id::epc::parse_epc_urn(text);
    }
});
