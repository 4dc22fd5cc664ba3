//! Label templates (JSON): read and checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(t) = suyuan_labels::LabelTemplate::from_json(&v) {
            let _ = t.check();
        }
    }
});
