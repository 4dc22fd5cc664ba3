//! The warehouse screen: stock by product, lot, location and status with filters and totals, the FEFO
//! suggestion for a product, and the actions — receive, putaway or move, pick, pack, unpack, ship (with
//! its despatch advice), receipt at a customer, return, count. Each form carries an id made when the page
//! was drawn, so a double click or a resent form is done once.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::warehouse::{Action, Counted};
use suyuan_ops::Status;
use suyuan_ops::inventory::StockFilter;

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

use super::{num, ops_down, say};

/// One row of the stock table as the screen shows it.
struct StockLine {
    product_name: String,
    product: String,
    lot: String,
    location: String,
    status: String,
    status_label: String,
    quantity: String,
    unit: String,
    expiry: String,
}

#[derive(Template)]
#[template(path = "warehouse.html")]
struct WarehousePage {
    chrome: Chrome,
    rows: Vec<StockLine>,
    total: String,
    products: Vec<(String, String)>,
    locations: Vec<(String, String)>,
    customers: Vec<(String, String)>,
    suppliers: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    product: String,
    lot: String,
    location: String,
    status: String,
    /// `(lot, expiry, where)` for the chosen product.
    fefo: Vec<(String, String, String)>,
    message: String,
    error: String,
    nonce: String,
    can_write: bool,
    /// A partner: only the receipt of goods shipped to it, at its own places.
    partner: bool,
    /// The chosen location's own form (the plant's fields recorded there), if its record names one.
    own: Option<crate::web::forms::OwnForm>,
}

fn nonce() -> String {
    let mut b = [0u8; 12];
    let _ = getrandom::fill(&mut b);
    hex::encode(b)
}

