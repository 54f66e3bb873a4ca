//! The OpenAPI 3 document served at `/openapi.json`.
//!
//! Paths, methods and who may call them come from the endpoint table in
//! [`super::routes`] (the same table the router is built from); this file
//! holds what each operation takes and answers, and the schemas of the
//! JSON that core's types serialize to. The integration tests check every
//! documented response against these schemas, and `scripts/schemathesis.sh`
//! fuzzes the running server with them.

use serde_json::{json, Map, Value};

use super::auth::Access;
use super::error::Kind;
use super::routes::endpoints;
use super::state::Limits;

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn arr(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn nullable(mut v: Value) -> Value {
    if v.get("$ref").is_some() {
        return json!({ "allOf": [v], "nullable": true });
    }
    v["nullable"] = json!(true);
    v
}

fn s() -> Value {
    json!({ "type": "string" })
}
fn int() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}
fn num() -> Value {
    json!({ "type": "number" })
}
fn boolean() -> Value {
    json!({ "type": "boolean" })
}

/// An object schema: `props` in order, `required` names, no other properties.
fn obj(props: &[(&str, Value)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_owned(), v.clone());
    }
    let mut o = json!({ "type": "object", "properties": p, "additionalProperties": false });
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// Highlight ranges: `[start, end)` pairs in one unit.
fn range(description: &str) -> Value {
    let mut v = arr(json!({"type": "array", "items": int(), "minItems": 2, "maxItems": 2}));
    v["description"] = json!(description);
    v
}

/// Every property required (response shapes that always carry each field).
fn all_required(props: &[(&str, Value)]) -> Value {
    let names: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
    obj(props, &names)
}

