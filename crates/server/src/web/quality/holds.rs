//! Holds: every hold with its reason, report and size; one hold with the objects it keeps (the lot and
//! what was made from it, by kind) and what it has released; a hold placed by hand; and its release,
//! whole or for the objects a partial rework made good again.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::{BTreeMap, HashMap};
use suyuan_engine::accounts::Principal;
use suyuan_engine::quality::holds::{HoldRequest, ReleaseRequest};
use suyuan_quality::holds::Hold;

use super::{decides, enc, short, tabs, trace_href};
use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, say, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// Objects one hold's page lists at most (the counts cover every one).
const LISTED: usize = 300;

/// A hold as the list shows it.
struct Row {
    id: String,
    origin: String,
    origin_href: String,
    reason: String,
    ncr: String,
    placed: String,
    by: String,
    objects: usize,
    released: usize,
    open: bool,
}

fn row(h: &Hold) -> Row {
    Row {
        id: h.id.clone(),
        origin: short(&h.origin),
        origin_href: trace_href(&h.origin),
        reason: h.reason.clone(),
        ncr: h.ncr.clone().unwrap_or_default(),
        placed: friendly_time(&h.at),
        by: h.by.clone(),
        objects: h.objects.len(),
        released: h.released.len(),
        open: h.open,
    }
}

#[derive(Template)]
#[template(path = "quality_holds.html")]
struct ListPage {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    rows: Vec<Row>,
    all: bool,
    decides: bool,
    notice: String,
    error: String,
    object: String,
    reason: String,
}

