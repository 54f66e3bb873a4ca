//! Console log-in: a coordinator or admin key, typed once, opens a session.
//!
//! The key itself never goes into a cookie: the cookie holds a random
//! session token (256 bits) that maps, in this process, to the caller. It
//! is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
//! form carries it) and scoped to `/console`; every form also carries the
//! session's CSRF token. Sessions end after [`SESSION_TTL`] or at logout,
//! and with the process (a restart asks for the key again).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use parking_lot::Mutex;
use serde::Deserialize;

use super::layout;
use super::{ConsoleError, ConsoleResult};
use crate::http::auth::{generate_key, Caller, KeyRole};
use crate::http::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "matcher_console";

/// How long a session lasts without logging in again.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Clone)]
struct Session {
    caller: Caller,
    csrf: String,
    expires: Instant,
}

/// The logged-in sessions of this process.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn open(&self, caller: Caller) -> String {
        let token = generate_key();
        let mut m = self.map.lock();
        let now = Instant::now();
        m.retain(|_, s| s.expires > now);
        m.insert(
            token.clone(),
            Session {
                caller,
                csrf: generate_key(),
                expires: now + SESSION_TTL,
            },
        );
        token
    }

    fn get(&self, token: &str) -> Option<Session> {
        let m = self.map.lock();
        m.get(token).filter(|s| s.expires > Instant::now()).cloned()
    }

    fn close(&self, token: &str) {
        self.map.lock().remove(token);
    }
}

/// A logged-in coordinator or admin (the extractor redirects to the login
/// page otherwise).
#[derive(Debug, Clone)]
pub struct User {
    pub caller: Caller,
    /// The session's CSRF token, put into every form.
    pub csrf: String,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.caller.role == KeyRole::Admin
    }

    /// Refuse a form that does not carry this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> ConsoleResult<()> {
        if token == self.csrf {
            Ok(())
        } else {
            Err(ConsoleError::new(
                StatusCode::FORBIDDEN,
                "フォームの有効期限が切れました。ページを再読み込みしてからもう一度送信してください。",
            ))
        }
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<AppState> for User {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie_token(&parts.headers).ok_or(ConsoleError::Login)?;
        let s = state.inner.console.get(&token).ok_or(ConsoleError::Login)?;
        Ok(User {
            caller: s.caller,
            csrf: s.csrf,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub error: Option<String>,
}

fn login_form(message: Option<&str>) -> maud::Markup {
    layout::bare(
        "ログイン",
        html! {
            div.login {
                h1 { "matcher コーディネーター コンソール" }
                p { "連携コーディネーター・管理者用の API キーでログインしてください。" }
                @if let Some(m) = message {
                    div.error role="alert" id="login-error" { (m) }
                }
                form method="post" action="/console/login" {
                    label for="key" { "API キー" }
                    input #key type="password" name="key" autocomplete="off" required;
                    button type="submit" { "ログイン" }
                }
            }
        },
    )
}

/// `GET /console/login`.
pub async fn login_page() -> maud::Markup {
    login_form(None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub key: String,
}

/// `POST /console/login`: a staff key opens a session; a portal key or an
/// unknown key is refused with a message (and a 401/403).
pub async fn login(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    match state.keys().lookup(&f.key) {
        None => (
            StatusCode::UNAUTHORIZED,
            login_form(Some("API キーが正しくありません。")),
        )
            .into_response(),
        Some(c) if c.role == KeyRole::Portal => (
            StatusCode::FORBIDDEN,
            login_form(Some(
                "ポータル用のキーではコンソールに入れません。コーディネーターまたは管理者のキーを使ってください。",
            )),
        )
            .into_response(),
        Some(c) => {
            tracing::info!(key = %c.name, role = c.role.as_str(), "console login");
            let token = state.inner.console.open(c);
            let cookie = format!(
                "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
                SESSION_TTL.as_secs()
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to("/console/search")).into_response()
        }
    }
}

/// `POST /console/logout`.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(t) = cookie_token(&headers) {
        state.inner.console.close(&t);
    }
    let cookie = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/console/login"),
    )
        .into_response()
}
