//! Company search (query, filters, facets, highlights, paging) and the
//! company page (full profile, equipment, freshness, visibility, and the
//! open needs the company could serve).

use axum::extract::{Path, Query, State};
use matcher_core::index::search::{Filters, Near};
use matcher_core::matching::MatchOptions;
use matcher_core::model::{MunicipalityCode, Visibility};
use matcher_core::SearchRequest;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{self, words, Tab};
use super::session::User;
use super::{ConsoleError, ConsoleResult};
use crate::http::routes::outcomes::audit_read;
use crate::http::state::{AppState, Work};

/// Hits per page.
const PAGE: usize = 20;

/// The search form, as query parameters (every field optional).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub q: String,
    /// JSIC codes at any level or cluster ids, space- or comma-separated.
    pub jsic: String,
    /// Municipality codes (6 digits).
    pub muni: String,
    /// Prefecture codes (2 digits).
    pub pref: String,
    /// Distance: from this municipality's office …
    pub near: String,
    /// … within this many km.
    pub km: String,
    pub cert: String,
    pub equip: String,
    pub emp_min: String,
    pub emp_max: String,
    /// `exclude`: drop stale profiles.
    pub fresh: String,
    pub page: usize,
}

impl SearchForm {
    /// The core request, or the Japanese messages of every invalid field.
    pub fn request(&self) -> Result<SearchRequest, Vec<String>> {
        let mut errors = Vec::new();
        let mut f = Filters {
            jsic: words(&self.jsic),
            prefectures: words(&self.pref),
            certifications: words(&self.cert),
            exclude_stale: self.fresh == "exclude",
            ..Filters::default()
        };
        for m in words(&self.muni) {
            match m.parse::<MunicipalityCode>() {
                Ok(c) => f.municipalities.push(c),
                Err(_) => errors.push(format!(
                    "市区町村コード「{m}」が正しくありません（6桁の全国地方公共団体コード）。"
                )),
            }
        }
        if !self.equip.trim().is_empty() {
            f.equipment = Some(self.equip.trim().to_owned());
        }
        let num = |label: &str, s: &str, errors: &mut Vec<String>| -> Option<u32> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match s.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(format!("{label}は0以上の整数で入力してください。"));
                    None
                }
            }
        };
        f.employees_min = num("従業員数（下限）", &self.emp_min, &mut errors);
        f.employees_max = num("従業員数（上限）", &self.emp_max, &mut errors);
        if !self.near.trim().is_empty() || !self.km.trim().is_empty() {
            let muni = self.near.trim().parse::<MunicipalityCode>();
            let km = self.km.trim().parse::<f64>();
            match (muni, km) {
                (Ok(m), Ok(k)) if k.is_finite() && k > 0.0 => {
                    f.near = Some(Near {
                        lat: None,
                        lon: None,
                        municipality: Some(m),
                        km: k,
                    })
                }
                (Err(_), _) => {
                    errors.push("距離の起点は市区町村コード（6桁）で入力してください。".to_owned())
                }
                _ => errors.push("距離は正の数（km）で入力してください。".to_owned()),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SearchRequest {
            query: self.q.trim().to_owned(),
            filters: f,
            offset: self.page * PAGE,
            limit: PAGE,
            ..SearchRequest::default()
        })
    }

    /// This form's query string with one field replaced.
    fn with(&self, field: &str, value: &str) -> String {
        let mut f = self.clone();
        match field {
            "jsic" => f.jsic = value.to_owned(),
            "muni" => f.muni = value.to_owned(),
            "cert" => f.cert = value.to_owned(),
            _ => {}
        }
        if field != "page" {
            f.page = 0;
        } else {
            f.page = value.parse().unwrap_or(0);
        }
        let pairs = [
            ("q", f.q.as_str()),
            ("jsic", &f.jsic),
            ("muni", &f.muni),
            ("pref", &f.pref),
            ("near", &f.near),
            ("km", &f.km),
            ("cert", &f.cert),
            ("equip", &f.equip),
            ("emp_min", &f.emp_min),
            ("emp_max", &f.emp_max),
            ("fresh", &f.fresh),
        ];
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        if f.page > 0 {
            ser.append_pair("page", &f.page.to_string());
        }
        format!("/console/search?{}", ser.finish())
    }
}

