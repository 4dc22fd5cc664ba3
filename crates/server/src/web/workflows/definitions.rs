//! Workflow definitions on screen: the list with the open cases, one workflow's states and transitions
//! with the form that starts a case, and its definition edited as JSON by master-data writers (every
//! problem listed, nothing saved while one remains).

use askama::Template;
use axum::Extension;
use axum::extract::{Form as Posted, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};
use suyuan_engine::accounts::Principal;
use suyuan_engine::forms::FormError;
use suyuan_engine::workflows::WorkflowView;
use suyuan_workflows::{Case, Workflow};

use crate::AppState;
use crate::web::i18n::{Lang, Tr};
use crate::web::operations::{ops_down, staff_only};
use crate::web::pages::{Chrome, friendly_time, render};
use crate::web::viewer::Viewer;

/// A case as a list shows it: the case, its workflow's name, its state's label, and whether it is late.
pub(crate) struct CaseRow {
    pub case: Case,
    pub workflow: String,
    pub state: String,
    pub due: String,
    pub overdue: bool,
    pub started: String,
}

pub(crate) fn case_row(case: Case, wf: Option<&Workflow>, lang: Lang) -> CaseRow {
    let code = lang.code();
    let now = suyuan_core::time::format_utc_millis(chrono::Utc::now());
    CaseRow {
        workflow: wf
            .map(|w| w.name.get(code).to_string())
            .unwrap_or_else(|| case.workflow.clone()),
        state: wf
            .and_then(|w| w.state(&case.state))
            .map(|s| s.label.get(code).to_string())
            .unwrap_or_else(|| case.state.clone()),
        due: case.due.as_deref().map(friendly_time).unwrap_or_default(),
        overdue: !case.ended && case.due.as_deref().is_some_and(|d| d < now.as_str()),
        started: friendly_time(&case.started_at),
        case,
    }
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    chrome: Chrome,
    defs: Vec<(WorkflowView, String, usize)>,
    cases: Vec<CaseRow>,
}

/// `GET /workflows`: the definitions and the cases, open ones first.
pub async fn list(State(st): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let (defs, cases) = match (st.engine.workflows().await, st.engine.cases().await) {
        (Ok(d), Ok(c)) => (d, c),
        (Err(e), _) => return super::down(e),
        (_, Err(e)) => return ops_down(e.into()),
    };
    let code = v.lang.code();
    let open = |w: &str| cases.iter().filter(|c| c.workflow == w && !c.ended).count();
    let defs: Vec<(WorkflowView, String, usize)> = defs
        .into_iter()
        .map(|d| {
            let name = d.workflow.name.get(code).to_string();
            let n = open(&d.workflow.code);
            (d, name, n)
        })
        .collect();
    let page = ListPage {
        chrome: v.chrome("workflows"),
        cases: cases
            .into_iter()
            .take(300)
            .map(|c| {
                let wf = defs
                    .iter()
                    .find(|d| d.0.workflow.code == c.workflow)
                    .map(|d| &d.0.workflow);
                case_row(c, wf, v.lang)
            })
            .collect(),
        defs,
    };
    render(&page, v.lang, v.chose_lang)
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct OnePage {
    chrome: Chrome,
    wv: WorkflowView,
    name: String,
    description: String,
    states: Vec<(String, String, String, String, String, bool)>,
    transitions: Vec<(String, String, String, String, String, bool)>,
    definition: String,
    problems: Vec<String>,
    notice: String,
    can_edit: bool,
    request_id: String,
}

fn one_page(v: &Viewer, wv: WorkflowView) -> OnePage {
    let code = v.lang.code();
    let tr = Tr { lang: v.lang };
    let w = &wv.workflow;
    let label = |k: &str| {
        w.state(k)
            .map(|s| s.label.get(code).to_string())
            .unwrap_or_else(|| k.to_string())
    };
    OnePage {
        chrome: v.chrome("workflows"),
        name: w.name.get(code).to_string(),
        description: w
            .description
            .as_ref()
            .map(|d| d.get(code).to_string())
            .unwrap_or_default(),
        states: w
            .states
            .iter()
            .map(|s| {
                (
                    s.key.clone(),
                    s.label.get(code).to_string(),
                    super::who(tr, s.role.as_deref(), s.user.as_deref()),
                    s.sla_hours.map(|h| h.to_string()).unwrap_or_default(),
                    super::who(tr, s.escalate_to.as_deref(), None),
                    s.end,
                )
            })
            .collect(),
        transitions: w
            .transitions
            .iter()
            .map(|t| {
                (
                    t.label.get(code).to_string(),
                    t.from
                        .iter()
                        .map(|f| label(f))
                        .collect::<Vec<_>>()
                        .join("、"),
                    label(&t.to),
                    t.guard.clone(),
                    t.form.clone().unwrap_or_default(),
                    t.note_required,
                )
            })
            .collect(),
        definition: serde_json::to_string_pretty(w).unwrap_or_default(),
        problems: Vec::new(),
        notice: String::new(),
        can_edit: v
            .me
            .allows(suyuan_core::access::Permission::MasterDataWrite),
        request_id: format!(
            "{}-{}",
            chrono::Utc::now().timestamp_millis(),
            std::process::id()
        ),
        wv,
    }
}

/// `GET /workflows/{code}`.
pub async fn one(State(st): State<AppState>, Path(code): Path<String>, v: Viewer) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let wv = match st.engine.workflow(&code, None).await {
        Ok(w) => w,
        Err(e) => return super::down(e),
    };
    let mut page = one_page(&v, wv);
    if let Some(n) = v.query.get("saved") {
        page.notice = Tr { lang: v.lang }.t("wf.saved").replace("{v}", n);
    }
    render(&page, v.lang, v.chose_lang)
}

