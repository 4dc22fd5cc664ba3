//! Helpers shared by the engine's integration tests.

/// The demo plant's events (receipts, work orders, inspections, holds, shipments) in capture order.
pub fn demo_events(seed: u64, days: u32) -> Vec<suyuan_core::Event> {
    let mut values = Vec::new();
    suyuan_demo::generate_events(
        suyuan_demo::DemoConfig {
            seed,
            scale: 1,
            days,
        },
        &mut |v| values.push(v),
    );
    values
        .iter()
        .map(|v| suyuan_epcis::parse_capture(v).expect("valid").remove(0))
        .collect()
}
