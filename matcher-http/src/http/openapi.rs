//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the
//! code with [`utoipa`].
//!
//! - What each operation takes and answers is its handler's
//!   `#[utoipa::path(...)]` annotation in [`super::routes`]: path, method,
//!   operation id, parameters, body, success answers and the errors the
//!   handler itself gives (the [`BadRequest`]… responses below).
//! - The schemas are the `ToSchema` derives of the types the handlers
//!   serialize: core's behind its `openapi` feature, this crate's here and in
//!   `routes/`. Serde's attributes are read, so the names, the required
//!   fields and `deny_unknown_fields` cannot drift from what is answered.
//! - [`document`] walks the endpoint table (the one the router is built
//!   from) and adds what only the table knows: who may call each route
//!   (`Roles:`, `x-roles`, no security on open routes) and so which of
//!   401, 403 and 429 it can answer, and 503 for everything that needs the
//!   index. Then it writes the server's [`Limits`] into the schemas and
//!   parameters they bound ([`LIMITED`]) and closes every object schema
//!   (`additionalProperties: false`: matcher answers no field it does not
//!   document).
//!
//! The integration tests check every answer against this document, CI
//! validates it with `openapi-spec-validator` (`scripts/openapi-validate.sh`)
//! and `scripts/schemathesis.sh` fuzzes the running server with it.

use axum::http::Method;
use serde_json::{json, Value};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi as Document};
use utoipa::{IntoResponses, OpenApi};

use super::auth::Access;
use super::error::Problem;
use super::routes::endpoints;
use super::state::Limits;

/// The parts of the document that belong to no route.
#[derive(OpenApi)]
#[openapi(
    info(title = "matcher"),
    servers((url = "/")),
    security(("bearer" = []), ("apiKey" = [])),
    tags(
        (name = "companies"), (name = "needs"), (name = "outcomes"), (name = "search"),
        (name = "matching"), (name = "batch"), (name = "taxonomy"), (name = "health"),
    ),
    // Schemas no operation refers to: problems (the error responses are
    // added by `document`), and the lines of a batch job's JSON Lines.
    components(schemas(Problem, matcher_core::matching::batch::BatchLine)),
)]
struct Base;

