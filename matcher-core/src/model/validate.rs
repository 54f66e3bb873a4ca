//! Record validation against the reference tables.
//!
//! Shape errors come from serde (with the field path); this adds what needs
//! the tables or crosses fields: empty names, oversized text, JSIC codes that
//! do not exist, certification names folded to their canonical form.

use serde::Serialize;

use super::{Company, Need};
use crate::taxonomy::{JsicCheck, Taxonomy};

/// Longest accepted free-text field, in bytes (a profile is a page, not a book).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A rejected field: where and why.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

fn fail<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        field: field.into(),
        reason: reason.into(),
    })
}

fn text(field: &str, value: &str, required: bool) -> Result<(), FieldError> {
    if required && value.trim().is_empty() {
        return fail(field, "must not be empty");
    }
    if value.len() > MAX_TEXT_BYTES {
        return fail(
            field,
            format!(
                "{} bytes exceeds the limit of {MAX_TEXT_BYTES} bytes",
                value.len()
            ),
        );
    }
    Ok(())
}

fn jsic(
    field: &str,
    codes: &[super::JsicCode],
    tax: &Taxonomy,
    warnings: &mut Vec<String>,
) -> Result<(), FieldError> {
    for (i, code) in codes.iter().enumerate() {
        match tax.check_jsic(code) {
            JsicCheck::Known => {}
            JsicCheck::UnlistedUnderKnownDivision => warnings.push(format!(
                "{field}[{i}]: JSIC {code} is not in the bundled table; accepted under division {}",
                code.division().unwrap_or("?")
            )),
            JsicCheck::Unknown(why) => return fail(format!("{field}[{i}]"), why),
        }
    }
    Ok(())
}

/// Validate and normalize a company in place. Returns warnings.
pub fn company(c: &mut Company, tax: &Taxonomy) -> Result<Vec<String>, FieldError> {
    let mut warnings = Vec::new();
    text("name", &c.name, true)?;
    text("capabilities", &c.capabilities, true)?;
    for (f, v) in [
        ("name_kana", &c.name_kana),
        ("address", &c.address),
        ("products", &c.products),
    ] {
        text(f, v.as_deref().unwrap_or(""), false)?;
    }
    if c.industry_codes.is_empty() {
        return fail("industry_codes", "at least one JSIC code is required");
    }
    jsic("industry_codes", &c.industry_codes, tax, &mut warnings)?;
    if tax.municipality(c.municipality_code).is_none() {
        warnings.push(format!(
            "municipality_code: {} is not in the municipality table; its prefecture's office stands in for distances",
            c.municipality_code
        ));
    }
    if let Some(p) = c.location {
        if !(p.lat.is_finite()
            && p.lon.is_finite()
            && (-90.0..=90.0).contains(&p.lat)
            && (-180.0..=180.0).contains(&p.lon))
        {
            return fail(
                "location",
                format!("({}, {}) is not a WGS84 latitude/longitude", p.lat, p.lon),
            );
        }
    }
    for (i, e) in c.equipment.iter().enumerate() {
        text(&format!("equipment[{i}].name"), &e.name, true)?;
        for (f, v) in [("maker", &e.maker), ("model", &e.model), ("spec", &e.spec)] {
            text(
                &format!("equipment[{i}].{f}"),
                v.as_deref().unwrap_or(""),
                false,
            )?;
        }
    }
    for (i, cert) in c.certifications.iter_mut().enumerate() {
        text(&format!("certifications[{i}]"), cert, true)?;
        *cert = tax.canonical_certification(cert);
    }
    c.certifications.sort();
    c.certifications.dedup();
    Ok(warnings)
}

/// Validate and normalize a need in place. Returns warnings.
pub fn need(n: &mut Need, tax: &Taxonomy) -> Result<Vec<String>, FieldError> {
    let mut warnings = Vec::new();
    text("title", &n.title, true)?;
    text("text", &n.text, true)?;
    jsic("industry_codes", &n.industry_codes, tax, &mut warnings)?;
    for (i, e) in n.equipment.iter().enumerate() {
        text(&format!("equipment[{i}]"), e, true)?;
    }
    for (i, cert) in n.certifications_required.iter_mut().enumerate() {
        text(&format!("certifications_required[{i}]"), cert, true)?;
        *cert = tax.canonical_certification(cert);
    }
    if let Some(r) = &n.region {
        for (i, p) in r.prefecture_codes.iter().enumerate() {
            let ok = p.len() == 2
                && p.parse::<u8>()
                    .map(|v| (1..=47).contains(&v))
                    .unwrap_or(false);
            if !ok {
                return fail(
                    format!("region.prefecture_codes[{i}]"),
                    format!("{p:?} is not a prefecture code 01-47"),
                );
            }
        }
        if let Some(d) = r.max_distance_km {
            if !d.is_finite() || d <= 0.0 {
                return fail(
                    "region.max_distance_km",
                    format!("{d} must be a positive number of kilometres"),
                );
            }
        }
    }
    Ok(warnings)
}