fn form(f: &SearchForm) -> Markup {
    html! {
        form.search method="get" action="/console/search" {
            div.row {
                input.q type="search" name="q" value=(f.q) placeholder="例: 5軸 マシニング チタン" aria-label="検索語";
                button type="submit" { "検索" }
            }
            details open[!f.jsic.is_empty() || !f.muni.is_empty() || !f.pref.is_empty() || !f.cert.is_empty() || !f.equip.is_empty() || !f.near.is_empty()] {
                summary { "絞り込み" }
                div.filters {
                    label { "業種（JSIC・クラスタ）" input type="text" name="jsic" value=(f.jsic) placeholder="24 245 soft_monozukuri"; }
                    label { "市区町村コード" input type="text" name="muni" value=(f.muni) placeholder="132292"; }
                    label { "都道府県コード" input type="text" name="pref" value=(f.pref) placeholder="13"; }
                    label { "距離の起点（市区町村コード）" input type="text" name="near" value=(f.near); }
                    label { "距離（km以内）" input type="text" name="km" value=(f.km) inputmode="decimal"; }
                    label { "認証" input type="text" name="cert" value=(f.cert) placeholder="ISO9001"; }
                    label { "設備" input type="text" name="equip" value=(f.equip) placeholder="5軸"; }
                    label { "従業員数（下限）" input type="text" name="emp_min" value=(f.emp_min) inputmode="numeric"; }
                    label { "従業員数（上限）" input type="text" name="emp_max" value=(f.emp_max) inputmode="numeric"; }
                    label.check { input type="checkbox" name="fresh" value="exclude" checked[f.fresh == "exclude"]; "情報が古い企業を除く" }
                }
            }
        }
    }
}

