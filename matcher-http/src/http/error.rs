//! One error type for every route: [`ApiError`], answered as
//! `application/problem+json` (RFC 9457).
//!
//! The `type` of a problem is a stable URN (`urn:matcher:problem:<slug>`)
//! that clients can switch on; `title` is fixed per type, `detail` is a
//! human message, and validation problems carry `errors[]` with the field
//! path (`filters.jsic`, `equipment[2].name`) and the reason.
//!
//! Privacy: a "not found" answer depends only on the kind of record and the
//! id asked for, never on whether a restricted record with that id exists.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use matcher_core::index::search::SearchError;
use matcher_core::index::ReadError;
use matcher_core::{EngineError, InvalidRecords, MatchError};
use serde::Serialize;

/// Prefix of every problem type.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:matcher:problem:";
/// Content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Path of the field in the request (`title`, `filters.jsic[0]`, `limit`).
    pub field: String,
    pub reason: String,
}

/// The stable kinds of problem, with their status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MalformedJson,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UriTooLong,
    UnsupportedMediaType,
    Validation,
    RateLimited,
    HeadersTooLarge,
    Internal,
    NotReady,
    Timeout,
    /// Writes are refused: an earlier write failed, or another process
    /// holds the data folder.
    WriteUnavailable,
    Overloaded,
    /// An outcome move the state machine refuses (skipped stage, finished pair).
    IllegalTransition,
}

impl Kind {
    pub fn slug(self) -> &'static str {
        match self {
            Kind::MalformedJson => "malformed-json",
            Kind::BadRequest => "bad-request",
            Kind::Unauthorized => "unauthorized",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not-found",
            Kind::MethodNotAllowed => "method-not-allowed",
            Kind::Conflict => "conflict",
            Kind::PayloadTooLarge => "payload-too-large",
            Kind::UriTooLong => "uri-too-long",
            Kind::UnsupportedMediaType => "unsupported-media-type",
            Kind::Validation => "validation",
            Kind::RateLimited => "rate-limited",
            Kind::HeadersTooLarge => "headers-too-large",
            Kind::Internal => "internal",
            Kind::NotReady => "not-ready",
            Kind::Timeout => "timeout",
            Kind::WriteUnavailable => "write-unavailable",
            Kind::Overloaded => "overloaded",
            Kind::IllegalTransition => "illegal-transition",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::MalformedJson | Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Kind::Conflict | Kind::IllegalTransition => StatusCode::CONFLICT,
            Kind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UriTooLong => StatusCode::URI_TOO_LONG,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Kind::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::NotReady | Kind::Timeout | Kind::Overloaded | Kind::WriteUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::MalformedJson => "The request body is not valid JSON",
            Kind::BadRequest => "The request is malformed",
            Kind::Unauthorized => "A valid API key is required",
            Kind::Forbidden => "This API key's role may not do this",
            Kind::NotFound => "Not found",
            Kind::MethodNotAllowed => "Method not allowed",
            Kind::Conflict => "Conflict",
            Kind::PayloadTooLarge => "The request body is too large",
            Kind::UriTooLong => "The URL is too long",
            Kind::UnsupportedMediaType => "Unsupported media type",
            Kind::Validation => "A field is invalid",
            Kind::RateLimited => "Too many requests",
            Kind::HeadersTooLarge => "The request line and headers are too large",
            Kind::Internal => "Internal error",
            Kind::NotReady => "The index is not open yet",
            Kind::Timeout => "The request took too long",
            Kind::WriteUnavailable => "Writes are refused until the index writer is reopened",
            Kind::Overloaded => "The server is busy",
            Kind::IllegalTransition => "This outcome move is not allowed from the pair's stage",
        }
    }

    pub fn type_uri(self) -> String {
        format!("{PROBLEM_TYPE_PREFIX}{}", self.slug())
    }

    /// Every kind, for the OpenAPI document.
    pub const ALL: [Kind; 19] = [
        Kind::MalformedJson,
        Kind::BadRequest,
        Kind::Unauthorized,
        Kind::Forbidden,
        Kind::NotFound,
        Kind::MethodNotAllowed,
        Kind::Conflict,
        Kind::PayloadTooLarge,
        Kind::UriTooLong,
        Kind::UnsupportedMediaType,
        Kind::Validation,
        Kind::RateLimited,
        Kind::HeadersTooLarge,
        Kind::Internal,
        Kind::NotReady,
        Kind::Timeout,
        Kind::WriteUnavailable,
        Kind::Overloaded,
        Kind::IllegalTransition,
    ];
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: Kind,
    pub detail: String,
    pub errors: Vec<FieldProblem>,
    /// `Retry-After` seconds (429, 503).
    pub retry_after: Option<u64>,
}

/// RFC 9457 problem details (application/problem+json).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    #[schema(schema_with = problem_types)]
    pub type_: String,
    pub title: &'static str,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldProblem]>::is_empty")]
    pub errors: &'a [FieldProblem],
}

