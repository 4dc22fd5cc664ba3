//! Form definitions and submissions: a definition is checked, then the same bytes are filled into it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(form) = serde_json::from_slice::<suyuan_forms::Form>(data) {
        let _ = form.problems();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
            let _ = suyuan_forms::check(&form, &v, &Default::default());
        }
    }
});