/// Reads `key=value` lines into data: numbers and true/false as such, the rest as text.
pub(crate) fn data_lines(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| {
            let v = v.trim();
            let value = match v {
                "true" => json!(true),
                "false" => json!(false),
                _ => match v.parse::<f64>() {
                    Ok(n) if n.is_finite() => json!(n),
                    _ => json!(v),
                },
            };
            (k.trim().to_string(), value)
        })
        .collect()
}

/// `POST /workflows/{code}/start`: `title`, `subject`, `data` — starts a case and shows it.
pub async fn start(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(code): Path<String>,
    v: Viewer,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let get = |k: &str| crate::web::forms::posted(&pairs, k).trim().to_string();
    let subject = Some(get("subject")).filter(|s| !s.is_empty());
    let seed = Some(get("_request"))
        .filter(|s| !s.is_empty())
        .map(|r| format!("web/{}/{r}", me.user));
    match st
        .engine
        .start_case(
            &me.user,
            &code,
            &get("title"),
            subject,
            Value::Object(data_lines(&get("data"))),
            seed.as_deref(),
            chrono::Utc::now(),
        )
        .await
    {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.id)).into_response(),
        Err(e) => refuse(&st, &v, &code, e, None).await,
    }
}

async fn refuse(
    st: &AppState,
    v: &Viewer,
    code: &str,
    e: FormError,
    definition: Option<String>,
) -> Response {
    let wv = match st.engine.workflow(code, None).await {
        Ok(w) => w,
        Err(e) => return super::down(e),
    };
    let mut page = one_page(v, wv);
    page.problems = crate::web::forms::said(e, v.lang);
    if let Some(d) = definition {
        page.definition = d;
    }
    let mut resp = render(&page, v.lang, v.chose_lang);
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    resp
}

/// `POST /workflows/{code}`: saves the posted definition as a new version.
pub async fn save(
    State(st): State<AppState>,
    Extension(me): Extension<Principal>,
    Path(code): Path<String>,
    v: Viewer,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = staff_only(&v) {
        return r;
    }
    let text = crate::web::forms::posted(&pairs, "definition");
    let wf: Workflow = match serde_json::from_str(&text) {
        Ok(w) => w,
        Err(e) => {
            let p = suyuan_forms::Problem::new(
                "definition",
                format!("valid JSON: {e}"),
                format!("有效的 JSON：{e}"),
            );
            return refuse(&st, &v, &code, FormError::Invalid(vec![p]), Some(text)).await;
        }
    };
    if wf.code != code {
        let p = suyuan_forms::Problem::new(
            "code",
            format!("'{code}' (a definition is saved under its own code)"),
            format!("“{code}”（定义按其编码保存）"),
        );
        return refuse(&st, &v, &code, FormError::Invalid(vec![p]), Some(text)).await;
    }
    match st.engine.save_workflow(&me.user, &wf).await {
        Ok(w) => Redirect::to(&format!("/workflows/{code}?saved={}", w.version)).into_response(),
        Err(e) => refuse(&st, &v, &code, e, Some(text)).await,
    }
}
