//! Needs: the list, the form (create, edit, close, or match a walk-in
//! consultation without saving), the ranked candidates with their evidence,
//! and the shortlist with its stages.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use matcher_core::concepts::Relation;
use matcher_core::matching::{MatchOptions, MatchResult, Matcher};
use matcher_core::model::{
    Company, JsicCode, MunicipalityCode, Need, NeedKind, NeedStatus, RecordId, Region, Visibility,
};
use matcher_core::outcomes::{Change, DeclineReason, Pair, Stage};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, words, Tab};
use super::session::User;
use super::{ConsoleError, ConsoleResult};
use crate::http::error::Kind;
use crate::http::routes::needs::write;
use crate::http::routes::outcomes::record_checked;
use crate::http::state::{AppState, Work};

/// Candidates shown for a need.
const TOP_K: usize = 20;

const KINDS: [(NeedKind, &str); 8] = [
    (NeedKind::Subcontracting, "外注・加工委託"),
    (NeedKind::JointDevelopment, "共同開発"),
    (NeedKind::SalesChannel, "販路開拓"),
    (NeedKind::Procurement, "調達・仕入れ"),
    (NeedKind::Succession, "事業承継"),
    (NeedKind::Talent, "人材"),
    (NeedKind::Funding, "資金"),
    (NeedKind::Other, "その他"),
];

fn kind_str(k: NeedKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn kind_label(k: NeedKind) -> &'static str {
    KINDS.iter().find(|(x, _)| *x == k).map_or("", |(_, l)| l)
}

fn relation_label(r: Relation) -> &'static str {
    match r {
        Relation::Exact => "一致",
        Relation::Narrower => "より専門的",
        Relation::Broader => "より広い",
        Relation::Sibling => "近い分野",
    }
}

/// The Japanese label of a need field (for validation messages).
fn field_label(field: &str) -> &'static str {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    match (head, field) {
        (_, f) if f.starts_with("region.municipality_codes") => "地域（市区町村コード）",
        (_, f) if f.starts_with("region.prefecture_codes") => "地域（都道府県コード）",
        (_, f) if f.starts_with("region.max_distance_km") => "距離（km）",
        ("id", _) => "ニーズID",
        ("company_id", _) => "依頼企業ID",
        ("kind", _) => "種類",
        ("title", _) => "件名",
        ("text", _) => "内容",
        ("industry_codes", _) => "求める業種（JSIC）",
        ("equipment", _) => "求める設備",
        ("certifications_required", _) => "必要な認証",
        _ => "入力",
    }
}

