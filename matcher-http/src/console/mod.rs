//! The coordinator console: a Japanese web workbench under `/console/`,
//! served by the same process and the same keys as the REST API.
//!
//! Server-rendered HTML ([`maud`] templates, checked and escaped at compile
//! time) with plain forms and one small script for conveniences; every
//! page works without JavaScript, and every asset is served from here (no
//! CDN). Handlers are as thin as the REST ones: they call the same core
//! entry points, and the shortlist writes go through
//! `http::routes::outcomes::record_checked`, so the console and the API
//! refuse the same things.
//!
//! - [`session`]: log in with a coordinator or admin key (a portal key is
//!   refused), an HttpOnly SameSite=Strict cookie, a CSRF token per session;
//! - [`layout`]: the page frame and small formatting helpers;
//! - [`search`]: company search and the company page (opportunities, audit);
//! - [`needs`]: the need list, the need form, candidates and the shortlist;
//! - [`kpi`]: KPI tables, the SVG plot and the audit page;
//! - [`export`]: CSV in UTF-8 with BOM or Shift_JIS.

pub mod export;
pub mod kpi;
pub mod layout;
pub mod needs;
pub mod search;
pub mod session;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

pub use session::Sessions;

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// An error page. Carries a status and a Japanese message.
#[derive(Debug)]
pub enum ConsoleError {
    /// Not logged in (or the session expired): to the login page.
    Login,
    /// A page with a message.
    Page { status: StatusCode, message: String },
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ConsoleError::Page {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{what}「{id}」は見つかりません。"),
        )
    }
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        use crate::http::error::Kind;
        let status = e.kind.status();
        let message = match e.kind {
            Kind::NotFound => "見つかりません。".to_owned(),
            Kind::Forbidden => "この操作の権限がありません。".to_owned(),
            Kind::IllegalTransition => format!("この段階には進めません: {}", e.detail),
            Kind::Validation => {
                let fields: Vec<String> = e
                    .errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.reason))
                    .collect();
                format!("入力に誤りがあります: {}", fields.join(" / "))
            }
            Kind::NotReady => {
                "索引を開いています。しばらくしてから再読み込みしてください。".to_owned()
            }
            Kind::Overloaded | Kind::Timeout => {
                "混み合っています。少し待ってから再度お試しください。".to_owned()
            }
            Kind::WriteUnavailable => {
                "書き込みが停止しています。管理者にサーバーの再起動を依頼してください。".to_owned()
            }
            _ => format!("エラーが発生しました（{}）。", e.detail),
        };
        ConsoleError::Page { status, message }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::Login => Redirect::to("/console/login").into_response(),
            ConsoleError::Page { status, message } => {
                let body = layout::bare(
                    "エラー",
                    maud::html! {
                        div.error role="alert" { (message) }
                        p { a href="/console/" { "コンソールのトップへ" } }
                    },
                );
                (status, body).into_response()
            }
        }
    }
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        JS,
    )
        .into_response()
}

async fn home() -> Redirect {
    Redirect::to("/console/search")
}

/// The console's routes (merged into the API router by `http::router`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .route(
            "/console/login",
            get(session::login_page).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route("/console/search", get(search::search_page))
        .route("/console/companies/{id}", get(search::company_page))
        .route("/console/needs", get(needs::list_page).post(needs::create))
        .route("/console/needs/new", get(needs::new_page))
        .route("/console/match", post(needs::adhoc))
        .route(
            "/console/needs/{id}",
            get(needs::need_page).post(needs::update),
        )
        .route("/console/needs/{id}/edit", get(needs::edit_page))
        .route("/console/needs/{id}/close", post(needs::close))
        .route("/console/needs/{id}/shortlist", post(needs::shortlist_add))
        .route("/console/needs/{id}/move", post(needs::move_pair))
        .route(
            "/console/needs/{id}/candidates.csv",
            get(export::candidates),
        )
        .route("/console/needs/{id}/shortlist.csv", get(export::shortlist))
        .route("/console/kpi", get(kpi::kpi_page))
        .route("/console/kpi.csv", get(export::kpis))
        .route("/console/kpi.svg", get(kpi::kpi_svg))
        .route("/console/audit", get(kpi::audit_page))
}