fn record_id() -> Value {
    json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" })
}
fn jsic_code() -> Value {
    json!({ "type": "string", "pattern": "^([A-T]|[0-9]{2,4})$",
            "description": "JSIC section letter, or 2-4 digit division/group/class" })
}
fn municipality_code() -> Value {
    json!({ "type": "string", "pattern": "^[0-9]{5,6}$",
            "description": "全国地方公共団体コード: 5 digits, or 6 with the check digit; answered in the 6-digit form" })
}
fn date() -> Value {
    json!({ "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "YYYY-MM-DD" })
}
fn prefecture() -> Value {
    json!({ "type": "string", "pattern": "^[0-9]{2}$", "description": "two-digit prefecture code 01-47" })
}

fn schemas(limits: &Limits) -> Value {
    let problem_types: Vec<String> = Kind::ALL.iter().map(|k| k.type_uri()).collect();
    let need_kind = json!({ "type": "string", "enum": [
        "subcontracting", "joint_development", "sales_channel", "procurement",
        "succession", "talent", "funding", "other"] });
    let need_status = json!({ "type": "string", "enum": ["open", "closed"] });
    let visibility = json!({ "type": "string", "enum": ["public", "restricted"] });
    let need_props = |id_required: bool| {
        let props = [
            ("id", record_id()),
            ("company_id", record_id()),
            ("kind", need_kind.clone()),
            ("title", s()),
            ("text", s()),
            ("industry_codes", arr(jsic_code())),
            ("equipment", arr(s())),
            ("certifications_required", arr(s())),
            ("region", r("Region")),
            ("status", need_status.clone()),
        ];
        if id_required {
            obj(&props, &["id", "kind", "title", "text"])
        } else {
            obj(&props, &["kind", "title", "text"])
        }
    };
    let page = |item: &str| {
        all_required(&[
            ("total", int()),
            ("offset", int()),
            ("limit", int()),
            ("items", arr(r(item))),
        ])
    };
    let written = |item: &str| {
        all_required(&[
            ("id", s()),
            ("created", boolean()),
            ("warnings", arr(s())),
            ("record", r(item)),
        ])
    };
    let facet = all_required(&[("value", s()), ("label", s()), ("count", int())]);
    json!({
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details (application/problem+json).",
            "required": ["type", "title", "status", "detail"],
            "additionalProperties": false,
            "properties": {
                "type": { "type": "string", "enum": problem_types },
                "title": s(),
                "status": { "type": "integer", "minimum": 400, "maximum": 599 },
                "detail": s(),
                "errors": arr(r("FieldProblem")),
            }
        },
        "FieldProblem": all_required(&[("field", s()), ("reason", s())]),
        "GeoPoint": all_required(&[("lat", num()), ("lon", num())]),
        "Equipment": obj(&[
            ("name", s()),
            ("maker", s()),
            ("model", s()),
            ("count", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64})),
            ("spec", s()),
        ], &["name"]),
        "Company": obj(&[
            ("id", record_id()),
            ("name", s()),
            ("name_kana", s()),
            ("municipality_code", municipality_code()),
            ("address", s()),
            ("location", r("GeoPoint")),
            ("industry_codes", arr(jsic_code())),
            ("capabilities", s()),
            ("products", s()),
            ("equipment", arr(r("Equipment"))),
            ("certifications", arr(s())),
            ("employees", json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64})),
            ("capital_jpy", int()),
            ("founded_year", json!({"type": "integer", "minimum": 0, "maximum": 65535})),
            ("visibility", visibility.clone()),
            ("updated_at", date()),
        ], &["id", "name", "municipality_code", "industry_codes", "capabilities"]),
        "Region": obj(&[
            ("municipality_codes", arr(municipality_code())),
            ("prefecture_codes", arr(prefecture())),
            ("max_distance_km", num()),
        ], &[]),
        "Need": need_props(true),
        "NeedDraft": need_props(false),
        "CompanyPage": page("Company"),
        "NeedPage": page("Need"),
        "WrittenCompany": written("Company"),
        "WrittenNeed": written("Need"),
        "Near": obj(&[
            ("lat", nullable(num())),
            ("lon", nullable(num())),
            ("municipality", nullable(municipality_code())),
            ("km", num()),
        ], &["km"]),
        "Filters": obj(&[
            ("jsic", json!({"type": "array", "items": s(),
                "description": "JSIC codes at any level, or cluster ids: any of"})),
            ("municipalities", arr(municipality_code())),
            ("prefectures", arr(prefecture())),
            ("near", nullable(r("Near"))),
            ("certifications", arr(s())),
            ("equipment", nullable(s())),
            ("employees_min", nullable(json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64}))),
            ("employees_max", nullable(json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64}))),
            ("updated_since", nullable(date())),
            ("exclude_stale", boolean()),
            ("visibility", nullable(visibility.clone())),
        ], &[]),
        "SearchRequest": obj(&[
            ("query", json!({"type": "string", "maxLength": limits.max_query_chars,
                "description": "words; \"a phrase\"; -excluded"})),
            ("filters", r("Filters")),
            ("sort", json!({"type": "string", "enum": ["relevance", "updated_at"]})),
            ("offset", json!({"type": "integer", "minimum": 0, "maximum": matcher_core::index::search::MAX_OFFSET})),
            ("limit", json!({"type": "integer", "minimum": 1, "maximum": limits.max_page})),
            ("facets", boolean()),
            ("highlight", boolean()),
            ("formatted", json!({"type": "boolean",
                "description": "also give each snippet as escaped HTML with <em> highlights (`formatted`; default false)"})),
        ], &[]),
        "Snippet": obj(&[
            ("field", s()),
            ("text", s()),
            ("highlights", range("UTF-8 byte offsets [start, end) into `text`")),
            ("highlights_utf16", range("the same ranges in UTF-16 code units: JavaScript's `text.slice(start, end)`")),
            ("highlights_chars", range("the same ranges in Unicode code points: Python's `text[start:end]`")),
            ("formatted", json!({"type": "string",
                "description": "`text` HTML-escaped, with <em>…</em> around each highlight; only when the search asked for `formatted`"})),
        ], &["field", "text", "highlights", "highlights_utf16", "highlights_chars"]),
        "Hit": all_required(&[
            ("id", s()),
            ("name", s()),
            ("score", num()),
            ("municipality_code", s()),
            ("municipality", nullable(s())),
            ("industry_codes", arr(s())),
            ("updated_at", nullable(s())),
            ("stale", boolean()),
            ("snippets", arr(r("Snippet"))),
        ]),
        "Facet": facet,
        "Facets": all_required(&[
            ("jsic_division", arr(r("Facet"))),
            ("municipality", arr(r("Facet"))),
            ("certification", arr(r("Facet"))),
        ]),
        "SearchResponse": obj(&[
            ("total", int()),
            ("offset", int()),
            ("limit", int()),
            ("hits", arr(r("Hit"))),
            ("facets", r("Facets")),
        ], &["total", "offset", "limit", "hits"]),
        "Signal": all_required(&[
            ("name", s()),
            ("value", num()),
            ("weight", num()),
            ("contribution", num()),
            ("applies", boolean()),
        ]),
        "Mutual": all_required(&[
            ("need_id", s()),
            ("reverse_score", num()),
            ("score", num()),
            ("is_mutual", boolean()),
        ]),
        "Evidence": all_required(&[
            ("term", s()),
            ("field", s()),
            ("text", s()),
            ("start", int()),
            ("end", int()),
        ]),
        "ConceptEvidence": all_required(&[
            ("wanted", s()),
            ("have", s()),
            ("relation", json!({"type": "string", "enum": ["exact", "narrower", "broader", "sibling"],
                "description": "Where the company's concept stands to the wanted one in the hierarchy (only that)"})),
            ("weight", json!({"type": "number", "minimum": 0, "maximum": 1,
                "description": "How firmly the company offers it: 1 in its own text, lower when implied by equipment, outsourced or hedged"})),
            ("source", s()),
        ]),
        "Explanation": all_required(&[
            ("why", s()),
            ("terms", arr(r("Evidence"))),
            ("concepts", arr(r("ConceptEvidence"))),
            ("equipment", arr(s())),
            ("industry_codes", arr(s())),
            ("distance_km", nullable(num())),
            ("same_municipality", boolean()),
            ("municipality", nullable(s())),
        ]),
        "Match": obj(&[
            ("company_id", s()),
            ("name", s()),
            ("score", num()),
            ("stale", boolean()),
            ("signals", arr(r("Signal"))),
            ("mutual", r("Mutual")),
            ("explanation", r("Explanation")),
        ], &["company_id", "name", "score", "stale", "signals"]),
        "MatchResult": all_required(&[
            ("need_id", s()),
            ("candidates", int()),
            ("matches", arr(r("Match"))),
        ]),
        "Opportunity": obj(&[
            ("need_id", s()),
            ("title", s()),
            ("score", num()),
            ("rank", json!({"type": "integer", "minimum": 1})),
            ("explanation", r("Explanation")),
        ], &["need_id", "title", "score", "rank"]),
        "RowError": obj(&[
            ("line", int()),
            ("id", s()),
            ("field", s()),
            ("reason", s()),
        ], &["line", "field", "reason"]),
        "RowWarning": all_required(&[("line", int()), ("id", s()), ("message", s())]),
        "ImportReport": all_required(&[
            ("format", json!({"type": "string", "enum": ["json_lines", "csv"]})),
            ("encoding", s()),
            ("accepted", int()),
            ("committed", int()),
            ("not_committed", int()),
            ("first_not_committed_id", nullable(s())),
            ("timed_out", boolean()),
            ("created", int()),
            ("updated", int()),
            ("rejected", arr(r("RowError"))),
            ("warnings", arr(r("RowWarning"))),
        ]),
        "BatchRequest": obj(&[
            ("top_k", json!({"type": "integer", "minimum": 1, "maximum": limits.batch_top_k})),
        ], &[]),
        "BatchJob": all_required(&[
            ("id", s()),
            ("status", json!({"type": "string", "enum": ["queued", "running", "done", "cancelled", "failed"]})),
            ("top_k", int()),
            ("done", int()),
            ("total", int()),
            ("results", int()),
            ("created_at", int()),
            ("started_at", nullable(int())),
            ("finished_at", nullable(int())),
            ("error", nullable(s())),
            ("results_url", s()),
        ]),
        "BatchLine": all_required(&[
            ("need_id", s()),
            ("matches", arr(all_required(&[("company_id", s()), ("score", num())]))),
        ]),
        "JsicNode": all_required(&[
            ("code", s()),
            ("level", json!({"type": "string", "enum": ["section", "division", "group", "class"]})),
            ("name", s()),
            ("children", arr(r("JsicNode"))),
        ]),
        "Cluster": all_required(&[("id", s()), ("name", s()), ("codes", arr(s()))]),
        "Municipality": all_required(&[
            ("code", s()),
            ("name", s()),
            ("kana", s()),
            ("kind", s()),
            ("office", r("GeoPoint")),
        ]),
        "Status": all_required(&[("status", s())]),
        "Stage": {"type": "string", "enum": ["proposed", "contacted", "meeting", "deal", "declined"],
                  "description": "提案 → 連絡 → 面談 → 成約, or 見送り (declined) from any open stage; one stage forward at a time."},
        "DeclineReason": {"type": "string", "enum": ["price", "capacity", "capability", "partner_declined", "need_withdrawn", "no_response", "other"],
                          "description": "Why a pair was declined (`other` needs `text`)."},
        "Change": obj(&[
            ("kind", json!({"type": "string", "enum": ["need_received", "moved", "note"]})),
            ("to", r("Stage")),
            ("reason", r("DeclineReason")),
            ("text", s()),
        ], &["kind"]),
        "Event": obj(&[
            ("seq", int()),
            ("at", json!({"type": "integer", "description": "Unix time, seconds"})),
            ("who", json!({"type": "string", "description": "the API key's name"})),
            ("need_id", s()),
            ("company_id", s()),
            ("change", r("Change")),
        ], &["seq", "at", "who", "need_id", "change"]),
        "Pair": obj(&[
            ("need_id", s()),
            ("company_id", s()),
            ("stage", r("Stage")),
            ("since", int()),
            ("proposed_by", s()),
            ("proposed_at", int()),
            ("reason", r("DeclineReason")),
            ("note", s()),
            ("history", arr(r("Event"))),
        ], &["need_id", "company_id", "stage", "since", "proposed_by", "proposed_at", "history"]),
        "Shortlist": all_required(&[("need_id", s()), ("items", arr(r("Pair")))]),
        "ShortlistAdd": obj(&[("company_id", record_id()), ("note", s())], &["company_id"]),
        "OutcomeBody": obj(&[
            ("need_id", record_id()),
            ("company_id", record_id()),
            ("to", r("Stage")),
            ("reason", r("DeclineReason")),
            ("text", s()),
        ], &["need_id", "company_id"]),
        "EventsPage": obj(&[("items", arr(r("Event"))), ("next_after", int())], &["items"]),
        "KpiRow": all_required(&[
            ("period", s()),
            ("label", s()),
            ("group", s()),
            ("needs_received", int()),
            ("proposals", int()),
            ("contacts", int()),
            ("meetings", int()),
            ("deals", int()),
            ("declined", int()),
            ("contact_rate", nullable(num())),
            ("meeting_rate", nullable(num())),
            ("deal_rate", nullable(num())),
            ("proposal_to_deal", nullable(num())),
            ("median_days_to_deal", nullable(num())),
        ]),
        "AuditEntry": all_required(&[
            ("at", int()),
            ("who", s()),
            ("role", s()),
            ("company_id", s()),
            ("via", json!({"type": "string", "enum": ["console", "api"]})),
        ]),
    })
}

