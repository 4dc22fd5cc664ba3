//! The administration screens: users and their roles, regulator grants, coding rules, label templates and the
//! consumer page's settings. Every form goes through the same engine command as the API (each change stored
//! with its ledger event, naming the administrator); a refusal is shown on the page and changes nothing.

use crate::AppState;
use crate::web::i18n::Lang;
use crate::web::pages::{Chrome, friendly_time, render, store_down};
use crate::web::viewer::Viewer;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use suyuan_core::access::Role;
use suyuan_engine::accounts::{NewGrant, NewUser, Principal, UserChange};
use suyuan_store::kinds;

/// A definition as listed: name, version, saved at, its JSON (pretty).
pub type DefRow = (String, u32, String, String);

/// A section of definitions (coding rules, label templates) with its editor.
pub struct Section {
    /// Anchor.
    pub id: &'static str,
    /// Message key of its title.
    pub title: &'static str,
    /// Definition kind.
    pub kind: &'static str,
    /// Its definitions.
    pub list: Vec<DefRow>,
    /// Message key when there are none.
    pub empty: &'static str,
    /// An example definition (placeholder of a new one).
    pub example: &'static str,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    users: Vec<(String, String, String, bool, String)>,
    roles: Vec<&'static str>,
    regulators: Vec<String>,
    grants: Vec<(String, String, String, String, String, String)>,
    sections: Vec<Section>,
    contact: String,
    journey: String,
    links: String,
    /// A message for the administrator (success) and an error.
    message: String,
    error: String,
    /// The editor's content after a refused save: (kind, name, json).
    editing: (String, String, String),
}

fn defs(list: Vec<suyuan_store::StoredDefinition>) -> Vec<DefRow> {
    list.into_iter()
        .map(|d| {
            let pretty = serde_json::to_string_pretty(&d.definition).unwrap_or_default();
            (d.name, d.version, friendly_time(&d.created_at), pretty)
        })
        .collect()
}

