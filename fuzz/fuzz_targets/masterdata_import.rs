//! Master data import files (CSV or XLSX): read, then checked as each kind of record.
//!
//! `Table::read` answers a panic inside calamine (a third-party parser: fuzzing found an overflow on an absurd
//! cell reference) as an unreadable file. libFuzzer's hook aborts on every panic before it can be caught, so
//! this target lets calamine's own panics unwind to that guard, and still aborts on any other.
#![no_main]

static HOOK: std::sync::Once = std::sync::Once::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().contains("/calamine-"))
            {
                return;
            }
            abort(info);
        }));
    });
    if let Ok(table) = suyuan_ops::import::Table::read(data) {
        for kind in suyuan_ops::kinds::KINDS {
            let _ = suyuan_ops::import::check(kind, &table, &|_, _| false);
        }
    }
});
