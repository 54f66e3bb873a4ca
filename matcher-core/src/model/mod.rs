//! Company profiles and needs: the interchange shape, as plain serde structs.
//!
//! Unknown fields are refused (`deny_unknown_fields`): a misspelt field must
//! not be silently dropped. Shape invariants live in the newtypes of
//! [`codes`]; table lookups (does this JSIC code exist?) in [`validate`].

pub mod codes;
pub mod validate;

use serde::{Deserialize, Serialize};

pub use codes::{Date, JsicCode, JsicLevel, MunicipalityCode, RecordId};

/// A WGS84 point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Latitude in degrees, north positive.
    pub lat: f64,
    /// Longitude in degrees, east positive.
    pub lon: f64,
}

/// The mean Earth radius of [`GeoPoint::distance_km`] (haversine).
pub const EARTH_RADIUS_KM: f64 = 6371.0;

impl GeoPoint {
    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(self, other: GeoPoint) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// Who may see a company.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone may see it, portals included.
    #[default]
    Public,
    /// Coordinators only (a subcontractor that did not agree to be public).
    Restricted,
}

/// One piece of 保有設備.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Equipment {
    /// What the machine is (マシニングセンター, NC旋盤): read by the analyzer
    /// and by the ontology, which knows what each machine implies.
    pub name: String,
    /// Manufacturer, shown as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub maker: Option<String>,
    /// Model designation, shown as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub model: Option<String>,
    /// How many the company has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub count: Option<u32>,
    /// Capacity or size in the maker's words (テーブル 1000×500, 5軸).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub spec: Option<String>,
}

/// A company profile (seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Company {
    /// Stable id: an upsert with the same id replaces the company.
    pub id: RecordId,
    /// Registered name (株式会社… as written).
    pub name: String,
    /// Reading of the name, so a search in kana finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name_kana: Option<String>,
    /// Where it is registered: region constraints, facets and, without a
    /// `location`, the distance from the municipality's office.
    pub municipality_code: MunicipalityCode,
    /// Street address, shown only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub address: Option<String>,
    /// Its site, for distances; the municipality's office when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub location: Option<GeoPoint>,
    /// Its JSIC codes, any level: the industry signal and filter.
    pub industry_codes: Vec<JsicCode>,
    /// What it does, in its own words: the main text matched against needs.
    pub capabilities: String,
    /// What it makes or has made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub products: Option<String>,
    /// 保有設備: matched by name, and implying capabilities the text may not say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<Equipment>,
    /// Certifications held, any spelling (ＩＳＯ９００１, ISO 9001:2015); validation
    /// rewrites them to the canonical name the tables give.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<String>,
    /// Number of employees: the size signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub employees: Option<u32>,
    /// Paid-in capital in yen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub capital_jpy: Option<u64>,
    /// Year founded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub founded_year: Option<u16>,
    /// Who may see it; public unless stated.
    #[serde(default)]
    pub visibility: Visibility,
    /// When the profile was last confirmed: older than the configured months, a
    /// match is flagged stale and the freshness signal falls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub updated_at: Option<Date>,
}

/// What a need asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NeedKind {
    /// Work done to the owner's drawings or specification (外注・下請け).
    Subcontracting,
    /// A partner to develop a product or technique with.
    JointDevelopment,
    /// Someone to sell through or to.
    SalesChannel,
    /// A supplier of parts, materials or equipment.
    Procurement,
    /// 事業承継: a successor or buyer for the business.
    Succession,
    /// People or skills.
    Talent,
    /// Money or investors.
    Funding,
    /// Anything else.
    Other,
}

/// Whether a need still looks for partners: batches, opportunities and
/// mutual scores consider open needs only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    /// Still looking.
    #[default]
    Open,
    /// Met or withdrawn; kept for the record and the outcomes.
    Closed,
}

/// Where the partner must be.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// A partner must be in one of these municipalities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub municipality_codes: Vec<MunicipalityCode>,
    /// Two-digit prefecture codes ("13").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{2}$"))]
    pub prefecture_codes: Vec<String>,
    /// A partner must lie within this distance of the need's owner (or, without
    /// an owner, of the first municipality named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub max_distance_km: Option<f64>,
}

/// A need (ニーズ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Need {
    /// Stable id: an upsert with the same id replaces the need.
    pub id: RecordId,
    /// The company that has the need: never its own candidate, and the origin
    /// of distances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub company_id: Option<RecordId>,
    /// What kind of partner is wanted.
    pub kind: NeedKind,
    /// One line, matched like the text.
    pub title: String,
    /// The need in the owner's words; clauses that exclude work or describe the
    /// owner are recognized and do not count as the request.
    pub text: String,
    /// JSIC codes a partner should have (a signal, not a filter).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industry_codes: Vec<JsicCode>,
    /// Machines a partner should have (a signal, not a filter).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<String>,
    /// Certifications a partner must hold, any spelling: a hard filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications_required: Vec<String>,
    /// Where a partner must be: a hard filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub region: Option<Region>,
    /// Open unless stated.
    #[serde(default)]
    pub status: NeedStatus,
}

/// An ad-hoc need as posted to the API: like [`Need`] but the id is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NeedDraft {
    /// The id, if the caller has one; else the need is ad hoc.
    #[serde(default)]
    pub id: Option<RecordId>,
    /// The company that has the need: never its own candidate, and the origin
    /// of distances.
    #[serde(default)]
    pub company_id: Option<RecordId>,
    /// What kind of partner is wanted.
    pub kind: NeedKind,
    /// One line, matched like the text.
    pub title: String,
    /// The need in the owner's words; clauses that exclude work or describe the
    /// owner are recognized and do not count as the request.
    pub text: String,
    /// JSIC codes a partner should have (a signal, not a filter).
    #[serde(default)]
    pub industry_codes: Vec<JsicCode>,
    /// Machines a partner should have (a signal, not a filter).
    #[serde(default)]
    pub equipment: Vec<String>,
    /// Certifications a partner must hold, any spelling: a hard filter.
    #[serde(default)]
    pub certifications_required: Vec<String>,
    /// Where a partner must be: a hard filter.
    #[serde(default)]
    pub region: Option<Region>,
    /// Open unless stated.
    #[serde(default)]
    pub status: NeedStatus,
}

impl NeedDraft {
    /// The need, with the ad-hoc id when none was given.
    pub fn into_need(self) -> Need {
        Need {
            id: self.id.unwrap_or_else(RecordId::adhoc),
            company_id: self.company_id,
            kind: self.kind,
            title: self.title,
            text: self.text,
            industry_codes: self.industry_codes,
            equipment: self.equipment,
            certifications_required: self.certifications_required,
            region: self.region,
            status: self.status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_tokyo_osaka() {
        let tokyo = GeoPoint {
            lat: 35.6895,
            lon: 139.6917,
        };
        let osaka = GeoPoint {
            lat: 34.6937,
            lon: 135.5023,
        };
        let d = tokyo.distance_km(osaka);
        assert!((390.0..410.0).contains(&d), "{d}");
    }

    #[test]
    fn unknown_field_is_refused() {
        let line = r#"{"id":"n1","kind":"other","title":"t","text":"x","titel":"oops"}"#;
        let err = serde_json::from_str::<Need>(line).unwrap_err().to_string();
        assert!(err.contains("titel"), "{err}");
    }
}
