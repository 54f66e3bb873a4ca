//! Reference tables: the JSIC tree, JSIC clusters, municipalities.

use axum::extract::State;
use axum::Json;
use matcher_core::model::JsicLevel;
use matcher_core::taxonomy::{Cluster, Municipality};
use serde::Serialize;

use crate::http::auth::Caller;
use crate::http::error::ApiResult;
use crate::http::state::AppState;

/// A JSIC entry with the entries under it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JsicNode {
    pub code: String,
    pub level: JsicLevel,
    pub name: String,
    #[schema(no_recursion)]
    pub children: Vec<JsicNode>,
}

/// `GET /v1/taxonomy/jsic`: sections → divisions → groups → classes.
#[utoipa::path(get, path = "/v1/taxonomy/jsic", operation_id = "jsicTree", tag = "taxonomy",
    summary = "JSIC tree",
    responses((status = 200, description = "sections → divisions → groups → classes", body = Vec<JsicNode>)))]
pub async fn jsic(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<JsicNode>>> {
    let engine = state.engine()?;
    let mut entries: Vec<_> = engine.ctx.taxonomy.jsic_entries().collect();
    entries.sort_by(|a, b| a.code.cmp(&b.code));
    fn children(parent: &str, entries: &[&matcher_core::taxonomy::JsicEntry]) -> Vec<JsicNode> {
        entries
            .iter()
            .filter(|e| e.parent.as_deref() == Some(parent))
            .map(|e| JsicNode {
                code: e.code.to_string(),
                level: e.level,
                name: e.name.clone(),
                children: children(e.code.as_str(), entries),
            })
            .collect()
    }
    let tree = entries
        .iter()
        .filter(|e| e.level == JsicLevel::Section)
        .map(|e| JsicNode {
            code: e.code.to_string(),
            level: e.level,
            name: e.name.clone(),
            children: children(e.code.as_str(), &entries),
        })
        .collect();
    Ok(Json(tree))
}

/// `GET /v1/taxonomy/clusters`.
#[utoipa::path(get, path = "/v1/taxonomy/clusters", operation_id = "jsicClusters", tag = "taxonomy",
    summary = "JSIC clusters",
    responses((status = 200, description = "named sets of JSIC codes, usable as filter values", body = Vec<Cluster>)))]
pub async fn clusters(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<Cluster>>> {
    let engine = state.engine()?;
    let mut v: Vec<Cluster> = engine.ctx.taxonomy.clusters().cloned().collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(v))
}

/// `GET /v1/taxonomy/municipalities`: prefectures and municipalities with office locations.
#[utoipa::path(get, path = "/v1/taxonomy/municipalities", operation_id = "municipalities", tag = "taxonomy",
    summary = "Municipalities",
    responses((status = 200, description = "prefectures and municipalities with office locations", body = Vec<Municipality>)))]
pub async fn municipalities(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<Municipality>>> {
    let engine = state.engine()?;
    let mut v: Vec<Municipality> = engine.ctx.taxonomy.municipalities().cloned().collect();
    v.sort_by_key(|m| m.code);
    Ok(Json(v))
}