fn list(s: &str) -> Vec<String> {
    s.split([',', '、', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The need form, as posted.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NeedForm {
    pub csrf: String,
    pub id: String,
    pub kind: String,
    pub title: String,
    pub text: String,
    pub company_id: String,
    pub industry_codes: String,
    pub equipment: String,
    pub certifications_required: String,
    pub muni: String,
    pub pref: String,
    pub km: String,
    pub status: String,
    /// `save` or `preview` (match without saving).
    pub action: String,
}

fn parse_id(s: &str) -> Result<RecordId, String> {
    s.trim().parse()
}

impl NeedForm {
    fn from_need(n: &Need) -> Self {
        let r = n.region.clone().unwrap_or_default();
        NeedForm {
            id: n.id.to_string(),
            kind: kind_str(n.kind),
            title: n.title.clone(),
            text: n.text.clone(),
            company_id: n
                .company_id
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            industry_codes: n
                .industry_codes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            equipment: n.equipment.join("、"),
            certifications_required: n.certifications_required.join("、"),
            muni: r
                .municipality_codes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            pref: r.prefecture_codes.join(" "),
            km: r.max_distance_km.map(|k| k.to_string()).unwrap_or_default(),
            status: if n.status == NeedStatus::Closed {
                "closed".into()
            } else {
                "open".into()
            },
            ..NeedForm::default()
        }
    }

    /// The need, or `(field label, message)` for every invalid field.
    fn need(&self, fixed_id: Option<&str>) -> Result<Need, Vec<(String, String)>> {
        let mut errs: Vec<(String, String)> = Vec::new();
        let mut err = |f: &str, m: String| errs.push((f.to_owned(), m));
        let id = match fixed_id {
            Some(id) => parse_id(id).ok(),
            None if self.id.trim().is_empty() => {
                let d =
                    matcher_core::outcomes::kpi::CivilDate::jst(matcher_core::journal::now_unix());
                let r: u16 = rand::random();
                parse_id(&format!(
                    "n-{:04}{:02}{:02}-{r:04x}",
                    d.year, d.month, d.day
                ))
                .ok()
            }
            None => match parse_id(&self.id) {
                Ok(id) => Some(id),
                Err(_) => {
                    err(
                        "ニーズID",
                        "半角英数字・ハイフン・アンダースコアの64文字以内で入力してください。"
                            .into(),
                    );
                    None
                }
            },
        };
        let kind = KINDS
            .iter()
            .map(|(k, _)| *k)
            .find(|k| kind_str(*k) == self.kind);
        if kind.is_none() {
            err("種類", "種類を選んでください。".into());
        }
        if self.title.trim().is_empty() {
            err("件名", "件名を入力してください。".into());
        } else if self.title.chars().count() > 200 {
            err("件名", "件名は200文字以内で入力してください。".into());
        }
        if self.text.trim().is_empty() {
            err(
                "内容",
                "内容（何を求めているか）を入力してください。".into(),
            );
        }
        let company_id = if self.company_id.trim().is_empty() {
            None
        } else {
            match parse_id(&self.company_id) {
                Ok(c) => Some(c),
                Err(_) => {
                    err("依頼企業ID", "企業IDの形式が正しくありません。".into());
                    None
                }
            }
        };
        let mut codes = Vec::new();
        for w in words(&self.industry_codes) {
            match w.parse::<JsicCode>() {
                Ok(c) => codes.push(c),
                Err(_) => err(
                    "求める業種（JSIC）",
                    format!(
                        "「{w}」は日本標準産業分類のコードではありません（例: 24, 245, 2451）。"
                    ),
                ),
            }
        }
        let mut munis = Vec::new();
        for w in words(&self.muni) {
            match w.parse::<MunicipalityCode>() {
                Ok(c) => munis.push(c),
                Err(_) => err(
                    "地域（市区町村コード）",
                    format!("「{w}」は6桁の全国地方公共団体コードではありません。"),
                ),
            }
        }
        let prefs = words(&self.pref);
        for p in &prefs {
            let ok = p.len() == 2 && p.parse::<u8>().is_ok_and(|n| (1..=47).contains(&n));
            if !ok {
                err(
                    "地域（都道府県コード）",
                    format!("「{p}」は都道府県コード（01〜47）ではありません。"),
                );
            }
        }
        let km = if self.km.trim().is_empty() {
            None
        } else {
            match self.km.trim().parse::<f64>() {
                Ok(k) if k.is_finite() && k > 0.0 => Some(k),
                _ => {
                    err(
                        "距離（km）",
                        "距離は正の数（km）で入力してください。".into(),
                    );
                    None
                }
            }
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        let (Some(id), Some(kind)) = (id, kind) else {
            return Err(vec![("ニーズID".into(), "IDを決められません。".into())]);
        };
        let region = (!munis.is_empty() || !prefs.is_empty() || km.is_some()).then(|| Region {
            municipality_codes: munis,
            prefecture_codes: prefs,
            max_distance_km: km,
        });
        Ok(Need {
            id,
            company_id,
            kind,
            title: self.title.trim().to_owned(),
            text: self.text.trim().to_owned(),
            industry_codes: codes,
            equipment: list(&self.equipment),
            certifications_required: list(&self.certifications_required),
            region,
            status: if self.status == "closed" {
                NeedStatus::Closed
            } else {
                NeedStatus::Open
            },
        })
    }
}

fn form_page(
    user: &User,
    title: &str,
    action: &str,
    f: &NeedForm,
    errors: &[(String, String)],
    editing: bool,
) -> Markup {
    let has = |label: &str| errors.iter().any(|(l, _)| l == label);
    layout::page(
        user,
        Tab::Needs,
        title,
        html! {
            @if !errors.is_empty() {
                div.error role="alert" id="form-errors" {
                    p { "入力内容を確認してください。" }
                    ul { @for (field, m) in errors { li { strong { (field) } "：" (m) } } }
                }
            }
            form.need method="post" action=(action) {
                (layout::csrf(user))
                @if !editing {
                    label { "ニーズID（空欄で自動採番）" input type="text" name="id" value=(f.id); }
                }
                label class=@if has("種類") { "invalid" } @else { "" } { "種類"
                    select name="kind" {
                        @for (k, l) in KINDS {
                            option value=(kind_str(k)) selected[kind_str(k) == f.kind || (f.kind.is_empty() && k == NeedKind::Subcontracting)] { (l) }
                        }
                    }
                }
                label class=@if has("件名") { "invalid" } @else { "" } { "件名" input type="text" name="title" value=(f.title) placeholder="例: チタン部品の5軸加工の外注先"; }
                label class=@if has("内容") { "invalid" } @else { "" } { "内容（相談内容をそのまま）"
                    textarea name="text" rows="6" placeholder="例: 医療機器向けのチタン製部品を月100個、5軸で削れる会社を探しています。多摩地域だと助かります。" { (f.text) }
                }
                label { "依頼企業ID（登録企業の場合）" input type="text" name="company_id" value=(f.company_id); }
                label class=@if has("求める業種（JSIC）") { "invalid" } @else { "" } { "求める業種（JSIC、空欄可）" input type="text" name="industry_codes" value=(f.industry_codes) placeholder="2451 2461"; }
                label { "求める設備（、区切り）" input type="text" name="equipment" value=(f.equipment); }
                label { "必要な認証（、区切り）" input type="text" name="certifications_required" value=(f.certifications_required) placeholder="ISO9001"; }
                fieldset {
                    legend { "地域の条件" }
                    label class=@if has("地域（市区町村コード）") { "invalid" } @else { "" } { "市区町村コード" input type="text" name="muni" value=(f.muni); }
                    label class=@if has("地域（都道府県コード）") { "invalid" } @else { "" } { "都道府県コード" input type="text" name="pref" value=(f.pref); }
                    label class=@if has("距離（km）") { "invalid" } @else { "" } { "依頼企業から（km以内）" input type="text" name="km" value=(f.km) inputmode="decimal"; }
                }
                @if editing {
                    label { "状態"
                        select name="status" {
                            option value="open" selected[f.status != "closed"] { "募集中" }
                            option value="closed" selected[f.status == "closed"] { "終了" }
                        }
                    }
                }
                div.buttons {
                    button type="submit" name="action" value="save" { "保存" }
                    @if !editing {
                        button.secondary type="submit" name="action" value="preview" formaction="/console/match" { "保存せずに候補を見る（来所相談）" }
                    }
                }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub status: String,
}

/// `GET /console/needs`.
pub async fn list_page(
    State(state): State<AppState>,
    user: User,
    Query(q): Query<ListQuery>,
) -> ConsoleResult<Markup> {
    let outcomes = state.outcomes()?;
    let role = user.caller.core_role();
    let mut needs = state.run(Work::Plain, move |e| Ok(e.needs(role))).await?;
    let want = match q.status.as_str() {
        "closed" => Some(NeedStatus::Closed),
        "all" => None,
        _ => Some(NeedStatus::Open),
    };
    needs.retain(|n| want.is_none_or(|w| n.status == w));
    needs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(layout::page(
        &user,
        Tab::Needs,
        "ニーズ",
        html! {
            p.actions {
                a.button href="/console/needs/new" { "新しいニーズ・来所相談" }
                " 表示: "
                a href="/console/needs" { "募集中" } " · "
                a href="/console/needs?status=closed" { "終了" } " · "
                a href="/console/needs?status=all" { "すべて" }
            }
            table.needs {
                thead { tr { th { "ID" } th { "件名" } th { "種類" } th { "状態" } th { "候補リスト" } } }
                tbody {
                    @for n in &needs {
                        @let sl = outcomes.shortlist(n.id.as_str());
                        tr {
                            td { (n.id) }
                            td { a href={"/console/needs/" (n.id)} { (n.title) } }
                            td { (kind_label(n.kind)) }
                            td { @if n.status == NeedStatus::Open { "募集中" } @else { "終了" } }
                            td { @if !sl.is_empty() { (sl.len()) "社 " @for p in &sl { (layout::stage(p.stage)) " " } } }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /console/needs/new`.
pub async fn new_page(user: User) -> Markup {
    form_page(
        &user,
        "新しいニーズ",
        "/console/needs",
        &NeedForm::default(),
        &[],
        false,
    )
}

fn api_field_errors(e: &crate::http::error::ApiError) -> Option<Vec<(String, String)>> {
    (e.kind == Kind::Validation).then(|| {
        e.errors
            .iter()
            .map(|f| (field_label(&f.field).to_owned(), f.reason.clone()))
            .collect()
    })
}

/// The form again, with what to fix, answered with `status`.
fn refill(
    status: StatusCode,
    user: &User,
    (title, action, editing): (&str, &str, bool),
    f: &NeedForm,
    errors: &[(String, String)],
) -> Response {
    (status, form_page(user, title, action, f, errors, editing)).into_response()
}

/// Where a new need's form posts.
const NEW: (&str, &str, bool) = ("新しいニーズ", "/console/needs", false);

async fn save(
    state: &AppState,
    user: &User,
    f: NeedForm,
    fixed_id: Option<&str>,
) -> ConsoleResult<Response> {
    user.check_csrf(&f.csrf)?;
    let editing = fixed_id.is_some();
    let (title, action) = match fixed_id {
        Some(id) => ("ニーズの編集".to_owned(), format!("/console/needs/{id}")),
        None => ("新しいニーズ".to_owned(), "/console/needs".to_owned()),
    };
    let form = (title.as_str(), action.as_str(), editing);
    let need = match f.need(fixed_id) {
        Ok(n) => n,
        Err(errors) => {
            return Ok(refill(
                StatusCode::UNPROCESSABLE_ENTITY,
                user,
                form,
                &f,
                &errors,
            ))
        }
    };
    match write(state, &user.caller.name, need, !editing).await {
        Ok(w) => Ok(Redirect::to(&format!("/console/needs/{}", w.id)).into_response()),
        Err(e) => match api_field_errors(&e) {
            Some(errors) => Ok(refill(
                StatusCode::UNPROCESSABLE_ENTITY,
                user,
                form,
                &f,
                &errors,
            )),
            None if e.kind == Kind::Conflict => {
                let errors = [(
                    "ニーズID".to_owned(),
                    "このIDのニーズは既にあります。別のIDにするか空欄にしてください。".to_owned(),
                )];
                Ok(refill(StatusCode::CONFLICT, user, form, &f, &errors))
            }
            None => Err(e.into()),
        },
    }
}

/// `POST /console/needs`: create (or, with `action=preview`, match only).
pub async fn create(
    State(state): State<AppState>,
    user: User,
    Form(f): Form<NeedForm>,
) -> ConsoleResult<Response> {
    if f.action == "preview" {
        return preview(&state, &user, f).await;
    }
    save(&state, &user, f, None).await
}

/// `POST /console/match`: candidates for a walk-in consultation, not saved.
pub async fn adhoc(
    State(state): State<AppState>,
    user: User,
    Form(f): Form<NeedForm>,
) -> ConsoleResult<Response> {
    preview(&state, &user, f).await
}

async fn preview(state: &AppState, user: &User, f: NeedForm) -> ConsoleResult<Response> {
    user.check_csrf(&f.csrf)?;
    let mut need = match f.need(None) {
        Ok(n) => n,
        Err(errors) => {
            return Ok(refill(
                StatusCode::UNPROCESSABLE_ENTITY,
                user,
                NEW,
                &f,
                &errors,
            ))
        }
    };
    need.id = RecordId::adhoc();
    let role = user.caller.core_role();
    let n = need.clone();
    let got = state
        .run(Work::Matching, move |e| {
            let mut n = n;
            matcher_core::model::validate::need(&mut n, &e.ctx.taxonomy)?;
            candidates(&e.matcher(), &n, role, TOP_K)
        })
        .await;
    let (result, companies) = match got {
        Ok(x) => x,
        Err(e) => match api_field_errors(&e) {
            Some(errors) => {
                return Ok(refill(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    user,
                    NEW,
                    &f,
                    &errors,
                ))
            }
            None => return Err(e.into()),
        },
    };
    Ok(layout::page(user, Tab::Needs, "候補（保存していない相談）", html! {
        div.notice { "このニーズは保存されていません。候補リストに追加するには、ニーズとして保存してください。" }
        (need_summary(&need))
        (candidate_list(user, &need, &result, &companies, &HashMap::new(), false))
    })
    .into_response())
}

type Candidates = (MatchResult, HashMap<String, Company>);

/// Match `need` and read each candidate's profile, all from the matcher's
/// one view.
pub(crate) fn candidates(
    matcher: &Matcher<'_>,
    need: &Need,
    role: matcher_core::Role,
    top_k: usize,
) -> crate::http::error::ApiResult<Candidates> {
    let opts = MatchOptions {
        top_k,
        mutual: true,
        ..MatchOptions::default()
    };
    let r = matcher.match_need(need, role, &opts)?;
    let mut companies = HashMap::new();
    for m in &r.matches {
        if let Some(c) = matcher.view().company(&m.company_id, role)? {
            companies.insert(m.company_id.clone(), c);
        }
    }
    Ok((r, companies))
}

fn need_summary(n: &Need) -> Markup {
    html! {
        section.need-summary {
            p.meta { (kind_label(n.kind)) " · " @if n.status == NeedStatus::Open { "募集中" } @else { "終了" }
                @if let Some(c) = &n.company_id { " · 依頼企業 " a href={"/console/companies/" (c)} { (c) } } }
            p.text { (n.text) }
            @if !n.industry_codes.is_empty() { p.meta { "求める業種: " (n.industry_codes.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")) } }
            @if !n.certifications_required.is_empty() { p.meta { "必要な認証: " (n.certifications_required.join("、")) } }
            @if let Some(r) = &n.region {
                p.meta { "地域: "
                    (r.municipality_codes.iter().map(|c| c.to_string()).chain(r.prefecture_codes.iter().map(|p| format!("都道府県{p}"))).collect::<Vec<_>>().join(", "))
                    @if let Some(k) = r.max_distance_km { " " (k) " km以内" } }
            }
        }
    }
}

fn candidate_list(
    user: &User,
    need: &Need,
    r: &MatchResult,
    companies: &HashMap<String, Company>,
    shortlisted: &HashMap<String, Stage>,
    can_shortlist: bool,
) -> Markup {
    html! {
        section.candidates {
            h2 { "候補企業" span.count { " " (r.matches.len()) " 社（検討 " (r.candidates) " 社）" } }
            @if can_shortlist {
                p.exports { "書き出し: "
                    a href={"/console/needs/" (need.id) "/candidates.csv?enc=utf8"} { "CSV（UTF-8）" } " · "
                    a.csv-sjis href={"/console/needs/" (need.id) "/candidates.csv?enc=sjis"} { "CSV（Shift_JIS）" } }
            }
            ol.candidates {
                @for m in &r.matches {
                    @let c = companies.get(&m.company_id);
                    @let restricted = c.is_some_and(|c| c.visibility == Visibility::Restricted);
                    li.candidate data-company=(m.company_id) {
                        div.head {
                            a.company-link href={"/console/companies/" (m.company_id)} { (m.name) }
                            span.score title="スコア" { (layout::score(m.score)) }
                            @if restricted { span.badge.restricted { "限定公開" } }
                            @if m.stale { span.badge.stale { "情報が古い" } }
                            @if m.mutual.as_ref().is_some_and(|x| x.is_mutual) { span.badge.mutual { "相互ニーズあり" } }
                        }
                        @if let Some(x) = &m.explanation {
                            p.why { (x.why) }
                            @if !x.requirements.is_empty() {
                                ul.requirements aria-label="要件の充足" {
                                    @for q in &x.requirements {
                                        li.requirement.met[q.met].lacking[!q.met].optional[q.optional] {
                                            (if q.met { "✓ " } else { "✗ " }) (q.wanted)
                                            @if q.optional { "（任意）" }
                                            @if let Some(by) = q.by.as_ref().filter(|b| **b != q.wanted) { " ← " (by) }
                                        }
                                    }
                                }
                            }
                            @if let Some(c) = c {
                                @let marks: Vec<(usize, usize)> = x.terms.iter().filter(|t| t.field == "capabilities").map(|t| (t.start, t.end)).collect();
                                p.profile { (layout::highlighted(&c.capabilities, &marks)) }
                                @if let Some(p) = &c.products {
                                    @let pm: Vec<(usize, usize)> = x.terms.iter().filter(|t| t.field == "products").map(|t| (t.start, t.end)).collect();
                                    @if !pm.is_empty() { p.profile { (layout::highlighted(p, &pm)) } }
                                }
                            }
                            ul.evidence {
                                @for ce in &x.concepts {
                                    li.concept { "技術: " (ce.wanted) " ← " (ce.have) " （" (relation_label(ce.relation)) "、出典「" (ce.source) "」）" }
                                }
                                @if !x.equipment.is_empty() { li { "設備: " (x.equipment.join("、")) } }
                                @if !x.industry_codes.is_empty() { li { "業種: " (x.industry_codes.join(", ")) } }
                                @if let Some(d) = x.distance_km { li { "距離: " (format!("{d:.1}")) " km" @if let Some(mu) = &x.municipality { "（" (mu) "）" } } }
                            }
                        }
                        @if can_shortlist {
                            @if let Some(s) = shortlisted.get(&m.company_id) {
                                p { "候補リスト: " (layout::stage(*s)) }
                            } @else {
                                form.inline.shortlist method="post" action={"/console/needs/" (need.id) "/shortlist"} {
                                    (layout::csrf(user))
                                    input type="hidden" name="company_id" value=(m.company_id);
                                    input type="text" name="note" placeholder="メモ（任意）" aria-label="メモ";
                                    button.shortlist-add type="submit" { "候補リストに追加" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn shortlist_table(
    user: &User,
    need: &Need,
    pairs: &[Pair],
    names: &HashMap<String, String>,
) -> Markup {
    html! {
        section.shortlist id="shortlist" {
            h2 { "候補リスト（提案 → 連絡 → 面談 → 成約）" }
            @if pairs.is_empty() { p { "まだ候補はありません。下の候補企業から追加してください。" } } @else {
                p.exports { "書き出し: "
                    a href={"/console/needs/" (need.id) "/shortlist.csv?enc=utf8"} { "CSV（UTF-8）" } " · "
                    a href={"/console/needs/" (need.id) "/shortlist.csv?enc=sjis"} { "CSV（Shift_JIS）" } }
                table.shortlist {
                    thead { tr { th { "企業" } th { "段階" } th { "更新" } th { "担当" } th { "メモ" } th { "次の段階" } } }
                    tbody {
                        @for p in pairs {
                            tr data-company=(p.company_id) {
                                td { a href={"/console/companies/" (p.company_id)} { (names.get(p.company_id.as_str()).map_or(p.company_id.as_str(), |s| s.as_str())) } }
                                td.stage-cell { (layout::stage(p.stage)) @if let Some(r) = p.reason { " " span.hint { (r.label()) } } }
                                td { (layout::time(p.since)) }
                                td { (p.proposed_by) }
                                td { (p.note) }
                                td {
                                    @if !p.stage.is_final() {
                                        form.inline.move method="post" action={"/console/needs/" (need.id) "/move"} {
                                            (layout::csrf(user))
                                            input type="hidden" name="company_id" value=(p.company_id);
                                            select name="to" aria-label="次の段階" {
                                                @for s in p.stage.moves() { option value=(s.as_str()) { (s.label()) } }
                                            }
                                            select name="reason" aria-label="見送りの理由" {
                                                option value="" { "（見送りの理由）" }
                                                @for r in DeclineReason::ALL { option value=(r.as_str()) { (r.label()) } }
                                            }
                                            input type="text" name="text" placeholder="メモ" aria-label="メモ";
                                            button.move-submit type="submit" { "記録" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NeedPageQuery {
    pub error: String,
    pub done: String,
}

/// `GET /console/needs/{id}`: the need, its shortlist and its candidates.
pub async fn need_page(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Query(q): Query<NeedPageQuery>,
) -> ConsoleResult<Markup> {
    let role = user.caller.core_role();
    let key = id.clone();
    let outcomes = state.outcomes()?;
    // The need, its candidates and the shortlisted companies' names, all
    // from one view.
    let got = state
        .run(Work::Matching, move |e| {
            let m = e.matcher();
            let v = m.view();
            let Some(n) = v.need(&key, role) else {
                return Ok(None);
            };
            let (r, companies) = candidates(&m, &n, role, TOP_K)?;
            let pairs = outcomes.shortlist(&key);
            let mut names = HashMap::new();
            for p in &pairs {
                if let Some(c) = v.company(p.company_id.as_str(), role)? {
                    names.insert(p.company_id.to_string(), c.name);
                }
            }
            Ok(Some((n, r, companies, pairs, names)))
        })
        .await?;
    let Some((need, result, companies, pairs, names)) = got else {
        return Err(ConsoleError::not_found("ニーズ", &id));
    };
    let staged: HashMap<String, Stage> = pairs
        .iter()
        .map(|p| (p.company_id.to_string(), p.stage))
        .collect();
    Ok(layout::page(
        &user,
        Tab::Needs,
        &need.title,
        html! {
            @if !q.error.is_empty() { div.error role="alert" id="action-error" { (q.error) } }
            @if !q.done.is_empty() { div.notice id="action-done" { (q.done) } }
            p.actions {
                a.button href={"/console/needs/" (need.id) "/edit"} { "編集" }
                @if need.status == NeedStatus::Open {
                    form.inline method="post" action={"/console/needs/" (need.id) "/close"} data-confirm="このニーズを終了しますか？" {
                        (layout::csrf(&user))
                        button.secondary type="submit" { "終了にする" }
                    }
                }
            }
            (need_summary(&need))
            (shortlist_table(&user, &need, &pairs, &names))
            (candidate_list(&user, &need, &result, &companies, &staged, true))
        },
    ))
}

/// `GET /console/needs/{id}/edit`.
pub async fn edit_page(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> ConsoleResult<Markup> {
    let role = user.caller.core_role();
    let key = id.clone();
    let n = state
        .run(Work::Plain, move |e| Ok(e.need(&key, role)))
        .await?;
    let n = n.ok_or_else(|| ConsoleError::not_found("ニーズ", &id))?;
    Ok(form_page(
        &user,
        "ニーズの編集",
        &format!("/console/needs/{id}"),
        &NeedForm::from_need(&n),
        &[],
        true,
    ))
}

/// `POST /console/needs/{id}`: save an edited need.
pub async fn update(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Form(f): Form<NeedForm>,
) -> ConsoleResult<Response> {
    save(&state, &user, f, Some(&id)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: String,
}

/// `POST /console/needs/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> ConsoleResult<Response> {
    user.check_csrf(&f.csrf)?;
    let role = user.caller.core_role();
    let key = id.clone();
    let n = state
        .run(Work::Plain, move |e| Ok(e.need(&key, role)))
        .await?;
    let mut n = n.ok_or_else(|| ConsoleError::not_found("ニーズ", &id))?;
    n.status = NeedStatus::Closed;
    write(&state, &user.caller.name, n, false).await?;
    Ok(Redirect::to(&format!(
        "/console/needs/{id}?done={}",
        enc("ニーズを終了にしました。")
    ))
    .into_response())
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PairForm {
    pub csrf: String,
    pub company_id: String,
    pub note: String,
    pub to: String,
    pub reason: String,
    pub text: String,
}

async fn record_pair(
    state: &AppState,
    user: &User,
    need: &str,
    company: &str,
    change: Change,
) -> Response {
    let (Ok(n), Ok(c)) = (parse_id(need), parse_id(company)) else {
        return Redirect::to(&format!(
            "/console/needs/{need}?error={}",
            enc("IDが正しくありません。")
        ))
        .into_response();
    };
    let st = state.clone();
    let caller = user.caller.clone();
    let res = state
        .run(Work::Plain, move |e| {
            record_checked(e, &st, &caller, n, c, change)
        })
        .await;
    let q = match res {
        Ok(p) => format!(
            "done={}",
            enc(&format!(
                "{} を {} にしました。",
                p.company_id,
                p.stage.label()
            ))
        ),
        Err(e) => {
            let msg = match e.kind {
                Kind::IllegalTransition => format!("この段階には進めません（{}）", e.detail),
                Kind::NotFound => "企業またはニーズが見つかりません。".to_owned(),
                Kind::Validation => format!(
                    "入力を確認してください（{}）",
                    e.errors
                        .iter()
                        .map(|f| f.reason.clone())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                _ => format!("記録できませんでした（{}）", e.detail),
            };
            format!("error={}", enc(&msg))
        }
    };
    Redirect::to(&format!("/console/needs/{need}?{q}#shortlist")).into_response()
}

/// `POST /console/needs/{id}/shortlist`: add a candidate at 提案.
pub async fn shortlist_add(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Form(f): Form<PairForm>,
) -> ConsoleResult<Response> {
    user.check_csrf(&f.csrf)?;
    let change = Change::Moved {
        to: Stage::Proposed,
        reason: None,
        text: f.note.trim().to_owned(),
    };
    Ok(record_pair(&state, &user, &id, &f.company_id, change).await)
}

/// `POST /console/needs/{id}/move`: the next stage, or 見送り with a reason.
pub async fn move_pair(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Form(f): Form<PairForm>,
) -> ConsoleResult<Response> {
    user.check_csrf(&f.csrf)?;
    let Some(to) = Stage::parse(&f.to) else {
        return Ok(Redirect::to(&format!(
            "/console/needs/{id}?error={}",
            enc("次の段階を選んでください。")
        ))
        .into_response());
    };
    // The reason select is always posted; it counts only for 見送り.
    let reason = if to == Stage::Declined {
        DeclineReason::parse(&f.reason)
    } else {
        None
    };
    let change = Change::Moved {
        to,
        reason,
        text: f.text.trim().to_owned(),
    };
    Ok(record_pair(&state, &user, &id, &f.company_id, change).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_every_invalid_field_in_japanese() {
        let f = NeedForm {
            kind: "subcontracting".into(),
            industry_codes: "24 X9".into(),
            km: "-3".into(),
            pref: "13 99".into(),
            ..NeedForm::default()
        };
        let errs = f.need(None).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "件名",
                "内容",
                "求める業種（JSIC）",
                "地域（都道府県コード）",
                "距離（km）"
            ]
        );
        assert!(errs[2].1.contains("「X9」"), "{:?}", errs[2]);
    }

    #[test]
    fn a_valid_form_makes_the_need_with_its_region() {
        let f = NeedForm {
            kind: "joint_development".into(),
            title: " 治具の共同開発 ".into(),
            text: "検査治具を一緒に作れる会社".into(),
            muni: "132292".into(),
            km: "15".into(),
            certifications_required: "ISO9001、ISO14001".into(),
            ..NeedForm::default()
        };
        let n = f.need(None).unwrap();
        assert_eq!(n.title, "治具の共同開発");
        assert_eq!(n.kind, NeedKind::JointDevelopment);
        assert!(n.id.as_str().starts_with("n-"));
        assert_eq!(n.certifications_required, ["ISO9001", "ISO14001"]);
        let r = n.region.unwrap();
        assert_eq!(r.max_distance_km, Some(15.0));
        assert_eq!(r.municipality_codes[0].to_string(), "132292");
    }
}