/// `GET /console/search`.
pub async fn search_page(
    State(state): State<AppState>,
    user: User,
    Query(f): Query<SearchForm>,
) -> ConsoleResult<Markup> {
    let req = match f.request() {
        Ok(r) => r,
        Err(errors) => {
            return Ok(layout::page(
                &user,
                Tab::Search,
                "企業検索",
                html! {
                    (form(&f))
                    div.error role="alert" { @for e in &errors { p { (e) } } }
                },
            ))
        }
    };
    if req.query.is_empty() && req.filters.is_empty() {
        return Ok(layout::page(
            &user,
            Tab::Search,
            "企業検索",
            html! {
                (form(&f))
                p.hint { "技術・設備・製品などの言葉で検索し、業種・地域・認証などで絞り込めます。" }
            },
        ));
    }
    let role = user.caller.core_role();
    let res = state
        .run(Work::Plain, move |e| Ok(e.search(&req, role)?))
        .await?;
    let pages = res.total.div_ceil(PAGE);
    Ok(layout::page(
        &user,
        Tab::Search,
        "企業検索",
        html! {
            (form(&f))
            div.results-layout {
                aside.facets {
                    @if let Some(fx) = &res.facets {
                        @for (title, field, list) in [("業種", "jsic", &fx.jsic_division), ("市区町村", "muni", &fx.municipality), ("認証", "cert", &fx.certification)] {
                            @if !list.is_empty() {
                                h3 { (title) }
                                ul {
                                    @for x in list.iter().take(12) {
                                        li { a href=(f.with(field, &x.value)) { (x.label) } " " span.count { (x.count) } }
                                    }
                                }
                            }
                        }
                    }
                }
                section.hits {
                    p.total id="total" { (res.total) " 社" }
                    @for h in &res.hits {
                        article.hit {
                            h2 { a.company-link href={"/console/companies/" (h.id)} { (h.name) } }
                            p.meta {
                                (h.municipality.as_deref().unwrap_or(&h.municipality_code))
                                " · JSIC " (h.industry_codes.join(", "))
                                @if let Some(u) = &h.updated_at { " · 更新 " (u) }
                                @if h.stale { " " span.badge.stale { "情報が古い" } }
                            }
                            @for s in &h.snippets {
                                @let marks: Vec<(usize, usize)> = s.highlights.iter().map(|r| (r[0], r[1])).collect();
                                p.snippet { (layout::highlighted(&s.text, &marks)) }
                            }
                        }
                    }
                    @if pages > 1 {
                        nav.pager {
                            @if f.page > 0 { a rel="prev" href=(f.with("page", &(f.page - 1).to_string())) { "← 前へ" } }
                            span { (f.page + 1) " / " (pages) }
                            @if f.page + 1 < pages { a rel="next" href=(f.with("page", &(f.page + 1).to_string())) { "次へ →" } }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /console/companies/{id}`: the profile; a restricted one is marked
/// and its read is audited.
pub async fn company_page(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
) -> ConsoleResult<Markup> {
    let role = user.caller.core_role();
    let key = id.clone();
    let st = state.clone();
    let caller = user.caller.clone();
    let got = state
        .run(Work::Matching, move |e| {
            // The profile and its opportunities from one view.
            let m = e.matcher();
            let Some(c) = m.view().company(&key, role)? else {
                return Ok(None);
            };
            if c.visibility == Visibility::Restricted {
                audit_read(&st, &caller, &key, "console")?;
            }
            let opts = MatchOptions {
                top_k: 10,
                ..MatchOptions::default()
            };
            let opps = m.opportunities(&key, role, &opts)?.unwrap_or_default();
            let tax = &e.ctx.taxonomy;
            let muni = tax
                .municipality(c.municipality_code)
                .map(|m| m.name.clone());
            let jsic: Vec<(String, String)> = c
                .industry_codes
                .iter()
                .map(|j| {
                    let name = tax
                        .jsic(j.as_str())
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    (j.to_string(), name)
                })
                .collect();
            let stale = c.updated_at.is_none_or(|d| d < m.stale_cutoff());
            Ok(Some((c, opps, muni, jsic, stale)))
        })
        .await?;
    let Some((c, opps, muni, jsic, stale)) = got else {
        return Err(ConsoleError::not_found("企業", &id));
    };
    Ok(layout::page(
        &user,
        Tab::Search,
        &c.name,
        html! {
            @if c.visibility == Visibility::Restricted {
                div.notice.restricted id="restricted-notice" {
                    "限定公開の企業です。ポータルには表示されません。この閲覧は記録されます。"
                }
            }
            dl.profile {
                dt { "企業ID" } dd { (c.id) }
                @if let Some(k) = &c.name_kana { dt { "フリガナ" } dd { (k) } }
                dt { "所在地" } dd { (muni.as_deref().unwrap_or("")) " " (c.address.as_deref().unwrap_or("")) " (" (c.municipality_code) ")" }
                dt { "業種" } dd { @for (code, name) in &jsic { span.tag { (code) " " (name) } " " } }
                dt { "公開範囲" } dd { @if c.visibility == Visibility::Restricted { span.badge.restricted { "限定公開" } } @else { "公開" } }
                dt { "情報の鮮度" } dd {
                    @if let Some(u) = c.updated_at { "最終確認 " (u.to_string()) } @else { "確認日なし" }
                    @if stale { " " span.badge.stale { "情報が古い（要確認）" } }
                }
                @if let Some(n) = c.employees { dt { "従業員数" } dd { (n) " 名" } }
                @if let Some(y) = c.founded_year { dt { "創業" } dd { (y) " 年" } }
                @if let Some(cap) = c.capital_jpy { dt { "資本金" } dd { (cap / 10_000) " 万円" } }
                @if !c.certifications.is_empty() { dt { "認証" } dd { (c.certifications.join("、")) } }
            }
            h2 { "技術・強み" }
            p.text { (c.capabilities) }
            @if let Some(p) = &c.products { h2 { "製品" } p.text { (p) } }
            h2 { "保有設備" }
            @if c.equipment.is_empty() { p { "登録なし" } } @else {
                table.equipment {
                    thead { tr { th { "設備" } th { "メーカー" } th { "型式" } th { "台数" } th { "仕様" } } }
                    tbody {
                        @for q in &c.equipment {
                            tr {
                                td { (q.name) }
                                td { (q.maker.as_deref().unwrap_or("")) }
                                td { (q.model.as_deref().unwrap_or("")) }
                                td.num { @if let Some(n) = q.count { (n) } }
                                td { (q.spec.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            h2 { "この企業が応えられそうなニーズ" }
            @if opps.is_empty() { p { "該当する募集中のニーズはありません。" } } @else {
                table.opportunities {
                    thead { tr { th { "ニーズ" } th { "順位" } th { "スコア" } th { "理由" } } }
                    tbody {
                        @for o in &opps {
                            tr {
                                td { a href={"/console/needs/" (o.need_id)} { (o.title) } }
                                td.num { (o.rank) }
                                td.num { (layout::score(o.score)) }
                                td { @if let Some(x) = &o.explanation { (x.why) } }
                            }
                        }
                    }
                }
            }
        },
    ))
}