async fn draw_list(st: &AppState, v: &Viewer, notice: String, error: String) -> Response {
    let tr = Tr { lang: v.lang };
    let all = v.param("state") == "all";
    let rows = match st
        .engine
        .quality(|q| {
            let mut v: Vec<Row> = q.holds.all().filter(|h| all || h.open).map(row).collect();
            v.sort_by(|a, b| b.open.cmp(&a.open).then(b.placed.cmp(&a.placed)));
            v
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let page = ListPage {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "holds"),
        rows,
        all,
        decides: decides(&v.me),
        notice,
        error,
        object: v.param("object"),
        reason: v.param("reason"),
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /quality/holds?state=all`.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let notice = match (v.param("placed"), v.param("n")) {
        (h, n) if !h.is_empty() => tr
            .t("q.hold.placed_msg")
            .replace("{hold}", &h)
            .replace("{n}", &n),
        _ => String::new(),
    };
    draw_list(&st, &v, notice, String::new()).await
}

/// `POST /quality/holds`: `object`, `reason`, `only_this`.
pub async fn place(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    if !decides(&me) {
        return super::refused(
            draw_list(&st, &v, String::new(), tr.t("q.decider_only").into()).await,
        );
    }
    let g = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    let req = HoldRequest {
        object: super::resolve(&st, &me, &g("object")).await,
        reason: g("reason"),
        only_this: !g("only_this").is_empty(),
        ncr: None,
        request_id: Some(g("request_id")).filter(|s| !s.is_empty()),
    };
    match st.engine.place_hold(&me.user, &req).await {
        Ok(p) => Redirect::to(&format!(
            "/quality/holds?placed={}&n={}",
            enc(&p.hold),
            p.objects
        ))
        .into_response(),
        Err(e) => draw_list(&st, &v, String::new(), say(tr, &e)).await,
    }
}

#[derive(Template)]
#[template(path = "quality_hold.html")]
struct HoldPage {
    chrome: Chrome,
    tabs: Vec<(&'static str, String, bool)>,
    h: Row,
    kinds: Vec<(String, usize)>,
    wheres: Vec<(String, usize)>,
    objects: Vec<(String, String, String, String, String)>,
    more: usize,
    released: Vec<(String, String)>,
    decides: bool,
    notice: String,
    error: String,
}

fn kind_of(tr: Tr, key: &str) -> String {
    let k = suyuan_trace::node_kind(key);
    match tr.t(&format!("recall.kind.{k}")) {
        "?" => k.to_string(),
        t => t.to_string(),
    }
}

async fn draw_hold(st: &AppState, v: &Viewer, id: &str, notice: String, error: String) -> Response {
    let tr = Tr { lang: v.lang };
    let h = match st.engine.quality(|q| q.holds.get(id).cloned()).await {
        Ok(Some(h)) => h,
        Ok(None) => {
            return super::missing(
                tr,
                suyuan_engine::operations::OpsError::NotFound(format!("hold {id}")),
            );
        }
        Err(e) => return ops_down(e),
    };
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for o in &h.objects {
        *kinds.entry(kind_of(tr, o)).or_default() += 1;
    }
    // Where each held object is now, from the forward trace of what the hold was placed on.
    let places: HashMap<String, &'static str> = st
        .engine
        .affected(&suyuan_engine::recall::Scope {
            lots: vec![h.origin.clone()],
            ..Default::default()
        })
        .await
        .map(|items| items.into_iter().map(|i| (i.id, i.place)).collect())
        .unwrap_or_default();
    let place = |o: &str| {
        places
            .get(o)
            .map(|p| super::word(tr, "recall.place", p))
            .unwrap_or_default()
    };
    let mut wheres: BTreeMap<String, usize> = BTreeMap::new();
    for o in &h.objects {
        let p = place(o);
        if !p.is_empty() {
            *wheres.entry(p).or_default() += 1;
        }
    }
    let page = HoldPage {
        chrome: v.chrome("quality"),
        tabs: tabs(tr, "holds"),
        kinds: kinds.into_iter().collect(),
        wheres: wheres.into_iter().collect(),
        objects: h
            .objects
            .iter()
            .take(LISTED)
            .map(|o| (o.clone(), short(o), kind_of(tr, o), place(o), trace_href(o)))
            .collect(),
        more: h.objects.len().saturating_sub(LISTED),
        released: h
            .released
            .iter()
            .take(LISTED)
            .map(|o| (short(o), trace_href(o)))
            .collect(),
        decides: decides(&v.me),
        notice,
        error,
        h: row(&h),
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /quality/holds/{id}`.
pub async fn show(State(st): State<AppState>, Path(id): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    // How many left this hold, and how many of those another open hold still keeps.
    let notice = match (
        v.param("released").parse::<usize>(),
        v.param("asked").parse::<usize>(),
    ) {
        (Ok(freed), Ok(asked)) if asked > freed => tr
            .t("q.hold.released_kept")
            .replace("{n}", &asked.to_string())
            .replace("{kept}", &(asked - freed).to_string()),
        (Ok(n), _) => tr.t("q.hold.released_msg").replace("{n}", &n.to_string()),
        _ => String::new(),
    };
    draw_hold(&st, &v, &id, notice, String::new()).await
}

/// `POST /quality/holds/{id}/release`: `why`, and `part=1` with the checked `object` boxes for a
/// partial release.
pub async fn release(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(id): Path<String>,
    v: Viewer,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    if !decides(&me) {
        return super::refused(
            draw_hold(&st, &v, &id, String::new(), tr.t("q.decider_only").into()).await,
        );
    }
    let one = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, x)| x.trim().to_string())
            .unwrap_or_default()
    };
    let picked: Vec<String> = f
        .iter()
        .filter(|(n, _)| n == "object")
        .map(|(_, x)| x.clone())
        .collect();
    let req = ReleaseRequest {
        why: one("why"),
        objects: (one("part") == "1").then_some(picked),
    };
    if req.objects.as_ref().is_some_and(Vec::is_empty) {
        return draw_hold(
            &st,
            &v,
            &id,
            String::new(),
            format!("object: {}", tr.t("q.hold.release_selected")),
        )
        .await;
    }
    let asked = match &req.objects {
        Some(p) => p.len(),
        None => st
            .engine
            .quality(|q| q.holds.get(&id).map_or(0, |h| h.objects.len()))
            .await
            .unwrap_or(0),
    };
    match st.engine.release_hold(&me.user, &id, &req).await {
        Ok(freed) => Redirect::to(&format!(
            "/quality/holds/{}?released={}&asked={asked}",
            enc(&id),
            freed.len()
        ))
        .into_response(),
        Err(e) => draw_hold(&st, &v, &id, String::new(), say(tr, &e)).await,
    }
}
