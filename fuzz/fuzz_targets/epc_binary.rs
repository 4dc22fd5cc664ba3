//! EPC binary (RFID tag memory) as hex: the bytes themselves and their hex spelling.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let hex: String = data.iter().map(|b| format!("{b:02X}")).collect();
    let _ = suyuan_core::id::rfid::decode(&hex);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = suyuan_core::id::rfid::decode(text);
    }
});
