//! Whatever a scanner or a person types into a scan field, read as any GS1 form.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = suyuan_core::id::parse(text, &suyuan_core::id::ParseOptions::default());
    }
});
