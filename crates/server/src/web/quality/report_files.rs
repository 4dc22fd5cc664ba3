//! The batch quality report as the reader sees it — facts and tables with headers in their language —
//! and the same content as an A4 PDF (`suyuan_labels::document`) and an XLSX workbook (one sheet per
//! table, codes and hashes as text).

use serde_json::Value;
use suyuan_engine::operations::master::Records;
use suyuan_engine::quality::InspectionRecord;
use suyuan_engine::quality::report::BatchReport;

use super::{short, word};
pub use crate::web::documents::{Content, Section, pdf, xlsx};
use crate::web::i18n::{Lang, Tr};
use crate::web::pages::friendly_time;

fn inspection_rows(tr: Tr, list: &[InspectionRecord], with_object: bool) -> Vec<Vec<String>> {
    list.iter()
        .map(|i| {
            let mut row = vec![friendly_time(&i.at), i.stage.to_uppercase(), i.plan.clone()];
            if with_object {
                row.push(i.lot.clone().unwrap_or_else(|| short(&i.object)));
            }
            row.extend([
                format!("{} / {}", i.sample_size, i.lot_size),
                tr.t(if i.accepted {
                    "q.accepted"
                } else {
                    "q.rejected"
                })
                .to_string(),
                i.by_class
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(c, n)| format!("{} {n}", word(tr, "q.class", c)))
                    .collect::<Vec<_>>()
                    .join("，"),
                i.failing.join("，"),
                [Some(i.inspector.clone()), i.instrument.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                i.ncr.clone().unwrap_or_default(),
                super::inspect::files(i)
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>()
                    .join("，"),
            ]);
            row
        })
        .collect()
}

fn inspection_columns(tr: Tr, with_object: bool) -> Vec<(String, f32)> {
    let mut c = vec![
        (tr.t("q.time").to_string(), 1.6),
        (tr.t("q.stage").to_string(), 0.7),
        (tr.t("q.plan").to_string(), 1.0),
    ];
    if with_object {
        c.push((tr.t("q.object").to_string(), 1.2));
    }
    c.extend([
        (
            format!("{} / {}", tr.t("q.sample"), tr.t("q.lot_size")),
            1.0,
        ),
        (tr.t("q.result").to_string(), 1.0),
        (tr.t("q.defects").to_string(), 1.0),
        (tr.t("q.characteristic").to_string(), 1.6),
        (tr.t("q.inspector").to_string(), 1.3),
        (tr.t("q.ncr").to_string(), 1.2),
        (tr.t("q.attachments").to_string(), 1.0),
    ]);
    c
}