fn json_body(schema: Value) -> Value {
    json!({ "content": { "application/json": { "schema": schema } } })
}

fn ok(status: &str, description: &str, schema: Value) -> (String, Value) {
    let mut v = json_body(schema);
    v["description"] = json!(description);
    (status.to_owned(), v)
}

fn no_content(status: &str, description: &str) -> (String, Value) {
    (status.to_owned(), json!({ "description": description }))
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": r("Problem") } }
    })
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

fn path_id(what: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": s(),
            "description": format!("the {what}'s id") })
}

fn page_params(limits: &Limits) -> Vec<Value> {
    vec![
        query("offset", int(), "records to skip (default 0)"),
        query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": limits.max_page}),
            "page size (default 20)",
        ),
    ]
}

fn top_k(limits: &Limits) -> Value {
    query(
        "top_k",
        json!({"type": "integer", "minimum": 1, "maximum": limits.max_top_k}),
        "how many (default 10)",
    )
}

/// What one operation takes and answers (beyond path, method and access).
struct Op {
    tag: &'static str,
    summary: &'static str,
    description: String,
    params: Vec<Value>,
    body: Option<Value>,
    responses: Vec<(String, Value)>,
    /// Error statuses this operation may answer besides auth, 429 and 503.
    errors: &'static [u16],
}