async fn draw(
    st: &AppState,
    v: &Viewer,
    q: &HashMap<String, String>,
    message: String,
    error: String,
) -> Response {
    let english = v.lang == Lang::En;
    let tr = Tr { lang: v.lang };
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let get = |k: &str| q.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    let (product, lot, location, status) =
        (get("product"), get("lot"), get("location"), get("status"));
    // The chosen location's own form, read before the projections are (their guard is not held across
    // a wait).
    let own = if !v.me.rows.is_all() || location.is_empty() {
        None
    } else {
        crate::web::forms::own_form(
            st,
            records.text("location", &location, "form"),
            format!(
                "/warehouse?location={}",
                crate::web::quality::enc(&location)
            ),
            v,
        )
        .await
    };
    let filter = StockFilter {
        product: Some(product.clone()).filter(|p| !p.is_empty()),
        lot: Some(lot.clone()).filter(|l| !l.is_empty()),
        locations: if location.is_empty() {
            Vec::new()
        } else {
            st.engine.location_keys(&records, &location)
        },
        status: Status::parse(&status),
    };
    let ops = match st.engine.operations().await {
        Ok(o) => o,
        Err(e) => return ops_down(e.into()),
    };
    let partner = !v.me.rows.is_all();
    let stock = if partner {
        Vec::new()
    } else {
        ops.inventory.stock(&filter)
    };
    let fefo = if product.is_empty() || partner {
        Vec::new()
    } else {
        ops.inventory.fefo(&product)
    };
    drop(ops);
    let place_name = |key: &str| {
        records
            .location_by_place(key)
            .map(|c| records.label("location", c, english))
            .or_else(|| {
                records.of("customer").iter().find_map(|(c, r, _)| {
                    let g = r.get("gln").and_then(Value::as_str).unwrap_or("");
                    (!g.is_empty() && key.contains(g))
                        .then(|| records.label("customer", c, english))
                })
            })
            .unwrap_or_else(|| key.rsplit([':', '/']).next().unwrap_or(key).to_string())
    };
    let total: f64 = stock.iter().map(|r| r.quantity).sum();
    let rows = stock
        .iter()
        .take(500)
        .map(|r| StockLine {
            product_name: records.label("product", &r.product, english),
            product: r.product.clone(),
            lot: r.lot.clone(),
            location: place_name(&r.location),
            status: r.status.as_str().to_string(),
            status_label: tr
                .t(&format!("wh.status.{}", r.status.as_str()))
                .to_string(),
            quantity: num(r.quantity),
            unit: r.uom.clone(),
            expiry: r.expiry.clone().unwrap_or_default(),
        })
        .collect();
    let list = |kind: &str| -> Vec<(String, String)> {
        records
            .of(kind)
            .iter()
            .map(|(c, _, _)| (c.clone(), records.label(kind, c, english)))
            .collect()
    };
    let page = WarehousePage {
        chrome: v.chrome("warehouse"),
        rows,
        total: num(total),
        products: list("product"),
        locations: list("location"),
        customers: match &v.me.rows {
            suyuan_core::access::RowScope::Partner { prefixes } => list("customer")
                .into_iter()
                .filter(|(c, _)| {
                    records
                        .text("customer", c, "gln")
                        .is_some_and(|g| prefixes.iter().any(|p| g.starts_with(p.as_str())))
                })
                .collect(),
            _ => list("customer"),
        },
        suppliers: list("supplier"),
        statuses: [
            Status::Available,
            Status::OnHold,
            Status::InTransit,
            Status::Returned,
        ]
        .iter()
        .map(|s| {
            (
                s.as_str().to_string(),
                tr.t(&format!("wh.status.{}", s.as_str())).to_string(),
            )
        })
        .collect(),
        fefo: fefo
            .into_iter()
            .take(10)
            .map(|(l, x, at)| {
                (
                    l,
                    x.unwrap_or_default(),
                    at.iter()
                        .map(|(k, q)| format!("{} {}", place_name(k), num(*q)))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        product,
        lot,
        location,
        status,
        message,
        error,
        nonce: nonce(),
        can_write: v.me.allows(suyuan_core::access::Permission::EventsWrite),
        own,
        partner,
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /warehouse?product=&lot=&location=&status=`.
pub async fn page(State(st): State<AppState>, v: Viewer) -> Response {
    // Partners record receipts here; regulators read their grants elsewhere.
    if matches!(v.me.rows, suyuan_core::access::RowScope::Regulator { .. }) {
        return super::staff_only(&v)
            .unwrap_or_else(|| axum::http::StatusCode::FORBIDDEN.into_response());
    }
    let q = v.query.clone();
    draw(&st, &v, &q, String::new(), String::new()).await
}

fn lines(s: &str) -> Vec<String> {
    s.split(['\n', ',', ' ', '\r'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn action_of(f: &HashMap<String, String>) -> Result<Action, String> {
    let g = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    let n = |k: &str| g(k).parse::<f64>().ok();
    let a = match g("action").as_str() {
        "receive" => Action::Receive {
            po: g("po"),
            supplier: g("supplier"),
            product: g("product"),
            lot: g("lot"),
            quantity: n("quantity").unwrap_or(0.0),
            expiry: Some(g("expiry")).filter(|x| !x.is_empty()),
            location: g("location"),
            certificate: Some(g("certificate")).filter(|x| !x.is_empty()),
        },
        "move" => Action::Move {
            code: g("code"),
            quantity: n("quantity"),
            to: g("to"),
        },
        "pick" => Action::Pick {
            order: g("order"),
            code: g("code"),
            quantity: n("quantity"),
            location: g("location"),
        },
        "pack" => Action::Pack {
            parent: Some(g("parent")).filter(|x| !x.is_empty()),
            children: lines(&g("codes")),
            location: g("location"),
            rule: None,
        },
        "unpack" => Action::Unpack {
            parent: g("parent"),
            location: g("location"),
        },
        "ship" => Action::Ship {
            customer: g("customer"),
            codes: lines(&g("codes")),
            from: g("location"),
        },
        "receipt" => Action::Receipt {
            codes: lines(&g("codes")),
            location: g("location"),
        },
        "return" => Action::Return {
            codes: lines(&g("codes")),
            location: g("location"),
            reason: Some(g("reason")).filter(|x| !x.is_empty()),
        },
        "scrap" => Action::Scrap {
            code: g("code"),
            quantity: n("quantity"),
            work_order: Some(g("work_order")).filter(|x| !x.is_empty()),
            location: g("location"),
            reason: Some(g("reason")).filter(|x| !x.is_empty()),
        },
        "rework" => Action::Rework {
            code: g("code"),
            quantity: n("quantity"),
            work_order: Some(g("work_order")).filter(|x| !x.is_empty()),
            location: g("location"),
            reason: Some(g("reason")).filter(|x| !x.is_empty()),
        },
        "count" => Action::Count {
            location: g("location"),
            counted: vec![Counted {
                code: g("code"),
                quantity: n("quantity"),
            }],
        },
        other => return Err(format!("action? ({other})")),
    };
    Ok(a)
}

/// `POST /warehouse`: one action from its form.
pub async fn act(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    // Partners record receipts here; regulators read their grants elsewhere.
    if matches!(v.me.rows, suyuan_core::access::RowScope::Regulator { .. }) {
        return super::staff_only(&v)
            .unwrap_or_else(|| axum::http::StatusCode::FORBIDDEN.into_response());
    }
    let tr = Tr { lang: v.lang };
    let id = f.get("id").cloned().unwrap_or_default();
    let mut q = HashMap::new();
    if let Some(p) = f
        .get("product")
        .filter(|_| f.get("action").map(String::as_str) == Some("receive"))
    {
        q.insert("product".to_string(), p.clone());
    }
    let action = match action_of(&f) {
        Ok(a) => a,
        Err(e) => return draw(&st, &v, &q, String::new(), e).await,
    };
    match st.engine.warehouse_as(&me, &id, &action).await {
        Ok(done) => {
            let mut msg = format!(
                "{} · {}",
                tr.t(&format!(
                    "wh.action.{}",
                    f.get("action").map(String::as_str).unwrap_or("")
                )),
                tr.t("wh.done")
            );
            if let Some(p) = &done.parent {
                msg.push_str(&format!(
                    " · {} {}",
                    tr.t("wh.sscc"),
                    p.rsplit('/').next().unwrap_or(p)
                ));
            }
            if let Some(d) = &done.despatch {
                msg.push_str(&format!(" · {} {d}", tr.t("wh.despatch")));
            }
            for (code, expected, counted) in &done.differences {
                msg.push_str(&format!(
                    " · {} {}: {} → {}",
                    tr.t("wh.differences"),
                    code.rsplit('/').next().unwrap_or(code),
                    num(*expected),
                    num(*counted)
                ));
            }
            draw(&st, &v, &q, msg, String::new()).await
        }
        Err(e) => draw(&st, &v, &q, String::new(), say(tr, &e)).await,
    }
}