/// 400 of a handler that reads a body.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "malformed JSON or request",
    content_type = "application/problem+json"
)]
pub struct BadRequest(pub Problem<'static>);

/// 404 of a handler that looks a record up.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "unknown id (also for records the key may not see)",
    content_type = "application/problem+json"
)]
pub struct NotFound(pub Problem<'static>);

/// 409 of a create.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "the id exists",
    content_type = "application/problem+json"
)]
pub struct Conflict(pub Problem<'static>);

/// 409 of an outcome move.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "a move the pair's stage does not allow (`illegal-transition`, naming what to record first)",
    content_type = "application/problem+json"
)]
pub struct IllegalTransition(pub Problem<'static>);

/// 413 of a handler that reads a body.
#[derive(IntoResponses)]
#[response(
    status = 413,
    description = "body, or records in it, over the limit",
    content_type = "application/problem+json"
)]
pub struct TooLarge(pub Problem<'static>);

/// 415 of a handler that reads a body.
#[derive(IntoResponses)]
#[response(
    status = 415,
    description = "unsupported media type",
    content_type = "application/problem+json"
)]
pub struct Unsupported(pub Problem<'static>);

/// 422 of a handler that validates what it is given.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "invalid field (errors[].field names it)",
    content_type = "application/problem+json"
)]
pub struct Invalid(pub Problem<'static>);

/// The errors every route can answer by its access and its need of the
/// index, with their descriptions.
fn common_errors(operation_id: &str, access: Access) -> Vec<(u16, &'static str)> {
    let mut codes = Vec::new();
    if access != Access::Open {
        codes.push((401, "missing or wrong API key"));
        if access != Access::AnyKey {
            codes.push((403, "this key's role may not do this"));
        }
        codes.push((429, "over the key's request rate, or too many batch jobs"));
    }
    if operation_id != "healthz" && operation_id != "openapi" {
        codes.push((
            503,
            "not ready, over the request time limit, or (matching) too busy: `overloaded`, with Retry-After",
        ));
    }
    codes
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn http_method(m: &Method) -> Option<HttpMethod> {
    Some(match *m {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        _ => return None,
    })
}

/// The typed document: the annotated operations of the endpoint table and
/// the schemas they refer to, before [`document`]'s additions.
pub fn generated(limits: &Limits) -> Document {
    let mut doc = Base::openapi();
    let mut schemas = Vec::new();
    for e in endpoints(limits) {
        let Some(method) = http_method(&e.method) else {
            continue;
        };
        doc.paths
            .add_path_operation(&e.path, vec![method], e.operation);
        schemas.extend(e.schemas);
    }
    let components = doc.components.take().unwrap_or_default();
    let builder = ComponentsBuilder::from(components)
        .schemas_from_iter(schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    doc.components = Some(builder.build());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.info.description = Some(info_description(limits));
    doc
}

fn info_description(limits: &Limits) -> String {
    format!(
        "Business matching for regional industrial promotion: companies (seeds), needs, search, matching, batch jobs and reference tables.\n\n\
         Keys: `Authorization: Bearer KEY` or `X-API-Key: KEY`. Roles: admin (writes), coordinator (reads everything, runs batch jobs), portal (public records only; a restricted company answers exactly like a missing one).\n\n\
         Errors are application/problem+json (RFC 9457) with a stable `type` (`urn:matcher:problem:…`). Limits: JSON bodies {} bytes, bulk uploads {} bytes and {} records, pages {} items, queries {} characters, requests {} s; matches waiting for a core: {} per core, beyond which a match is answered 503 `overloaded` with Retry-After.",
        limits.json_body,
        limits.bulk_body,
        limits.bulk_rows,
        limits.max_page,
        limits.max_query_chars,
        limits.request_timeout.as_secs_f64(),
        limits.queue_per_core
    )
}

/// The OpenAPI 3.1 document this server serves.
pub fn document(limits: &Limits) -> Value {
    let mut doc = match serde_json::to_value(generated(limits)) {
        Ok(v) => v,
        Err(e) => {
            // Not expected: the document is plain data (see the tests).
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            return json!({ "openapi": "3.1.0", "info": { "title": "matcher", "version": env!("CARGO_PKG_VERSION") }, "paths": {} });
        }
    };
    for e in endpoints(limits) {
        let method = e.method.as_str().to_ascii_lowercase();
        let op = &mut doc["paths"][e.path.as_str()][method.as_str()];
        if !op.is_object() {
            continue;
        }
        for (code, description) in common_errors(e.operation_id(), e.access) {
            op["responses"][code.to_string()] = problem(description);
        }
        op["responses"]["default"] = problem("any other error");
        let roles = e.access.roles();
        let mut description = op["description"].as_str().unwrap_or("").to_owned();
        if !roles.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&format!("Roles: {}.", roles.join(", ")));
        }
        op["description"] = json!(description);
        op["x-roles"] = json!(roles);
        if e.access == Access::Open {
            op["security"] = json!([]);
        }
    }
    for (what, key, value) in limited(limits) {
        if let Some(slot) = what.find(&mut doc) {
            slot[key] = value;
        }
    }
    set_description(&mut doc, "importCompanies", import_description(limits));
    set_description(&mut doc, "importNeeds", import_description(limits));
    set_bulk_body(&mut doc, "importCompanies", "Companies", limits);
    set_bulk_body(&mut doc, "importNeeds", "Needs", limits);
    // `[usize; 2]` is an array to the derive; each highlight is a pair.
    for field in PAIRS {
        if let Some(items) = doc.pointer_mut(&format!(
            "/components/schemas/Snippet/properties/{field}/items"
        )) {
            items["minItems"] = json!(2);
            items["maxItems"] = json!(2);
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for s in schemas.values_mut() {
            tighten(s);
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        let params = paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
            .flatten();
        for p in params {
            if let Some(s) = p.get_mut("schema") {
                tighten(s);
            }
        }
    }
    doc
}

/// The `Snippet` fields that hold `[start, end)` pairs.
const PAIRS: [&str; 3] = ["highlights", "highlights_utf16", "highlights_chars"];

/// Where a limit goes: a property of a component schema, or a parameter of
/// an operation.
#[derive(Debug, Clone, Copy)]
pub enum Limited {
    Property {
        schema: &'static str,
        property: &'static str,
    },
    Parameter {
        operation_id: &'static str,
        name: &'static str,
    },
}

impl Limited {
    /// The schema object this names in `doc`, if it is there.
    fn find<'a>(&self, doc: &'a mut Value) -> Option<&'a mut Value> {
        match *self {
            Limited::Property { schema, property } => doc.pointer_mut(&format!(
                "/components/schemas/{schema}/properties/{property}"
            )),
            Limited::Parameter { operation_id, name } => {
                let op = find_operation(doc, operation_id)?;
                op.get_mut("parameters")?
                    .as_array_mut()?
                    .iter_mut()
                    .find(|p| p["name"] == name)?
                    .get_mut("schema")
            }
        }
    }
}

fn find_operation<'a>(doc: &'a mut Value, operation_id: &str) -> Option<&'a mut Value> {
    doc.get_mut("paths")?
        .as_object_mut()?
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .find(|op| op["operationId"] == operation_id)
}

