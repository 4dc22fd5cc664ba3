//! Master data import files (CSV or XLSX): read, then checked as each kind of record.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(table) = suyuan_ops::import::Table::read(data) {
        for kind in suyuan_ops::kinds::KINDS {
            let _ = suyuan_ops::import::check(kind, &table, &|_, _| false);
        }
    }
});
