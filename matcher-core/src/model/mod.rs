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
    pub lat: f64,
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
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub maker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub spec: Option<String>,
}

/// A company profile (seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub id: RecordId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name_kana: Option<String>,
    pub municipality_code: MunicipalityCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub location: Option<GeoPoint>,
    pub industry_codes: Vec<JsicCode>,
    pub capabilities: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub products: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<Equipment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub employees: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub capital_jpy: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub founded_year: Option<u16>,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub updated_at: Option<Date>,
}

/// What a need asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NeedKind {
    Subcontracting,
    JointDevelopment,
    SalesChannel,
    Procurement,
    Succession,
    Talent,
    Funding,
    Other,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    #[default]
    Open,
    Closed,
}

/// Where the partner must be.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Region {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub municipality_codes: Vec<MunicipalityCode>,
    /// Two-digit prefecture codes ("13").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[0-9]{2}$"))]
    pub prefecture_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub max_distance_km: Option<f64>,
}

/// A need (ニーズ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Need {
    pub id: RecordId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub company_id: Option<RecordId>,
    pub kind: NeedKind,
    pub title: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industry_codes: Vec<JsicCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications_required: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub region: Option<Region>,
    #[serde(default)]
    pub status: NeedStatus,
}

/// An ad-hoc need as posted to the API: like [`Need`] but the id is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NeedDraft {
    #[serde(default)]
    pub id: Option<RecordId>,
    #[serde(default)]
    pub company_id: Option<RecordId>,
    pub kind: NeedKind,
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub industry_codes: Vec<JsicCode>,
    #[serde(default)]
    pub equipment: Vec<String>,
    #[serde(default)]
    pub certifications_required: Vec<String>,
    #[serde(default)]
    pub region: Option<Region>,
    #[serde(default)]
    pub status: NeedStatus,
}

impl NeedDraft {
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