fn op(tag: &'static str, summary: &'static str) -> Op {
    Op {
        tag,
        summary,
        description: String::new(),
        params: Vec::new(),
        body: None,
        responses: Vec::new(),
        errors: &[],
    }
}

fn bulk_body(limits: &Limits, what: &str) -> Value {
    json!({
        "required": true,
        "description": format!(
            "{what} as JSON Lines (application/x-ndjson) or CSV (text/csv, header row, English or Japanese column names); UTF-8 or Shift_JIS (charset parameter or ?encoding=). At most {} bytes and {} records.",
            limits.bulk_body, limits.bulk_rows),
        "content": {
            "application/x-ndjson": { "schema": { "type": "string" } },
            "text/csv": { "schema": { "type": "string" } }
        }
    })
}

fn import_description(limits: &Limits) -> String {
    format!(
        "Records are committed in file order, {} per commit. No commit starts after {} s ({} % of the \
         request limit; the route is not cut off at the limit): then the answer is still 200, with \
         `timed_out: true`, `committed`, `not_committed` and `first_not_committed_id` (resend from that \
         record's row on). Nothing is committed after the answer.",
        matcher_core::index::COMMIT_BATCH,
        limits.request_timeout.as_secs_f64() * crate::http::routes::bulk::DEADLINE_SHARE,
        (crate::http::routes::bulk::DEADLINE_SHARE * 100.0).round(),
    )
}

