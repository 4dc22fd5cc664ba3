//! Master data screens: every kind with its count, then one kind's records (each field a column, the
//! version each is at, a link to its history) with the form to add or change a record, and the import of a
//! CSV or XLSX file — checked first, every bad row and column listed, imported only when clean.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::HashMap;
use suyuan_engine::accounts::Principal;
use suyuan_ops::kinds::{KINDS, Kind, kind};

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::pages::{Chrome, render};
use crate::web::viewer::Viewer;

use super::{ops_down, say, texts_json};

#[derive(Template)]
#[template(path = "masterdata.html")]
struct IndexPage {
    chrome: Chrome,
    /// `(kind, name, count)`.
    kinds: Vec<(String, String, usize)>,
}

#[derive(Template)]
#[template(path = "masterdata_kind.html")]
struct KindPage {
    chrome: Chrome,
    kind: String,
    title: String,
    /// `(key, label, required, hint)`.
    fields: Vec<(String, String, bool, String)>,
    /// `(name, version, cells)`.
    rows: Vec<(String, u32, Vec<String>)>,
    message: String,
    error: String,
    can_write: bool,
    texts: String,
    script: String,
}

fn label(k: &Kind, lang: Lang) -> &'static str {
    if lang == Lang::En { k.en } else { k.zh }
}

/// `GET /masterdata`.
pub async fn index(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let page = IndexPage {
        chrome: v.chrome("masterdata"),
        kinds: KINDS
            .iter()
            .map(|k| {
                (
                    k.name.to_string(),
                    label(k, v.lang).to_string(),
                    records.of(k.name).len(),
                )
            })
            .collect(),
    };
    render(&page, v.lang, v.chose_lang)
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Bool(b)) => {
            if *b {
                "✔".into()
            } else {
                String::new()
            }
        }
        Some(other) => other.to_string(),
    }
}

async fn draw(
    st: &AppState,
    v: &Viewer,
    k: &'static Kind,
    message: String,
    error: String,
) -> Response {
    let records = match st.engine.records().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let page = KindPage {
        chrome: v.chrome("masterdata"),
        kind: k.name.into(),
        title: label(k, v.lang).into(),
        fields: k
            .fields
            .iter()
            .map(|f| {
                (
                    f.key.to_string(),
                    (if v.lang == Lang::En { f.en } else { f.zh }).to_string(),
                    f.required,
                    suyuan_ops::kinds::describe(f.ty),
                )
            })
            .collect(),
        rows: records
            .of(k.name)
            .iter()
            .take(1000)
            .map(|(name, r, version)| {
                (
                    name.clone(),
                    *version,
                    k.fields.iter().map(|f| cell(r.get(f.key))).collect(),
                )
            })
            .collect(),
        message,
        error,
        can_write: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
        texts: texts_json(v.lang, &["md."]),
        script: crate::web::assets::url("js/masterdata.js"),
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /masterdata/{kind}`.
pub async fn kind_page(
    State(st): State<AppState>,
    Path(name): Path<String>,
    v: Viewer,
) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    match kind(&name) {
        Some(k) => draw(&st, &v, k, String::new(), String::new()).await,
        None => (StatusCode::NOT_FOUND, "no such kind of master data").into_response(),
    }
}

/// `POST /masterdata/{kind}`: saves the record of the form (empty fields are left out).
pub async fn save(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(name): Path<String>,
    v: Viewer,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = super::staff_only(&v) {
        return r;
    }
    let Some(k) = kind(&name) else {
        return (StatusCode::NOT_FOUND, "no such kind of master data").into_response();
    };
    let raw: Map<String, Value> = f
        .into_iter()
        .filter(|(key, val)| key != "_csrf" && !val.trim().is_empty())
        .map(|(key, val)| (key, Value::String(val)))
        .collect();
    let tr = Tr { lang: v.lang };
    match st.engine.save_record(&me.user, k.name, &raw).await {
        Ok(d) => {
            draw(
                &st,
                &v,
                k,
                format!("{} · {} v{}", tr.t("md.saved"), d.name, d.version),
                String::new(),
            )
            .await
        }
        Err(e) => draw(&st, &v, k, String::new(), say(tr, &e)).await,
    }
}

/// `POST /masterdata/{kind}/import`: the page's script sends the file to the API instead; this answers a
/// browser without scripts with the same outcome as JSON.
pub async fn import(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if !me.rows.is_all() {
        return (
            StatusCode::FORBIDDEN,
            "plant operations are for plant staff",
        )
            .into_response();
    }
    match st.engine.import_records(&me.user, &name, &body, true).await {
        Ok(out) => axum::Json(out).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// `GET /masterdata/{kind}/template.csv`: the headings of a kind, for filling in (UTF-8 with a byte order
/// mark, so spreadsheet programs read the Chinese right).
pub async fn template(Path(name): Path<String>) -> Response {
    let Some(k) = kind(&name) else {
        return (StatusCode::NOT_FOUND, "no such kind of master data").into_response();
    };
    let heads: Vec<&str> = k.fields.iter().map(|f| f.key).collect();
    let mut resp = format!("\u{feff}{}\n", heads.join(",")).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", k.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