/// The bounds that depend on the server's [`Limits`] (or on core's
/// constants), and where the document states them.
pub fn limited(limits: &Limits) -> Vec<(Limited, &'static str, Value)> {
    use Limited::*;
    let max_offset = matcher_core::index::search::MAX_OFFSET;
    let param = |operation_id, name| Parameter { operation_id, name };
    let prop = |schema, property| Property { schema, property };
    let mut v = vec![
        (
            prop("SearchRequest", "query"),
            "maxLength",
            json!(limits.max_query_chars),
        ),
        (
            prop("SearchRequest", "offset"),
            "maximum",
            json!(max_offset),
        ),
        (prop("SearchRequest", "limit"), "minimum", json!(1)),
        (
            prop("SearchRequest", "limit"),
            "maximum",
            json!(limits.max_page),
        ),
        (
            prop("BatchRequest", "top_k"),
            "maximum",
            json!(limits.batch_top_k),
        ),
        (
            param("searchGet", "q"),
            "maxLength",
            json!(limits.max_query_chars),
        ),
        (param("searchGet", "offset"), "maximum", json!(max_offset)),
    ];
    for op in ["listCompanies", "listNeeds", "listOutcomes", "searchGet"] {
        v.push((param(op, "limit"), "maximum", json!(limits.max_page)));
    }
    for op in ["needMatches", "matchAdhoc", "companyOpportunities"] {
        v.push((param(op, "top_k"), "maximum", json!(limits.max_top_k)));
    }
    v
}

fn set_description(doc: &mut Value, operation_id: &str, description: String) {
    if let Some(op) = find_operation(doc, operation_id) {
        op["description"] = match op["description"].as_str() {
            Some(rest) if !rest.is_empty() => json!(format!("{description}\n\n{rest}")),
            _ => json!(description),
        };
    }
}

fn set_bulk_body(doc: &mut Value, operation_id: &str, what: &str, limits: &Limits) {
    if let Some(op) = find_operation(doc, operation_id) {
        op["requestBody"]["description"] = json!(format!(
            "{what} as JSON Lines (application/x-ndjson) or CSV (text/csv, header row, English or Japanese column names); UTF-8 or Shift_JIS (charset parameter or ?encoding=). At most {} bytes and {} records.",
            limits.bulk_body, limits.bulk_rows
        ));
    }
}

