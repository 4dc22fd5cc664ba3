//! The unit story as JSON (`GET /api/v1/objects/{uri}/story`): the engine's story
//! ([`suyuan_engine::story`]) with each stage's name in both languages.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The stages' names: (key, Chinese, English).
pub const STAGES: [(&str, &str, &str); 6] = [
    ("materials", "原料", "Materials"),
    ("production", "生产", "Production"),
    ("quality", "质检", "Quality"),
    ("packing", "包装", "Packing"),
    ("logistics", "物流", "Logistics"),
    ("consumer", "消费者", "Consumer"),
];

/// The name of a stage in a language.
pub fn stage_name(stage: &str, lang: crate::web::i18n::Lang) -> &'static str {
    STAGES
        .iter()
        .find(|s| s.0 == stage)
        .map(|s| match lang {
            crate::web::i18n::Lang::Zh => s.1,
            crate::web::i18n::Lang::En => s.2,
        })
        .unwrap_or("")
}

/// `GET /api/v1/objects/{uri}/story`.
pub async fn story(st: &AppState, uri: &str) -> Result<Response, ApiError> {
    Ok(Json(build(st, uri).await?).into_response())
}

/// The story of `uri` as JSON: the object, its own lots, its containers, its events in time order
/// (`timeline`, each with its stage), and the same events by stage (`stages`, each stage in time order).
pub async fn build(st: &AppState, uri: &str) -> Result<Value, ApiError> {
    let Some(story) = st.engine.story(uri).await? else {
        return Err(ApiError::NotFound(format!(
            "no event names the object {uri} (looked up as {})",
            suyuan_core::projection::object_key(uri)
        )));
    };
    let item = |e: &suyuan_engine::story::StoryEvent| json!({"seq": e.seq, "stage": e.stage, "subjects": e.subjects, "event": e.event});
    let timeline: Vec<Value> = story.events.iter().map(item).collect();
    let has_scans = story.scans.0 > 0;
    let stages: Vec<Value> = STAGES
        .iter()
        .filter_map(|(k, zh, en)| {
            let evs: Vec<Value> = story
                .events
                .iter()
                .filter(|e| e.stage == *k)
                .map(item)
                .collect();
            let scans = *k == "consumer" && has_scans;
            (!evs.is_empty() || scans).then(|| {
                let mut v = json!({"stage": k, "label": {"zh-CN": zh, "en": en}, "events": evs});
                if *k == "consumer" {
                    v["scans"] = json!({"count": story.scans.0, "recent": story.scans.1});
                }
                v
            })
        })
        .collect();
    Ok(json!({
        "object": story.object,
        "ownLots": story.own_lots,
        "containers": story.containers.iter().map(|(id, _, _)| id).collect::<Vec<_>>(),
        "timeline": timeline,
        "stages": stages,
    }))
}
