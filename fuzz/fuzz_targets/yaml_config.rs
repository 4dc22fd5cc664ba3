//! `suyuan config import` files: YAML read and checked as each kind of definition.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = serde_norway::from_str::<serde_json::Value>(text) {
            if let Ok(w) = serde_json::from_value::<suyuan_workflows::Workflow>(v.clone()) {
                let _ = w.problems();
            }
            if let Ok(r) = serde_json::from_value::<suyuan_reports::Report>(v.clone()) {
                let _ = r.problems();
            }
            if let Ok(f) = serde_json::from_value::<suyuan_forms::Form>(v.clone()) {
                let _ = f.problems();
            }
            if let Ok(r) = serde_json::from_value::<suyuan_rules::Rule>(v) {
                let _ = r.problems();
            }
        }
    }
});