async fn page(
    st: &AppState,
    me: &Principal,
    uri: &Uri,
    lang: Lang,
    message: String,
    error: String,
    editing: (String, String, String),
) -> Result<AdminPage, Response> {
    let engine = &st.engine;
    let users = engine.users().await.map_err(|e| {
        tracing::error!(error = %e, "users for the admin page");
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response()
    })?;
    let grants = engine.grants(None).await.unwrap_or_default();
    let reader = engine.reader();
    let (rules, templates, consumer) = tokio::try_join!(
        reader.definitions(kinds::CODING_RULE),
        reader.definitions(kinds::LABEL_TEMPLATE),
        reader.definition(kinds::CONSUMER_PAGE, "default", None),
    )
    .map_err(store_down)?;
    let settings = consumer
        .map(|d| suyuan_engine::consumer::ConsumerSettings::from_definition(&d.definition))
        .unwrap_or_default();
    Ok(AdminPage {
        chrome: Chrome::new(lang, "admin", uri, me),
        regulators: users
            .iter()
            .filter(|u| u.role == Role::Regulator)
            .map(|u| u.name.clone())
            .collect(),
        users: users
            .into_iter()
            .map(|u| {
                (
                    u.name,
                    u.display,
                    u.role.as_str().to_string(),
                    u.disabled,
                    u.company_prefixes.join(", "),
                )
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .filter(|r| **r != Role::Public)
            .map(|r| r.as_str())
            .collect(),
        grants: grants
            .into_iter()
            .map(|g| {
                (
                    g.id,
                    g.user,
                    g.gtins.join(", "),
                    format!("{} – {}", friendly_time(&g.from), friendly_time(&g.to)),
                    friendly_time(&g.expires_at),
                    g.note,
                )
            })
            .collect(),
        sections: vec![
            Section {
                id: "rules",
                title: "labels.rules",
                kind: kinds::CODING_RULE,
                list: defs(rules),
                empty: "admin.no_rules",
                example: r#"{"template": "{PLANT:2}{LINE:3}{YY}{JJJ}{SEQ:4:10:daily}{CHECK:mod37-36}", "target": "sgtin", "gtin": "06901234123456"}"#,
            },
            Section {
                id: "templates",
                title: "labels.templates",
                kind: kinds::LABEL_TEMPLATE,
                list: defs(templates),
                empty: "admin.no_templates",
                example: r#"{"width_mm": 60, "height_mm": 40, "dpi": 300, "fields": []}"#,
            },
        ],
        contact: settings.contact,
        journey: match settings.journey {
            suyuan_engine::consumer::Granularity::Region => "region",
            suyuan_engine::consumer::Granularity::City => "city",
            suyuan_engine::consumer::Granularity::Place => "place",
        }
        .to_string(),
        links: settings
            .links
            .iter()
            .map(|l| format!("{} {} {}", l.link_type, l.href, l.title))
            .collect::<Vec<_>>()
            .join("\n"),
        message,
        error,
        editing,
    })
}

/// `GET /admin`.
pub async fn show(State(st): State<AppState>, v: Viewer) -> Response {
    let (me, uri, _headers, q, lang, set) =
        (&v.me, &v.uri, &v.headers, &v.query, v.lang, v.chose_lang);
    let message = q
        .get("done")
        .map(|k| {
            crate::web::i18n::Tr { lang }
                .t(&format!("admin.done.{k}"))
                .to_string()
        })
        .unwrap_or_default();
    match page(
        &st,
        me,
        uri,
        lang,
        message,
        String::new(),
        Default::default(),
    )
    .await
    {
        Ok(p) => render(&p, lang, set),
        Err(r) => r,
    }
}

/// The page again with an error (and what the administrator typed), status 400.
async fn refused(
    st: &AppState,
    me: &Principal,
    uri: &Uri,
    lang: Lang,
    error: String,
    editing: (String, String, String),
) -> Response {
    let prefix = crate::web::i18n::Tr { lang }.t("admin.refused");
    match page(
        st,
        me,
        uri,
        lang,
        String::new(),
        format!("{prefix} {error}"),
        editing,
    )
    .await
    {
        Ok(p) => (StatusCode::BAD_REQUEST, render(&p, lang, false)).into_response(),
        Err(r) => r,
    }
}

/// An account refusal as the administrator reads it; a failure of the store or the ledger is logged and
/// answered without its internal text.
fn account_refusal(e: suyuan_engine::accounts::AccountError, tr: crate::web::i18n::Tr) -> String {
    use suyuan_engine::accounts::AccountError as E;
    match e {
        E::Field { field, msg } => format!("{field}: {msg}"),
        E::Exists(what) => tr.t("admin.exists").replace("{what}", &what),
        E::NotFound(what) => format!("{} {what}", tr.t("admin.not_found")),
        E::BadLogin => tr.t("login.failed").to_string(),
        other => internal(&other, tr),
    }
}

/// A definition refusal (coding rule, label template, settings), likewise.
fn code_refusal(e: suyuan_engine::codes::CodeError, tr: crate::web::i18n::Tr) -> String {
    use suyuan_engine::codes::CodeError as E;
    match e {
        E::Field { field, msg } => format!("{field}: {msg}"),
        E::Coding(c) => c.to_string(),
        E::Capture(suyuan_engine::CaptureError::Invalid(v)) => v.to_string(),
        other => internal(&other, tr),
    }
}

/// A save refused by the engine's capture path, likewise.
fn capture_refusal(e: suyuan_engine::CaptureError, tr: crate::web::i18n::Tr) -> String {
    match e {
        suyuan_engine::CaptureError::Invalid(v) => v.to_string(),
        other => internal(&other, tr),
    }
}

fn internal(e: &dyn std::fmt::Display, tr: crate::web::i18n::Tr) -> String {
    tracing::error!(error = %e, "an administrative change failed");
    tr.t("recall.unavailable").to_string()
}

fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}

/// A fresh password: 16 letters and digits.
fn new_password() -> String {
    const SET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    bytes
        .iter()
        .map(|b| SET[*b as usize % SET.len()] as char)
        .collect()
}

/// `POST /admin` with `action`: `create_user`, `update_user`, `create_grant`, `revoke_grant`,
/// `save_definition`, `save_consumer`.
pub async fn act(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_request(None, &headers);
    let tr = crate::web::i18n::Tr { lang };
    let engine = &st.engine;
    let action = field(&f, "action");
    let result: Result<String, String> = match action.as_str() {
        "create_user" => {
            let new = NewUser {
                name: field(&f, "name"),
                role: field(&f, "role"),
                password: Some(field(&f, "password")).filter(|p| !p.is_empty()),
                display: Some(field(&f, "display")).filter(|d| !d.is_empty()),
                company_prefixes: field(&f, "prefixes")
                    .split([',', ' '])
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
            };
            match engine.create_user(&me.user, &new).await {
                Ok((u, Some(p))) => Ok(tr
                    .t("admin.created_password")
                    .replace("{user}", &u.name)
                    .replace("{password}", &p)),
                Ok((u, None)) => Ok(tr.t("admin.created").replace("{user}", &u.name)),
                Err(e) => Err(account_refusal(e, tr)),
            }
        }
        "update_user" => {
            let name = field(&f, "name");
            let reset = f.contains_key("reset");
            let password = reset.then(new_password);
            let change = UserChange {
                role: Some(field(&f, "role")).filter(|r| !r.is_empty()),
                password: password.clone(),
                disabled: Some(f.contains_key("disabled")),
                display: None,
                company_prefixes: None,
            };
            match engine.update_user(&me.user, &name, &change).await {
                Ok(_) => Ok(match password {
                    Some(p) => tr
                        .t("admin.created_password")
                        .replace("{user}", &name)
                        .replace("{password}", &p),
                    None => tr.t("admin.updated").replace("{user}", &name),
                }),
                Err(e) => Err(account_refusal(e, tr)),
            }
        }
        "create_grant" => {
            let day = |k: &str| {
                let v = field(&f, k);
                chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .and_then(|t| {
                        t.and_local_timezone(crate::web::pages::display_offset())
                            .single()
                    })
                    .map(|t| t.to_rfc3339())
                    .unwrap_or(v)
            };
            let g = NewGrant {
                user: field(&f, "user"),
                gtins: field(&f, "gtins")
                    .split([',', ' '])
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect(),
                from: day("from"),
                to: day("to"),
                expires_at: format!("{}d", field(&f, "days")),
                note: field(&f, "note"),
            };
            engine
                .create_grant(&me.user, &g)
                .await
                .map(|_| tr.t("admin.granted").replace("{user}", &g.user))
                .map_err(|e| account_refusal(e, tr))
        }
        "revoke_grant" => engine
            .revoke_grant(&me.user, &field(&f, "id"))
            .await
            .map(|_| tr.t("admin.revoked").to_string())
            .map_err(|e| account_refusal(e, tr)),
        "save_definition" => {
            let (kind, name, text) = (
                field(&f, "kind"),
                field(&f, "name"),
                f.get("json").cloned().unwrap_or_default(),
            );
            let editing = (kind.clone(), name.clone(), text.clone());
            let parsed: Result<Value, String> = serde_json::from_str(&text).map_err(|e| {
                tr.t("admin.bad_json")
                    .replace("{line}", &e.line().to_string())
                    .replace("{column}", &e.column().to_string())
            });
            let saved = match (kind.as_str(), parsed) {
                (_, Err(e)) => Err(e),
                (k, Ok(def)) if k == kinds::CODING_RULE => engine
                    .save_rule(&me.user, &name, &def)
                    .await
                    .map_err(|e| code_refusal(e, tr)),
                (k, Ok(def)) if k == kinds::LABEL_TEMPLATE => {
                    match crate::api::labels::check_template(&name, &def) {
                        Err(e) => Err(e.to_string()),
                        Ok(()) => engine
                            .save_definition(&me.user, k, &name, &def)
                            .await
                            .map_err(|e| capture_refusal(e, tr)),
                    }
                }
                _ => Err(tr.t("admin.unknown_kind").to_string()),
            };
            match saved {
                Ok(d) => Ok(tr
                    .t("admin.saved")
                    .replace("{name}", &d.name)
                    .replace("{version}", &d.version.to_string())),
                Err(e) => return refused(&st, &me, &uri, lang, e, editing).await,
            }
        }
        "save_consumer" => {
            let links: Vec<Value> = field(&f, "links")
                .lines()
                .filter_map(|l| {
                    let mut parts = l.trim().splitn(3, ' ');
                    let (t, h) = (parts.next()?, parts.next()?);
                    Some(json!({"linkType": t, "href": h, "title": parts.next().unwrap_or(t)}))
                })
                .collect();
            let bad = links.iter().find(|l| {
                !l["linkType"].as_str().unwrap_or_default().contains(':')
                    || !l["href"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("https://")
            });
            match bad {
                Some(l) => Err(tr.t("admin.bad_link").replace("{link}", &l.to_string())),
                None => {
                    let def = json!({"contact": field(&f, "contact"), "journey": field(&f, "journey"), "links": links});
                    engine
                        .save_definition(&me.user, kinds::CONSUMER_PAGE, "default", &def)
                        .await
                        .map(|d| {
                            tr.t("admin.saved")
                                .replace("{name}", &d.name)
                                .replace("{version}", &d.version.to_string())
                        })
                        .map_err(|e| capture_refusal(e, tr))
                }
            }
        }
        other => Err(format!("{} {other}", tr.t("admin.unknown_action"))),
    };
    match result {
        Ok(message) => match page(
            &st,
            &me,
            &uri,
            lang,
            message,
            String::new(),
            Default::default(),
        )
        .await
        {
            Ok(p) => render(&p, lang, false),
            Err(r) => r,
        },
        Err(e) => refused(&st, &me, &uri, lang, e, Default::default()).await,
    }
}

/// The routes of this module, each with the permission it needs.
pub(crate) fn routes() -> Vec<crate::routes::Route> {
    use crate::routes;
    use suyuan_core::access::Permission as P;
    vec![
        routes::get("/admin", P::Admin, show),
        routes::post("/admin", P::Admin, act),
    ]
}