fn operation(id: &str, limits: &Limits) -> Option<Op> {
    let json_req = |schema: Value| {
        let mut b = json_body(schema);
        b["required"] = json!(true);
        b
    };
    let match_params = || {
        vec![
            top_k(limits),
            query("mutual", boolean(), "also compute reciprocal scores"),
            query(
                "rank_by",
                json!({"type": "string", "enum": ["score", "mutual"]}),
                "rank by the one-way score (default) or the mutual score (implies mutual)",
            ),
            query(
                "explain",
                boolean(),
                "include evidence and the \"why you\" sentence (default true)",
            ),
        ]
    };
    let encoding = query(
        "encoding",
        json!({"type": "string", "enum": ["auto", "utf8", "shift_jis"]}),
        "text encoding (default auto: UTF-8, else Shift_JIS)",
    );
    let o = match id {
        "healthz" => Op {
            responses: vec![ok("200", "the process answers", r("Status"))],
            ..op("health", "Liveness")
        },
        "readyz" => Op {
            description: "200 once the index is open; 503 `not-ready` before.".into(),
            responses: vec![ok("200", "ready", r("Status"))],
            ..op("health", "Readiness")
        },
        "metrics" => Op {
            description: "Prometheus text format: request counts and latency histograms per route, index size, last commit, batch jobs.".into(),
            responses: vec![(
                "200".into(),
                json!({"description": "metrics", "content": {"text/plain": {"schema": s()}}}),
            )],
            ..op("health", "Metrics")
        },
        "openapi" => Op {
            responses: vec![ok("200", "this document", json!({"type": "object"}))],
            ..op("health", "This OpenAPI document")
        },
        "listCompanies" => Op {
            description: "Companies the key may see, by id. A portal key sees public companies only.".into(),
            params: page_params(limits),
            responses: vec![ok("200", "a page of companies", r("CompanyPage"))],
            errors: &[422],
            ..op("companies", "List companies")
        },
        "createCompany" => Op {
            body: Some(json_req(r("Company"))),
            responses: vec![ok("201", "created", r("WrittenCompany"))],
            errors: &[400, 409, 413, 415, 422],
            ..op("companies", "Create a company")
        },
        "getCompany" => Op {
            description: "404 alike for a missing company and, to a portal key, a restricted one.".into(),
            params: vec![path_id("company")],
            responses: vec![ok("200", "the company", r("Company"))],
            errors: &[404],
            ..op("companies", "Get a company")
        },
        "replaceCompany" => Op {
            description: "Replace (or create) the company; the body's id may be omitted and must equal the path's when given.".into(),
            params: vec![path_id("company")],
            body: Some(json_req(r("Company"))),
            responses: vec![
                ok("200", "replaced", r("WrittenCompany")),
                ok("201", "created", r("WrittenCompany")),
            ],
            errors: &[400, 413, 415, 422],
            ..op("companies", "Replace a company")
        },
        "deleteCompany" => Op {
            params: vec![path_id("company")],
            responses: vec![no_content("204", "deleted")],
            errors: &[404],
            ..op("companies", "Delete a company")
        },
        "companyOpportunities" => Op {
            description: "Open needs the company could serve, best first, with its rank among the candidates the key may see.".into(),
            params: vec![
                path_id("company"),
                top_k(limits),
                query("explain", boolean(), "include evidence (default true)"),
            ],
            responses: vec![ok("200", "opportunities", arr(r("Opportunity")))],
            errors: &[404, 422],
            ..op("matching", "Opportunities for a company")
        },
        "importCompanies" => Op {
            description: import_description(limits),
            params: vec![encoding.clone()],
            body: Some(bulk_body(limits, "Companies")),
            responses: vec![ok("200", "the per-row report", r("ImportReport"))],
            errors: &[400, 413, 415, 422],
            ..op("companies", "Bulk upload companies")
        },
        "listNeeds" => Op {
            description: "Needs by id. To a portal key, an owner it may not see is left out of the need.".into(),
            params: {
                let mut p = page_params(limits);
                p.push(query("status", json!({"type": "string", "enum": ["open", "closed"]}), "only needs with this status"));
                p.push(query("company_id", s(), "only needs of this owner"));
                p
            },
            responses: vec![ok("200", "a page of needs", r("NeedPage"))],
            errors: &[422],
            ..op("needs", "List needs")
        },
        "createNeed" => Op {
            body: Some(json_req(r("Need"))),
            responses: vec![ok("201", "created", r("WrittenNeed"))],
            errors: &[400, 409, 413, 415, 422],
            ..op("needs", "Create a need")
        },
        "getShortlist" => Op {
            description: "The need's shortlist: every proposed pair with its stage, note and history.".into(),
            params: vec![path_id("need")],
            responses: vec![ok("200", "the shortlist", r("Shortlist"))],
            errors: &[404],
            ..op("outcomes", "A need's shortlist")
        },
        "addToShortlist" => Op {
            description: "Propose a candidate for the need (stage 提案), with a note. Recorded durably with the key's name and the time.".into(),
            params: vec![path_id("need")],
            body: Some(json_req(r("ShortlistAdd"))),
            responses: vec![ok("201", "the pair", r("Pair"))],
            errors: &[400, 404, 409, 413, 415, 422],
            ..op("outcomes", "Shortlist a candidate")
        },
        "listOutcomes" => Op {
            description: "The outcome event log, oldest first; page with `after` = the last `seq` seen.".into(),
            params: vec![
                query("need_id", s(), "events of one need"),
                query("after", int(), "events after this seq (default 0)"),
                query("limit", json!({"type": "integer", "minimum": 1, "maximum": limits.max_page}), "page size (default 100)"),
            ],
            responses: vec![ok("200", "events", r("EventsPage"))],
            errors: &[422],
            ..op("outcomes", "Outcome events")
        },
        "recordOutcome" => Op {
            description: "Move a shortlisted pair one stage forward (`to`), or decline it (`to: declined` with a `reason`; `other` needs `text`), or, without `to`, add a note. An illegal move is 409 `illegal-transition` naming what to record first.".into(),
            body: Some(json_req(r("OutcomeBody"))),
            responses: vec![ok("201", "the pair as it now stands", r("Pair"))],
            errors: &[400, 404, 409, 413, 415, 422],
            ..op("outcomes", "Record an outcome")
        },
        "kpis" => Op {
            description: "Needs received, proposals, contacts, meetings, deals (成約件数), conversions and median days need→deal, per month or Japanese fiscal year (April–March, Japan time), overall or per coordinator key.".into(),
            params: vec![
                query("period", json!({"type": "string", "enum": ["month", "fiscal_year"]}), "default month"),
                query("by", json!({"type": "string", "enum": ["all", "coordinator"]}), "default all"),
            ],
            responses: vec![ok("200", "KPI rows, oldest period first", arr(r("KpiRow")))],
            errors: &[422],
            ..op("outcomes", "KPIs")
        },
        "audit" => Op {
            description: "Who read a restricted company's profile, when and through what (console or API), newest first.".into(),
            params: vec![
                query("company_id", s(), "reads of one company"),
                query("limit", json!({"type": "integer", "minimum": 1}), "at most (default 100)"),
            ],
            responses: vec![ok("200", "audit entries", arr(r("AuditEntry")))],
            errors: &[422],
            ..op("outcomes", "Audit of restricted profiles")
        },
        "getNeed" => Op {
            params: vec![path_id("need")],
            responses: vec![ok("200", "the need", r("Need"))],
            errors: &[404],
            ..op("needs", "Get a need")
        },
        "replaceNeed" => Op {
            params: vec![path_id("need")],
            body: Some(json_req(r("Need"))),
            responses: vec![
                ok("200", "replaced", r("WrittenNeed")),
                ok("201", "created", r("WrittenNeed")),
            ],
            errors: &[400, 413, 415, 422],
            ..op("needs", "Replace a need")
        },
        "deleteNeed" => Op {
            params: vec![path_id("need")],
            responses: vec![no_content("204", "deleted")],
            errors: &[404],
            ..op("needs", "Delete a need")
        },
        "needMatches" => Op {
            description: "Candidate partners for a stored need, best first, with signals and explanations; mutual scores on request.".into(),
            params: {
                let mut p = vec![path_id("need")];
                p.extend(match_params());
                p
            },
            responses: vec![ok("200", "ranked candidates", r("MatchResult"))],
            errors: &[404, 422],
            ..op("matching", "Matches for a stored need")
        },
        "importNeeds" => Op {
            description: import_description(limits),
            params: vec![encoding],
            body: Some(bulk_body(limits, "Needs")),
            responses: vec![ok("200", "the per-row report", r("ImportReport"))],
            errors: &[400, 413, 415, 422],
            ..op("needs", "Bulk upload needs")
        },
        "search" => Op {
            description: "Free text (words, \"phrases\", -exclusions), filters, facets, sorting, paging and highlights. Hits, totals and facets count only companies the key may see.".into(),
            body: Some(json_req(r("SearchRequest"))),
            responses: vec![ok("200", "a page of hits", r("SearchResponse"))],
            errors: &[400, 413, 415, 422],
            ..op("search", "Search companies")
        },
        "searchGet" => Op {
            description: "The common search without a body; filters other than JSIC need POST.".into(),
            params: vec![
                query("q", json!({"type": "string", "maxLength": limits.max_query_chars}), "the query"),
                query("offset", json!({"type": "integer", "minimum": 0, "maximum": matcher_core::index::search::MAX_OFFSET}), "hits to skip"),
                query("limit", json!({"type": "integer", "minimum": 1, "maximum": limits.max_page}), "page size (default 20)"),
                query("sort", json!({"type": "string", "enum": ["relevance", "updated_at"]}), "order"),
                query("facets", boolean(), "include facets (default true)"),
                query("highlight", boolean(), "include snippets (default true)"),
                query("formatted", boolean(), "snippets also as escaped HTML with <em> around highlights (default false)"),
                query("jsic", s(), "comma-separated JSIC codes or cluster ids"),
                query("exclude_stale", boolean(), "drop stale profiles"),
            ],
            responses: vec![ok("200", "a page of hits", r("SearchResponse"))],
            errors: &[422],
            ..op("search", "Search companies (query string)")
        },
        "matchAdhoc" => Op {
            description: "Candidates for a need given in the body (interchange shape, id optional).".into(),
            params: match_params(),
            body: Some(json_req(r("NeedDraft"))),
            responses: vec![ok("200", "ranked candidates", r("MatchResult"))],
            errors: &[400, 413, 415, 422],
            ..op("matching", "Matches for an ad-hoc need")
        },
        "startBatch" => Op {
            description: "Match every open need in the background (one job runs at a time). The body is optional.".into(),
            body: Some(json!({"required": false, "content": {"application/json": {"schema": r("BatchRequest")}}})),
            responses: vec![ok("202", "queued", r("BatchJob"))],
            errors: &[400, 413, 415, 422],
            ..op("batch", "Start a batch job")
        },
        "getBatch" => Op {
            params: vec![path_id("batch job")],
            responses: vec![ok("200", "status and progress", r("BatchJob"))],
            errors: &[404],
            ..op("batch", "Batch job status")
        },
        "batchResults" => Op {
            description: "One JSON object (BatchLine) per need, in need-id order: the lines so far; the X-Batch-Status header tells whether more will come.".into(),
            params: vec![path_id("batch job")],
            responses: vec![(
                "200".into(),
                json!({"description": "JSON Lines of BatchLine",
                       "headers": {"X-Batch-Status": {"schema": {"type": "string", "enum": ["queued", "running", "done", "cancelled", "failed"]}}},
                       "content": {"application/x-ndjson": {"schema": s()}}}),
            )],
            errors: &[404],
            ..op("batch", "Batch job results")
        },
        "cancelBatch" => Op {
            params: vec![path_id("batch job")],
            responses: vec![ok("200", "the job, cancelled or finishing its chunk", r("BatchJob"))],
            errors: &[404],
            ..op("batch", "Cancel a batch job")
        },
        "jsicTree" => Op {
            responses: vec![ok("200", "sections → divisions → groups → classes", arr(r("JsicNode")))],
            ..op("taxonomy", "JSIC tree")
        },
        "jsicClusters" => Op {
            responses: vec![ok("200", "named sets of JSIC codes, usable as filter values", arr(r("Cluster")))],
            ..op("taxonomy", "JSIC clusters")
        },
        "municipalities" => Op {
            responses: vec![ok("200", "prefectures and municipalities with office locations", arr(r("Municipality")))],
            ..op("taxonomy", "Municipalities")
        },
        _ => return None,
    };
    Some(o)
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "malformed JSON or request",
        401 => "missing or wrong API key",
        403 => "this key's role may not do this",
        404 => "unknown id (also for records the key may not see)",
        405 => "method not allowed",
        409 => "the id exists",
        413 => "body, or records in it, over the limit",
        415 => "unsupported media type",
        422 => "invalid field (errors[].field names it)",
        429 => "over the key's request rate, or too many batch jobs",
        503 => "not ready, over the request time limit, or (matching) too busy: `overloaded`, with Retry-After",
        _ => "error",
    }
}

