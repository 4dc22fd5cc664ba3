//! Work orders: the list (by state and line) with the form to create one, and a work order's page — its
//! state with the steps it may take, planned and actual quantities, the material balance against the BOM
//! (lines outside the tolerance flagged), its timeline and a link to its genealogy.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::orders::{NewWorkOrder, WorkOrderView};
use suyuan_ops::workorder::{WoState, WorkOrder};

use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

use super::{num, ops_down, say};

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    chrome: Chrome,
    /// `(number, product name, line, state, planned, output, created)`.
    rows: Vec<(String, String, String, String, String, String, String)>,
    products: Vec<(String, String)>,
    lines: Vec<(String, String)>,
    states: Vec<(String, String)>,
    state: String,
    line: String,
    error: String,
    can_write: bool,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    chrome: Chrome,
    o: WorkOrder,
    product: String,
    state: String,
    next: Vec<(String, String)>,
    /// `(input name, expected, actual, deviation %, tolerance %, flagged, unit)`.
    balance: Vec<(String, String, String, String, String, bool, String)>,
    flagged: bool,
    times: Vec<(String, String)>,
    planned: String,
    output: String,
    scrap: String,
    trace_href: String,
    error: String,
    can_write: bool,
}

fn state_label(tr: Tr, s: WoState) -> String {
    tr.t(&format!("wo.state.{}", s.as_str())).to_string()
}

/// `GET /orders?state=&line=`.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    list_page(&st, &v, String::new()).await
}

async fn list_page(st: &AppState, v: &Viewer, error: String) -> Response {
    let tr = Tr { lang: v.lang };
    let english = v.lang == crate::web::i18n::Lang::En;
    let state = v.query.get("state").cloned().unwrap_or_default();
    let line = v.query.get("line").cloned().unwrap_or_default();
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let list = match st
        .engine
        .work_orders(
            WoState::parse(&state),
            Some(line.as_str()).filter(|l| !l.is_empty()),
            300,
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return ops_down(e),
    };
    let rows = list
        .iter()
        .map(|w| {
            (
                w.number.clone(),
                records.label("product", &w.product, english),
                w.line.clone(),
                state_label(tr, w.state),
                num(w.planned),
                num(w.output),
                w.times
                    .get("created")
                    .map(|t| friendly_time(t))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let products = records
        .of("product")
        .iter()
        .filter(|(c, _, _)| !records.bom(c).is_empty())
        .map(|(c, _, _)| (c.clone(), records.label("product", c, english)))
        .collect();
    let lines = records
        .of("location")
        .iter()
        .filter(|(_, r, _)| r.get("level").and_then(Value::as_str) == Some("line"))
        .map(|(c, _, _)| (c.clone(), records.label("location", c, english)))
        .collect();
    let page = OrdersPage {
        chrome: v.chrome("orders"),
        rows,
        products,
        lines,
        states: suyuan_ops::workorder::ALL_STATES
            .iter()
            .map(|s| (s.as_str().to_string(), state_label(tr, *s)))
            .collect(),
        state,
        line,
        error,
        can_write: v.me.allows(suyuan_core::access::Permission::EventsWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

/// `POST /orders`: creates a work order from the form.
pub async fn create(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    let field = |k: &str| {
        f.get(k)
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
    };
    let req = NewWorkOrder {
        number: field("number"),
        product: field("product").unwrap_or_default(),
        planned: field("planned").and_then(|p| p.parse().ok()).unwrap_or(0.0),
        line: field("line").unwrap_or_default(),
        lot: field("lot"),
        lot_rule: field("lot_rule"),
        due: field("due").map(|d| {
            // A datetime-local value is plant time.
            if d.len() == 16 {
                format!("{d}:00{}", crate::web::pages::display_offset())
            } else {
                d
            }
        }),
    };
    match st.engine.create_work_order(&me.user, &req).await {
        Ok(w) => Redirect::to(&format!("/orders/{}", w.order.number)).into_response(),
        Err(e) => list_page(&st, &v, say(Tr { lang: v.lang }, &e)).await,
    }
}

/// `GET /orders/{number}`.
pub async fn show(State(st): State<AppState>, Path(number): Path<String>, v: Viewer) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    order_page(&st, &v, &number, String::new()).await
}

async fn order_page(st: &AppState, v: &Viewer, number: &str, error: String) -> Response {
    let tr = Tr { lang: v.lang };
    let english = v.lang == crate::web::i18n::Lang::En;
    let view: WorkOrderView = match st.engine.work_order(number).await {
        Ok(w) => w,
        Err(suyuan_engine::operations::OpsError::NotFound(_)) => {
            return (axum::http::StatusCode::NOT_FOUND, "no such work order").into_response();
        }
        Err(e) => return ops_down(e),
    };
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let o = view.order;
    let balance = if o.output > 0.0 {
        view.balance
            .iter()
            .map(|l| {
                (
                    records.label("product", &l.input, english),
                    num(l.expected),
                    num(l.actual),
                    format!("{:+.1}%", l.deviation_pct),
                    format!("±{}%", num(l.tolerance_pct)),
                    l.flagged,
                    l.unit.clone(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut times: Vec<(String, String)> = o
        .times
        .iter()
        .map(|(s, t)| {
            (
                WoState::parse(s)
                    .map(|x| state_label(tr, x))
                    .unwrap_or_else(|| s.clone()),
                friendly_time(t),
            )
        })
        .collect();
    times.sort_by(|a, b| a.1.cmp(&b.1));
    let trace_q = if o.product.bytes().all(|b| b.is_ascii_digit()) && !o.lot.is_empty() {
        format!("https://id.gs1.org/01/{}/10/{}", o.product, o.lot)
    } else {
        o.id.clone()
    };
    let page = OrderPage {
        chrome: v.chrome("orders"),
        product: records.label("product", &o.product, english),
        state: state_label(tr, o.state),
        next: view
            .next
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    tr.t(&format!("wo.to.{}", s.as_str())).to_string(),
                )
            })
            .collect(),
        flagged: view.balance_flagged,
        balance,
        times,
        planned: num(o.planned),
        output: num(o.output),
        scrap: num(o.scrap),
        trace_href: format!(
            "/trace?q={}",
            percent_encoding::utf8_percent_encode(&trace_q, percent_encoding::NON_ALPHANUMERIC)
        ),
        error,
        can_write: v.me.allows(suyuan_core::access::Permission::EventsWrite),
        o,
    };
    render(&page, v.lang, v.chose_lang)
}

/// `POST /orders/{number}/state`: `state=released|started|paused|completed|closed`.
pub async fn move_state(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(number): Path<String>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    let Some(to) = f.get("state").and_then(|s| WoState::parse(s)) else {
        return order_page(&st, &v, &number, "state?".into()).await;
    };
    match st.engine.move_work_order(&me.user, &number, to).await {
        Ok(_) => Redirect::to(&format!("/orders/{number}")).into_response(),
        Err(e) => order_page(&st, &v, &number, say(Tr { lang: v.lang }, &e)).await,
    }
}
