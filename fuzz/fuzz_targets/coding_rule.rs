//! Coding rules: any template text, and whole rule definitions (JSON), checked and used to issue a code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let def = serde_json::json!({"template": text, "gtin": "06901234567892"});
        if let Ok(def) = serde_json::from_value::<suyuan_core::coding::RuleDef>(def) {
            let _ = def.check();
        }
    }
    if let Ok(def) = serde_json::from_slice::<suyuan_core::coding::RuleDef>(data) {
        let _ = def.check();
    }
});