/// The schema of [`Problem::type_`]: one of the [`Kind`]s' URIs.
fn problem_types() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(Kind::ALL.iter().map(|k| k.type_uri())))
        .build()
}

impl ApiError {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        ApiError {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, detail)
    }

    /// `what` is the kind of record ("company", "need", "batch job"). The
    /// answer is the same whether the id is missing or hidden from the caller.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(Kind::NotFound, format!("no {what} with id {id:?}"))
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(Kind::MalformedJson, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, detail)
    }

    /// 422 for one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let field = field.into();
        let reason = reason.into();
        ApiError {
            kind: Kind::Validation,
            detail: format!("{field}: {reason}"),
            errors: vec![FieldProblem { field, reason }],
            retry_after: None,
        }
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            Kind::PayloadTooLarge,
            format!("the body is larger than the limit of {limit} bytes"),
        )
    }

    pub fn unsupported_media(got: Option<&str>, expected: &str) -> Self {
        let got = got.unwrap_or("no Content-Type");
        Self::new(
            Kind::UnsupportedMediaType,
            format!("got {got}; expected {expected}"),
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            Kind::RateLimited,
            format!(
                "this API key (or, without a valid key, this address) is over its request rate; retry after {retry_after} s"
            ),
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn not_ready() -> Self {
        let mut e = Self::new(Kind::NotReady, "the index is still opening; retry shortly");
        e.retry_after = Some(1);
        e
    }

    pub fn timeout(limit: std::time::Duration) -> Self {
        Self::new(
            Kind::Timeout,
            format!(
                "the request did not finish within {} s",
                limit.as_secs_f64()
            ),
        )
    }

    /// 503 `overloaded`: matching is at its permits and its wait queue is
    /// full; shed at once rather than queued until the request time limit.
    pub fn overloaded(running: usize, waiting: usize) -> Self {
        let mut e = Self::new(
            Kind::Overloaded,
            format!(
                "{running} matches are running and {waiting} waiting, the most this server queues; retry after 1 s"
            ),
        );
        e.retry_after = Some(1);
        e
    }

    /// A server-side failure: logged in full, answered without internals.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            Kind::Internal,
            "the server could not complete the request; the error is logged with this request's id",
        )
    }

    pub fn body(&self) -> Problem<'_> {
        Problem {
            type_: self.kind.type_uri(),
            title: self.kind.title(),
            status: self.kind.status().as_u16(),
            detail: &self.detail,
            errors: &self.errors,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.slug(), self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (self.status(), body).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.kind == Kind::Unauthorized {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"matcher\""),
            );
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

/// Field path of a search error.
fn search_field(e: &SearchError) -> &'static str {
    match e {
        SearchError::EmptyQuery | SearchError::QueryTooLong { .. } => "query",
        SearchError::UnknownJsic(_) => "filters.jsic",
        SearchError::UnknownMunicipality(_) => "filters.municipalities",
        SearchError::UnknownPrefecture(_) => "filters.prefectures",
        SearchError::BadDistance(_) => "filters.near.km",
        SearchError::BadNear => "filters.near",
        SearchError::PageTooLarge(_) => "limit",
        SearchError::OffsetTooLarge(_) => "offset",
        SearchError::BadRange(..) => "filters.employees_min",
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        ApiError::invalid(search_field(&e), e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Search(s) => s.into(),
            EngineError::Match(m) => m.into(),
            EngineError::Invalid(r) => r.into(),
            e @ (EngineError::WriterFailed { .. }
            | EngineError::Locked(_)
            | EngineError::IndexBusy { .. }) => {
                ApiError::new(Kind::WriteUnavailable, e.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        ApiError::internal(e)
    }
}

impl From<MatchError> for ApiError {
    fn from(e: MatchError) -> Self {
        match e {
            MatchError::TopK(_) => ApiError::invalid("top_k", e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

/// Records core refused to index (the routes validate first, so this is
/// a record that passed them and not core's tables): one problem per record,
/// its field path prefixed with its id.
impl From<InvalidRecords> for ApiError {
    fn from(e: InvalidRecords) -> Self {
        let mut err = ApiError::new(Kind::Validation, e.to_string());
        err.errors = e
            .records
            .into_iter()
            .map(|r| FieldProblem {
                field: format!("{}.{}", r.id, r.field),
                reason: r.reason,
            })
            .collect();
        err
    }
}

impl From<matcher_core::outcomes::OutcomeError> for ApiError {
    fn from(e: matcher_core::outcomes::OutcomeError) -> Self {
        use matcher_core::outcomes::OutcomeError;
        match e {
            OutcomeError::Transition(t) => ApiError::new(Kind::IllegalTransition, t.to_string()),
            OutcomeError::Invalid { field, reason } => ApiError::invalid(field, reason),
            OutcomeError::Journal(j) => ApiError::internal(j),
        }
    }
}

impl From<matcher_core::model::validate::FieldError> for ApiError {
    fn from(e: matcher_core::model::validate::FieldError) -> Self {
        ApiError::invalid(e.field, e.reason)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
