//! Rules on screen: the list with each rule's status (fired, errors, the last error and its event), and a
//! rule's editor — pattern fields, the condition, a row per action — that saves a new version or first
//! runs the rule over past events to show what it would have done.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use suyuan_engine::accounts::Principal;
use suyuan_engine::operations::OpsError;
use suyuan_engine::rules::{DryRun, RuleView};
use suyuan_rules::{Action, Pattern, Rule};

use crate::AppState;
use crate::web::i18n::Tr;
use crate::web::operations::{ops_down, say, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// Blank action rows the editor offers after a rule's own.
const SPARE_ROWS: usize = 2;

#[derive(Template)]
#[template(path = "rules.html")]
struct ListPage {
    chrome: Chrome,
    rules: Vec<RuleView>,
    last: Vec<(String, String)>,
    can_write: bool,
}

/// `GET /rules`.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let rules = match st.engine.event_rules().await {
        Ok(r) => r,
        Err(e) => return ops_down(e),
    };
    let page = ListPage {
        chrome: v.chrome("rules"),
        last: rules
            .iter()
            .map(|r| {
                (
                    r.status
                        .last_fired
                        .as_deref()
                        .map(friendly_time)
                        .unwrap_or_default(),
                    r.status
                        .last_error
                        .as_ref()
                        .map(|(e, why)| format!("{why} ({e})"))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        rules,
        can_write: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

/// One action row of the editor.
struct Row {
    index: usize,
    kind: String,
    text: String,
    to: String,
    descendants: bool,
    hours: String,
}

#[derive(Template)]
#[template(path = "rule.html")]
struct EditPage {
    chrome: Chrome,
    is_new: bool,
    rule: Rule,
    version: u32,
    builtin: bool,
    lists: Vec<(&'static str, String, String)>,
    rows: Vec<Row>,
    kinds: Vec<(String, String)>,
    notice: String,
    problems: Vec<String>,
    dry: Option<DryRun>,
    dry_rows: Vec<(String, String, String, String)>,
    dry_errors: Vec<(String, String)>,
    from: String,
    to: String,
    can_write: bool,
}

fn rows_of(rule: &Rule) -> Vec<Row> {
    let mut rows: Vec<Row> = rule
        .then
        .iter()
        .enumerate()
        .map(|(index, a)| {
            let (text, to, descendants, hours) = match a {
                Action::Hold {
                    descendants,
                    reason,
                } => (reason.clone(), String::new(), *descendants, String::new()),
                Action::Task {
                    title,
                    role,
                    user,
                    due_hours,
                } => (
                    title.clone(),
                    user.as_ref()
                        .map(|u| format!("user:{u}"))
                        .or_else(|| role.clone())
                        .unwrap_or_default(),
                    false,
                    due_hours.to_string(),
                ),
                Action::Notify { to, message, .. } => {
                    (message.clone(), to.clone(), false, String::new())
                }
                Action::SetDisposition { disposition } => {
                    (String::new(), disposition.clone(), false, String::new())
                }
                Action::Alert { message } => (message.clone(), String::new(), false, String::new()),
                Action::StartWorkflow { workflow, title } => {
                    (title.clone(), workflow.clone(), false, String::new())
                }
            };
            Row {
                index,
                kind: a.name().to_string(),
                text,
                to,
                descendants,
                hours,
            }
        })
        .collect();
    let n = rows.len();
    rows.extend((n..n + SPARE_ROWS).map(|index| Row {
        index,
        kind: String::new(),
        text: String::new(),
        to: String::new(),
        descendants: true,
        hours: "24".into(),
    }));
    rows
}

fn join(list: &[String]) -> String {
    list.join(", ")
}

/// A rule from the editor's fields.
fn rule_of(f: &[(String, String)], code: &str) -> Rule {
    let one = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let list = |k: &str| -> Vec<String> {
        one(k)
            .split([',', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut then = Vec::new();
    for i in 0..64 {
        let kind = one(&format!("a{i}_do"));
        if kind.is_empty() {
            if f.iter().any(|(n, _)| n.starts_with(&format!("a{i}_"))) {
                continue;
            }
            break;
        }
        let text = one(&format!("a{i}_text"));
        let to = one(&format!("a{i}_to"));
        let hours = one(&format!("a{i}_hours")).parse().unwrap_or(24);
        then.push(match kind.as_str() {
            "hold" => Action::Hold {
                descendants: !one(&format!("a{i}_descendants")).is_empty(),
                reason: text,
            },
            "task" => Action::Task {
                title: text,
                role: (!to.starts_with("user:")).then(|| to.clone()),
                user: to.strip_prefix("user:").map(str::to_string),
                due_hours: hours,
            },
            "notify" => Action::Notify {
                // A URL is a webhook, an address an e-mail, anything else a role in the app.
                channel: if to.starts_with("http://") || to.starts_with("https://") {
                    "webhook".into()
                } else if to.contains('@') {
                    "email".into()
                } else {
                    "in_app".into()
                },
                to,
                message: text,
            },
            "set_disposition" => Action::SetDisposition { disposition: to },
            "start_workflow" => Action::StartWorkflow {
                workflow: to,
                title: text,
            },
            _ => Action::Alert { message: text },
        });
    }
    Rule {
        code: match code {
            "new" => one("code"),
            c => c.to_string(),
        },
        name: one("name"),
        enabled: !one("enabled").is_empty(),
        when: Pattern {
            event_type: list("event_type"),
            biz_step: list("biz_step"),
            disposition: list("disposition"),
            product: list("product"),
            location: list("location"),
            form: list("form"),
        },
        condition: one("if"),
        then,
    }
}

struct Shown {
    rule: Rule,
    version: u32,
    builtin: bool,
    is_new: bool,
}

fn draw(
    v: &Viewer,
    s: Shown,
    notice: String,
    problems: Vec<String>,
    dry: Option<DryRun>,
) -> Response {
    let tr = Tr { lang: v.lang };
    let today = chrono::Utc::now().date_naive();
    let p = &s.rule.when;
    let page = EditPage {
        chrome: v.chrome("rules"),
        is_new: s.is_new,
        lists: vec![
            (
                "event_type",
                tr.t("rule.event_type").to_string(),
                join(&p.event_type),
            ),
            (
                "biz_step",
                tr.t("rule.biz_step").to_string(),
                join(&p.biz_step),
            ),
            (
                "disposition",
                tr.t("rule.disposition").to_string(),
                join(&p.disposition),
            ),
            (
                "product",
                tr.t("rule.product").to_string(),
                join(&p.product),
            ),
            (
                "location",
                tr.t("rule.location").to_string(),
                join(&p.location),
            ),
            ("form", tr.t("rule.form").to_string(), join(&p.form)),
        ],
        rows: rows_of(&s.rule),
        kinds: [
            "hold",
            "task",
            "notify",
            "set_disposition",
            "alert",
            "start_workflow",
        ]
        .iter()
        .map(|k| (k.to_string(), tr.t(&format!("rule.do.{k}")).to_string()))
        .collect(),
        dry_rows: dry
            .as_ref()
            .map(|d| {
                d.fired
                    .iter()
                    .map(|f| {
                        let text =
                            |p: &str| f.pointer(p).and_then(Value::as_str).unwrap_or_default();
                        let actions = f["actions"].as_array().cloned().unwrap_or_default();
                        (
                            friendly_time(text("/event_time")),
                            text("/event_id").to_string(),
                            actions
                                .first()
                                .and_then(|a| a["objects"].as_array())
                                .map(|o| {
                                    o.iter()
                                        .filter_map(Value::as_str)
                                        .map(crate::web::quality::short)
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                })
                                .unwrap_or_default(),
                            actions
                                .iter()
                                .map(|a| {
                                    let kind = a["action"]["do"].as_str().unwrap_or_default();
                                    let what = ["reason", "title", "message", "disposition"]
                                        .iter()
                                        .find_map(|k| a["action"][k].as_str())
                                        .unwrap_or_default();
                                    format!("{}：{what}", tr.t(&format!("rule.do.{kind}")))
                                })
                                .collect::<Vec<_>>()
                                .join("\n"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        dry_errors: dry
            .as_ref()
            .map(|d| {
                d.errors
                    .iter()
                    .map(|e| {
                        (
                            e["event_id"].as_str().unwrap_or_default().to_string(),
                            e["error"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        dry,
        from: match v.param("from") {
            f if f.is_empty() => (today - chrono::Days::new(90)).to_string(),
            f => f,
        },
        to: match v.param("to") {
            t if t.is_empty() => today.to_string(),
            t => t,
        },
        version: s.version,
        builtin: s.builtin,
        rule: s.rule,
        notice,
        problems,
        can_write: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
    };
    render(&page, v.lang, v.chose_lang)
}

/// `GET /rules/new`: an empty rule.
pub async fn new(v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let rule = Rule {
        code: String::new(),
        name: String::new(),
        enabled: true,
        when: Pattern::default(),
        condition: String::new(),
        then: Vec::new(),
    };
    draw(
        &v,
        Shown {
            rule,
            version: 0,
            builtin: false,
            is_new: true,
        },
        String::new(),
        Vec::new(),
        None,
    )
}

/// `GET /rules/{code}`.
pub async fn show(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    match st.engine.event_rule(&code).await {
        Ok(r) => {
            let notice = match v.param("saved") {
                s if s.is_empty() => String::new(),
                s => tr.t("rule.saved").replace("{v}", &s),
            };
            draw(
                &v,
                Shown {
                    rule: r.rule,
                    version: r.version,
                    builtin: r.builtin,
                    is_new: false,
                },
                notice,
                Vec::new(),
                None,
            )
        }
        Err(e) => crate::web::quality::missing(tr, e),
    }
}

/// `POST /rules/new`: as [`submit`], for a rule not saved yet.
pub async fn submit_new(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    v: Viewer,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    save_or_try(st, me, "new".into(), v, f).await
}

/// `POST /rules/{code}`: `intent=save` saves a version, `intent=dry_run` shows what the rule would have
/// done from `from` to `to`.
pub async fn submit(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(code): Path<String>,
    v: Viewer,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    save_or_try(st, me, code, v, f).await
}

async fn save_or_try(
    st: AppState,
    me: Principal,
    code: String,
    v: Viewer,
    f: Vec<(String, String)>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let tr = Tr { lang: v.lang };
    let rule = rule_of(&f, &code);
    let one = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let shown = |rule: Rule| Shown {
        rule,
        version: 0,
        builtin: false,
        is_new: code == "new",
    };
    let located = |e: &OpsError| -> Vec<String> {
        match e {
            OpsError::Invalid(p) => p
                .iter()
                .map(|p| format!("{}: {}", p.field, p.expected))
                .collect(),
            other => vec![say(tr, other)],
        }
    };
    if one("intent") == "dry_run" {
        return match st.engine.dry_run(&rule, &one("from"), &one("to")).await {
            Ok(d) => {
                let notice = tr
                    .t("rule.dry.summary")
                    .replace("{events}", &d.events.to_string())
                    .replace("{fired}", &d.fired_total.to_string())
                    .replace("{errors}", &d.errors.len().to_string());
                draw(&v, shown(rule), notice, Vec::new(), Some(d))
            }
            Err(e) => draw(&v, shown(rule), String::new(), located(&e), None),
        };
    }
    match st.engine.save_event_rule(&me.user, &rule).await {
        Ok(saved) => Redirect::to(&format!(
            "/rules/{}?saved={}",
            crate::web::quality::enc(&saved.rule.code),
            saved.version
        ))
        .into_response(),
        Err(e @ OpsError::Invalid(_)) => {
            let p = located(&e);
            let mut r = draw(&v, shown(rule), String::new(), p, None);
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            r
        }
        Err(e) => ops_down(e),
    }
}
