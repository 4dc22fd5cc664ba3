//! `suyuan bench load`: a short mixed load on a server child answers every request and reports the server's
//! memory, the trace index's parts included.

use super::bin;
use serde_json::Value;

#[test]
fn a_short_load_answers_every_request_and_reports_memory_by_part() {
    let out = bin()
        .args([
            "bench",
            "load",
            "--json",
            "--events",
            "3000",
            "--seconds",
            "6",
        ])
        .args(["--warm-up", "2", "--rates", "5,1,2,2,1,2,1"])
        .output()
        .expect("bench load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON report last in:\n{stdout}"));
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["warm_up_s"], 2, "{report}");
    for kind in [
        "capture_single",
        "trace_forward",
        "consumer_scan",
        "dashboard",
    ] {
        assert!(
            report[kind]["requests"].as_u64().is_some_and(|n| n > 0),
            "no {kind} requests in {report}"
        );
    }
    assert!(
        report["heap_start_mb"].as_f64().is_some_and(|m| m > 0.0),
        "{report}"
    );
    for part in ["genealogy", "whereabouts"] {
        assert!(
            report["parts_end_mb"][part].as_f64().is_some(),
            "the server's /metrics gave no {part} in {report}"
        );
    }
}
