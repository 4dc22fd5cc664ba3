//! Rule definitions (JSON) and CEL conditions.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(rule) = serde_json::from_slice::<suyuan_rules::Rule>(data) {
        let _ = rule.problems();
        let _ = suyuan_rules::compile(&rule);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = suyuan_rules::condition::Condition::compile(text);
    }
});