/// The report's content in the reader's language.
pub fn content(r: &BatchReport, tr: Tr, records: &Records) -> Content {
    let english = tr.lang == Lang::En;
    let (product, lot_no) = suyuan_ops::facts::product_and_lot(&r.lot).unwrap_or_default();
    let mut facts = vec![
        (tr.t("q.report.lot").to_string(), lot_no.unwrap_or_default()),
        (
            tr.t("q.report.product").to_string(),
            format!("{} {product}", records.label("product", &product, english)),
        ),
        ("ID".to_string(), r.lot.clone()),
        (
            tr.t("q.report.generated").to_string(),
            friendly_time(&suyuan_core::time::format_utc_millis(chrono::Utc::now())),
        ),
    ];
    facts.push((
        tr.t("q.report.checkpoint").to_string(),
        match &r.trace.checkpoint {
            Some(c) => format!(
                "#{} · {}… · {}",
                c.size,
                c.root.get(..16).unwrap_or(&c.root),
                tr.t(if r.trace.signature_ok {
                    "q.report.verified"
                } else {
                    "q.report.unverified"
                })
            ),
            None => tr.t("q.report.no_checkpoint").to_string(),
        },
    ));
    let g = &r.genealogy;
    let mut genealogy: Vec<Vec<String>> = g
        .inputs
        .iter()
        .map(|k| {
            let (p, lot) = suyuan_ops::facts::product_and_lot(k).unwrap_or_default();
            vec![
                tr.t("q.report.made_from").to_string(),
                format!(
                    "{} {}",
                    records.label("product", &p, english),
                    lot.unwrap_or_else(|| short(k))
                ),
            ]
        })
        .collect();
    genealogy.push(vec![tr.t("q.report.units").into(), g.units.to_string()]);
    genealogy.push(vec![
        tr.t("q.report.logistic_units").into(),
        g.logistic_units.to_string(),
    ]);
    for (place, n) in &g.places {
        genealogy.push(vec![
            format!(
                "{} · {}",
                tr.t("q.report.where"),
                word(tr, "recall.place", place)
            ),
            n.to_string(),
        ]);
    }
    if !g.holders.is_empty() {
        genealogy.push(vec![tr.t("q.report.holders").into(), g.holders.join("、")]);
    }
    let mut events: Vec<Vec<String>> = r
        .trace
        .events
        .iter()
        .map(|e| {
            let v = &e.story.event;
            let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
            vec![
                friendly_time(text("eventTime")),
                tr.step(text("bizStep")),
                e.event_id.clone(),
                e.event_hash.clone(),
                tr.t(if e.verified {
                    "q.report.verified"
                } else {
                    "q.report.unverified"
                })
                .to_string(),
            ]
        })
        .collect();
    if r.trace.more > 0 {
        events.push(vec![
            tr.t("q.report.more")
                .replace("{n}", &r.trace.more.to_string()),
        ]);
    }
    let sections = vec![
        Section {
            heading: tr.t("q.report.own").into(),
            columns: inspection_columns(tr, false),
            rows: inspection_rows(tr, &r.inspections, false),
            empty: tr.t("q.none").into(),
        },
        Section {
            heading: tr.t("q.report.inputs").into(),
            columns: inspection_columns(tr, true),
            rows: inspection_rows(tr, &r.input_inspections, true),
            empty: tr.t("q.none").into(),
        },
        Section {
            heading: tr.t("q.report.excursions").into(),
            columns: vec![
                (tr.t("q.time").into(), 1.6),
                (tr.t("q.report.parameter").into(), 1.4),
                (tr.t("q.value").into(), 1.0),
                (tr.t("q.report.limit").into(), 1.0),
                (tr.t("q.report.source").into(), 1.2),
            ],
            rows: r
                .excursions
                .iter()
                .map(|x| {
                    vec![
                        friendly_time(&x.time),
                        x.parameter.clone(),
                        format!("{} {}", x.value, x.unit),
                        format!("{} {}", x.bound, x.limit),
                        x.source.clone(),
                    ]
                })
                .collect(),
            empty: tr.t("q.report.no_excursions").into(),
        },
        Section {
            heading: tr.t("q.ncrs").into(),
            columns: vec![
                (tr.t("q.ncr").into(), 1.2),
                (tr.t("q.state").into(), 1.0),
                (tr.t("q.disposition").into(), 1.0),
                (tr.t("q.summary").into(), 2.4),
                (tr.t("q.history").into(), 3.0),
            ],
            rows: r
                .ncrs
                .iter()
                .map(|n| {
                    vec![
                        n.id.clone(),
                        word(tr, "q.ncr.state", n.state.as_str()),
                        n.disposition
                            .map(|d| word(tr, "q.disp", d.as_str()))
                            .unwrap_or_default(),
                        n.summary.clone(),
                        n.history
                            .iter()
                            .map(|h| {
                                format!(
                                    "{} {} {}：{}",
                                    friendly_time(&h.at),
                                    h.by,
                                    word(tr, "q.ncr.step", &h.step),
                                    h.why
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ]
                })
                .collect(),
            empty: tr.t("q.ncr.none").into(),
        },
        Section {
            heading: tr.t("q.holds").into(),
            columns: vec![
                (tr.t("q.hold").into(), 1.2),
                (tr.t("q.hold.reason").into(), 2.6),
                (tr.t("q.hold.placed").into(), 1.6),
                (tr.t("q.hold.objects").into(), 0.8),
                (tr.t("q.hold.released").into(), 0.8),
            ],
            rows: r
                .holds
                .iter()
                .map(|h| {
                    vec![
                        h.id.clone(),
                        h.reason.clone(),
                        friendly_time(&h.at),
                        h.objects.len().to_string(),
                        h.released.len().to_string(),
                    ]
                })
                .collect(),
            empty: tr.t("q.holds.none").into(),
        },
        Section {
            heading: tr.t("q.report.genealogy").into(),
            columns: vec![(String::new(), 1.5), (String::new(), 3.5)],
            rows: genealogy,
            empty: String::new(),
        },
        Section {
            heading: tr.t("q.report.events").into(),
            columns: vec![
                (tr.t("q.time").into(), 1.5),
                (tr.t("q.report.step").into(), 1.2),
                (tr.t("q.report.event").into(), 2.6),
                (tr.t("q.report.hash").into(), 3.6),
                (String::new(), 0.8),
            ],
            rows: events,
            empty: String::new(),
        },
    ];
    Content {
        title: tr.t("q.report_of").replace(
            "{lot}",
            &facts.first().map(|f| f.1.clone()).unwrap_or_default(),
        ),
        facts,
        sections,
    }
}