fn import_description(limits: &Limits) -> String {
    format!(
        "Records are committed in file order, {} per commit. No commit starts after {} s ({} % of the \
         request limit; the route is not cut off at the limit): then the answer is still 200, with \
         `timed_out: true`, `committed`, `not_committed` and `first_not_committed_id` (resend from that \
         record's row on). Nothing is committed after the answer.",
        matcher_core::engine::COMMIT_BATCH,
        limits.request_timeout.as_secs_f64() * super::routes::bulk::DEADLINE_SHARE,
        (super::routes::bulk::DEADLINE_SHARE * 100.0).round(),
    )
}

/// What the derives leave open: `additionalProperties: false` on every
/// object schema with properties that does not say otherwise (except the
/// parts of an `allOf`, each of which sees only some of the properties),
/// and the largest value of the unsigned formats (`uint32`: a `u32`).
fn tighten(schema: &mut Value) {
    let Some(o) = schema.as_object_mut() else {
        return;
    };
    if o.contains_key("properties") && !o.contains_key("additionalProperties") {
        o.insert("additionalProperties".into(), Value::Bool(false));
    }
    // utoipa 5.5 spells its unsigned formats `u-int32` (serde's kebab case
    // of `UInt32`); the format registry's name is `uint32`.
    let unsigned = match o.get("format").and_then(Value::as_str) {
        Some("u-int8") => Some(("uint8", u64::from(u8::MAX))),
        Some("u-int16") => Some(("uint16", u64::from(u16::MAX))),
        Some("u-int32") => Some(("uint32", u64::from(u32::MAX))),
        Some("u-int64") => Some(("uint64", u64::MAX)),
        _ => None,
    };
    if let Some((format, max)) = unsigned {
        o.insert("format".into(), json!(format));
        if max < 1 << 53 {
            // Larger ones are not exact in every JSON reader.
            o.entry("maximum").or_insert(json!(max));
        }
    }
    for (key, sub) in o.iter_mut() {
        match key.as_str() {
            "properties" => {
                if let Some(props) = sub.as_object_mut() {
                    props.values_mut().for_each(tighten);
                }
            }
            "items" | "additionalProperties" => tighten(sub),
            "oneOf" | "anyOf" => {
                if let Some(a) = sub.as_array_mut() {
                    a.iter_mut().for_each(tighten);
                }
            }
            _ => {}
        }
    }
}

/// Operation ids of the endpoint table whose handler has no annotation
/// (tests). The annotation is what routes a handler, so this is empty by
/// construction; kept for the tests that ask.
pub fn undocumented(limits: &Limits) -> Vec<String> {
    endpoints(limits)
        .into_iter()
        .filter(|e| e.operation_id().is_empty())
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn every_endpoint_is_documented() {
        assert!(undocumented(&Limits::default()).is_empty());
    }

    #[test]
    fn every_limit_lands() {
        let limits = Limits::default();
        let mut doc = document(&limits);
        for (what, key, value) in limited(&limits) {
            let slot = what
                .find(&mut doc)
                .unwrap_or_else(|| panic!("{what:?} is not in the document"));
            assert_eq!(slot[key], value, "{what:?}");
        }
        for field in PAIRS {
            let items = &doc["components"]["schemas"]["Snippet"]["properties"][field]["items"];
            assert_eq!(items["maxItems"], 2, "{field}");
        }
        for op in ["importCompanies", "importNeeds"] {
            let o = find_operation(&mut doc, op).unwrap();
            assert!(o["description"].as_str().unwrap().contains("per commit"));
            assert!(o["requestBody"]["description"]
                .as_str()
                .unwrap()
                .contains("records"));
        }
    }

    #[test]
    fn every_ref_resolves() {
        let doc = document(&Limits::default());
        let schemas = doc["components"]["schemas"].as_object().unwrap().clone();
        fn walk(v: &Value, schemas: &Map<String, Value>) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        let name = r.trim_start_matches("#/components/schemas/");
                        assert!(schemas.contains_key(name), "dangling $ref {r}");
                    }
                    o.values().for_each(|x| walk(x, schemas));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, schemas)),
                _ => {}
            }
        }
        walk(&doc, &schemas);
    }
}