/// The OpenAPI 3.0 document.
pub fn document(limits: &Limits) -> Value {
    let mut paths = Map::new();
    for e in endpoints(limits) {
        let Some(o) = operation(e.operation_id, limits) else {
            continue;
        };
        let mut responses = Map::new();
        for (code, v) in o.responses {
            responses.insert(code, v);
        }
        let mut codes: Vec<u16> = o.errors.to_vec();
        if e.access != Access::Open {
            codes.extend([401, 429]);
            if e.access != Access::AnyKey {
                codes.push(403);
            }
        }
        if e.operation_id != "healthz" && e.operation_id != "openapi" {
            codes.push(503);
        }
        codes.sort_unstable();
        codes.dedup();
        for c in codes {
            responses.insert(c.to_string(), problem(error_description(c)));
        }
        responses.insert("default".into(), problem("any other error"));
        let roles = e.access.roles();
        let mut description = o.description.clone();
        if !roles.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&format!("Roles: {}.", roles.join(", ")));
        }
        let mut v = json!({
            "operationId": e.operation_id,
            "tags": [o.tag],
            "summary": o.summary,
            "description": description,
            "responses": responses,
            "x-roles": roles,
        });
        if e.access == Access::Open {
            v["security"] = json!([]);
        }
        if !o.params.is_empty() {
            v["parameters"] = json!(o.params);
        }
        if let Some(b) = o.body {
            v["requestBody"] = b;
        }
        let item = paths.entry(e.path.to_owned()).or_insert_with(|| json!({}));
        item[e.method.as_str().to_ascii_lowercase()] = v;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "matcher",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Business matching for regional industrial promotion: companies (seeds), needs, search, matching, batch jobs and reference tables.\n\n\
                 Keys: `Authorization: Bearer KEY` or `X-API-Key: KEY`. Roles: admin (writes), coordinator (reads everything, runs batch jobs), portal (public records only; a restricted company answers exactly like a missing one).\n\n\
                 Errors are application/problem+json (RFC 9457) with a stable `type` (`urn:matcher:problem:…`). Limits: JSON bodies {} bytes, bulk uploads {} bytes and {} records, pages {} items, queries {} characters, requests {} s; matches waiting for a core: {} per core, beyond which a match is answered 503 `overloaded` with Retry-After.",
                limits.json_body, limits.bulk_body, limits.bulk_rows, limits.max_page,
                limits.max_query_chars, limits.request_timeout.as_secs_f64(), limits.queue_per_core),
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "apiKey": [] }],
        "tags": [
            {"name": "companies"}, {"name": "needs"}, {"name": "outcomes"}, {"name": "search"},
            {"name": "matching"}, {"name": "batch"}, {"name": "taxonomy"}, {"name": "health"}
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" }
            },
            "schemas": schemas(limits),
        }
    })
}

/// Operation ids of the endpoint table that have no documentation here (tests).
pub fn undocumented(limits: &Limits) -> Vec<&'static str> {
    endpoints(limits)
        .into_iter()
        .filter(|e| operation(e.operation_id, limits).is_none())
        .map(|e| e.operation_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_documented() {
        assert!(undocumented(&Limits::default()).is_empty());
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
