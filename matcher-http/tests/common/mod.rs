//! Shared test harness: one in-memory engine per test binary (the bundled
//! fixtures), a real server on an ephemeral 127.0.0.1 port per test, and a
//! client that checks every answer against the OpenAPI document.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use matcher_core::{fixtures, Context, Engine};
use matcher_http::http::{self, ApiKeys, AppState, KeyRole, Limits};
use serde_json::Value;

pub const ADMIN: &str = "test-admin-key-0001";
pub const COORD: &str = "test-coordinator-key-0002";
pub const PORTAL: &str = "test-portal-key-0003";

pub fn keys() -> ApiKeys {
    ApiKeys::new()
        .with_key("admin", KeyRole::Admin, ADMIN)
        .with_key("coordinator", KeyRole::Coordinator, COORD)
        .with_key("portal", KeyRole::Portal, PORTAL)
}

static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();

/// The fixtures in memory, plus what `setup` adds (the same `setup` for a
/// whole test binary: the first call builds the engine).
pub fn engine_with(setup: fn(&Engine)) -> Arc<Engine> {
    ENGINE
        .get_or_init(|| {
            let dir = fixtures::fixtures_dir();
            let ctx = Context::load(&dir).expect("fixtures context");
            let engine = Engine::in_memory(Arc::new(ctx)).expect("engine");
            fixtures::load_into(&engine, &dir).expect("load fixtures");
            setup(&engine);
            Arc::new(engine)
        })
        .clone()
}

pub fn engine() -> Arc<Engine> {
    engine_with(|_| {})
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
    /// Assert the status; on failure show the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }
    /// Assert a problem answer of this status and type slug.
    #[track_caller]
    pub fn problem(&self, status: u16, slug: &str) -> Value {
        self.expect(status);
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "content type {} for {}",
            self.content_type(),
            self.text
        );
        let v = self.json();
        assert_eq!(v["type"], format!("urn:matcher:problem:{slug}"), "{v}");
        assert_eq!(v["status"], status, "{v}");
        assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
        v
    }
    /// The field path of a 422 problem.
    #[track_caller]
    pub fn invalid_field(&self) -> String {
        let v = self.problem(422, "validation");
        v["errors"][0]["field"]
            .as_str()
            .unwrap_or_else(|| panic!("no errors[0].field in {v}"))
            .to_owned()
    }
}

pub enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub doc: Value,
    pub state: AppState,
}

/// Start the real router on 127.0.0.1:0, on the server's own connections.
pub async fn start(state: AppState) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // With connect info, as `serve` does (keyless requests are rate-limited per address).
    let app = http::router(state.clone()).into_make_service_with_connect_info::<http::wire::Peer>();
    tokio::spawn(async move {
        axum::serve(http::wire::ProblemListener::new(listener), app)
            .await
            .unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        doc: http::openapi::document(state.limits()),
        state,
    }
}

/// A server over the shared engine with default limits.
pub async fn server() -> Server {
    start(AppState::new(engine(), keys())).await
}

pub async fn server_with(limits: Limits) -> Server {
    start(AppState::new(engine(), keys()).with_limits(limits)).await
}

impl Server {
    pub async fn send(&self, method: &str, path: &str, key: Option<&str>, body: Body) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(m, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&v).unwrap()),
            Body::Raw(ct, bytes) => {
                let r = req.body(bytes);
                if ct.is_empty() {
                    r
                } else {
                    r.header("content-type", ct)
                }
            }
        };
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let r = Resp {
            status,
            headers,
            text,
        };
        self.conform(method, path, &r);
        r
    }

    pub async fn get(&self, path: &str, key: &str) -> Resp {
        self.send("GET", path, Some(key), Body::None).await
    }
    pub async fn post(&self, path: &str, key: &str, v: Value) -> Resp {
        self.send("POST", path, Some(key), Body::Json(v)).await
    }
    pub async fn put(&self, path: &str, key: &str, v: Value) -> Resp {
        self.send("PUT", path, Some(key), Body::Json(v)).await
    }
    pub async fn delete(&self, path: &str, key: &str) -> Resp {
        self.send("DELETE", path, Some(key), Body::None).await
    }

    /// Check an answer against the OpenAPI document: a documented status
    /// (or `default`), its content type, and its JSON schema.
    #[track_caller]
    pub fn conform(&self, method: &str, path: &str, r: &Resp) {
        if method == "OPTIONS" {
            return;
        }
        assert!(
            r.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "{method} {path}: no x-request-id"
        );
        if r.status >= 400 {
            assert!(
                r.content_type().starts_with("application/problem+json"),
                "{method} {path} → {}: content type {:?}: {}",
                r.status,
                r.content_type(),
                r.text
            );
        }
        let path_only = path.split('?').next().unwrap();
        let Some(op) = find_operation(&self.doc, method, path_only) else {
            // An unknown route: the answer must still be a problem.
            if r.status >= 400 {
                validate(&self.doc, &schema_ref("Problem"), &r.json())
                    .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", r.text));
            }
            return;
        };
        let responses = &op["responses"];
        let resp = responses
            .get(r.status.to_string())
            .or_else(|| responses.get("default"))
            .unwrap_or_else(|| panic!("{method} {path}: status {} not documented", r.status));
        let Some(content) = resp.get("content").and_then(Value::as_object) else {
            assert!(
                r.text.is_empty(),
                "{method} {path}: body where none is documented"
            );
            return;
        };
        let ct = r.content_type().split(';').next().unwrap_or("").trim();
        let media = content.get(ct).unwrap_or_else(|| {
            panic!(
                "{method} {path} → {}: content type {ct:?} not documented",
                r.status
            )
        });
        if ct == "application/json" || ct.ends_with("+json") {
            validate(&self.doc, &media["schema"], &r.json()).unwrap_or_else(|e| {
                panic!(
                    "{method} {path} → {}: schema violation: {e}\n{}",
                    r.status, r.text
                )
            });
        }
    }
}

