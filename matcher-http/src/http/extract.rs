//! Extractors whose rejections are problems: JSON bodies (415/413/400/422
//! with the field path), query strings (422 with the parameter), path ids,
//! and the authenticated [`Caller`].

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::auth::Caller;
use super::error::ApiError;
use super::state::AppState;

/// Is the content type `application/json` or `application/*+json`?
fn is_json(headers: &HeaderMap) -> bool {
    content_type(headers).is_some_and(|ct| {
        let ct = ct.to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
    })
}

pub fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// The body as bytes, with the body limit's rejection as a 413 problem.
pub async fn body_bytes(req: Request, state: &AppState, limit: usize) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request(format!("cannot read the body: {}", r.body_text()))
        }
    })
}

/// Turn a `serde_path_to_error` path and message into the field path.
fn field_path(path: &serde_path_to_error::Path, message: &str) -> String {
    let p = path.to_string();
    let base = if p == "." { String::new() } else { p };
    // serde reports a missing field at its parent object: name the field itself.
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(name) = rest.split('`').next() {
            return if base.is_empty() {
                name.to_owned()
            } else {
                format!("{base}.{name}")
            };
        }
    }
    if base.is_empty() {
        "body".to_owned()
    } else {
        base
    }
}

/// Deserialize JSON `bytes` into `T`: syntax errors are 400, shape errors 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::malformed(
            "the body is empty; expected a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().clone();
        let inner = e.into_inner();
        json_error(&path, inner)
    })?;
    de.end().map_err(|e| {
        ApiError::malformed(format!("trailing characters after the JSON value: {e}"))
    })?;
    Ok(value)
}

/// Deserialize an already parsed JSON value (422 on shape errors).
pub fn from_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().clone();
        json_error(&path, e.into_inner())
    })
}

fn json_error(path: &serde_path_to_error::Path, inner: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match inner.classify() {
        Category::Data => {
            let msg = inner.to_string();
            // Drop serde_json's " at line L column C" suffix: the path says where.
            let reason = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_owned(),
                None => msg,
            };
            ApiError::invalid(field_path(path, &reason), reason)
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::malformed(format!("invalid JSON: {inner}"))
        }
    }
}

/// A JSON body (`Content-Type: application/json`), limited by the route's body limit.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media(
                content_type(req.headers()),
                "application/json",
            ));
        }
        let bytes = body_bytes(req, state, state.limits().json_body).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body kept as a value (to fill in fields from the path first).
pub struct ApiJsonValue(pub serde_json::Value);

impl FromRequest<AppState> for ApiJsonValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let ApiJson(v) = ApiJson::<serde_json::Value>::from_request(req, state).await?;
        Ok(ApiJsonValue(v))
    }
}

/// Query parameters; an unknown or ill-typed parameter is a 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(q));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                let field = if path == "." {
                    // Unknown parameter: serde names it in the message.
                    msg.strip_prefix("unknown field `")
                        .and_then(|r| r.split('`').next())
                        .map(str::to_owned)
                        .or_else(|| {
                            msg.strip_prefix("missing field `")
                                .and_then(|r| r.split('`').next())
                                .map(str::to_owned)
                        })
                        .unwrap_or_else(|| "query".to_owned())
                } else {
                    path
                };
                ApiError::invalid(field, msg)
            })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// A record id from the path (any text; unknown ids are 404 in handlers).
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(e) => Err(ApiError::bad_request(format!(
                "bad path: {}",
                e.body_text()
            ))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("no API key"))
    }
}