fn schema_ref(name: &str) -> Value {
    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The operation for a concrete path (`/v1/companies/tk-001` → `/v1/companies/{id}`).
pub fn find_operation<'a>(doc: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let segs: Vec<&str> = path.split('/').collect();
    let paths = doc["paths"].as_object()?;
    let mut best: Option<(&'a Value, usize)> = None;
    for (template, item) in paths {
        let t: Vec<&str> = template.split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let fits = t.iter().zip(&segs).all(|(a, b)| {
            if a.starts_with('{') {
                true
            } else {
                literal += 1;
                a == b
            }
        });
        if fits && best.is_none_or(|(_, l)| literal > l) {
            best = Some((item, literal));
        }
    }
    best.and_then(|(item, _)| item.get(method.to_ascii_lowercase()))
}

/// A small JSON Schema checker for the subset the document uses.
pub fn validate(doc: &Value, schema: &Value, v: &Value) -> Result<(), String> {
    check(doc, schema, v, "$")
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let s = &doc["components"]["schemas"][name];
        assert!(!s.is_null(), "dangling $ref {r}");
        return check(doc, s, v, at);
    }
    if v.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(doc, s, v, at)?;
        }
    }
    // OpenAPI 3.1 (JSON Schema 2020-12): `oneOf` exactly one, `anyOf` at least one.
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let errors: Vec<String> = one
            .iter()
            .filter_map(|s| check(doc, s, v, at).err())
            .collect();
        if one.len() - errors.len() != 1 {
            return Err(format!(
                "{at}: {v} matches {} of oneOf (one expected): {errors:?}",
                one.len() - errors.len()
            ));
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|s| check(doc, s, v, at).is_ok()) {
            return Err(format!("{at}: {v} matches nothing of anyOf"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return Err(format!("{at}: {v} is not {c}"));
        }
    }
    // `type` is a name, or (3.1) a list of names such as ["string", "null"].
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let is = |ty: &str| match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    };
    if !types.iter().any(|t| is(t)) {
        return Err(format!("{at}: expected {}, got {v}", types.join(" or ")));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
            if n < min {
                return Err(format!("{at}: {n} < minimum {min}"));
            }
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
            if n > max {
                return Err(format!("{at}: {n} > maximum {max}"));
            }
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(n) = schema.get("minItems").and_then(Value::as_u64) {
            if (a.len() as u64) < n {
                return Err(format!("{at}: fewer than {n} items"));
            }
        }
        if let Some(n) = schema.get("maxItems").and_then(Value::as_u64) {
            if (a.len() as u64) > n {
                return Err(format!("{at}: more than {n} items"));
            }
        }
        if let Some(items) = schema.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(doc, items, x, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Some(o) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req {
                let k = r.as_str().unwrap();
                if !o.contains_key(k) {
                    return Err(format!("{at}: required property {k:?} missing"));
                }
            }
        }
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, x, &format!("{at}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: undocumented property {k:?}"))
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// Poll a batch job until it is no longer queued or running.
pub async fn wait_job(s: &Server, id: &str, key: &str) -> Value {
    for _ in 0..600 {
        let v = s.get(&format!("/v1/batch/{id}"), key).await.json();
        let st = v["status"].as_str().unwrap().to_owned();
        if st != "queued" && st != "running" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("batch job {id} did not finish in 60 s");
}
