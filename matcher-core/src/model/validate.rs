//! Record validation against the reference tables.
//!
//! Shape errors come from serde (with the field path); this adds what needs
//! the tables or crosses fields: empty names, oversized text, JSIC codes that
//! do not exist, certification names folded to their canonical form, and
//! numbers outside plausible ranges (documented in `fixtures/FORMATS.md`).

use serde::Serialize;

use super::{Company, Need};
use crate::taxonomy::{JsicCheck, Taxonomy};

/// Longest accepted free-text field, in bytes (a profile is a page, not a book).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Most employees a company may report: above the largest Japanese employer
/// groups (around 400,000); 1,000,000,000 is a typo, not a company.
pub const MAX_EMPLOYEES: u32 = 500_000;

/// Largest stated capital in yen: 100 trillion (10^14), far above the
/// largest in Japan (a few trillion).
pub const MAX_CAPITAL_JPY: u64 = 100_000_000_000_000;

/// Earliest founding year: 578, 金剛組, the oldest company on record.
/// Japanese 老舗 founded before 1600 exist (虎屋 in 港区, for one), so the
/// bound is history, not the Edo period; 0 or a two-digit year is refused.
pub const MIN_FOUNDED_YEAR: u16 = 578;

/// Latest founding year: next year (a company registered for a start date
/// in the coming year), by the UTC clock.
pub fn max_founded_year() -> u16 {
    let next = super::Date::today().year().saturating_add(1);
    u16::try_from(next).unwrap_or(u16::MAX)
}

/// A rejected field: where and why.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's path (`equipment[2].name`).
    pub field: String,
    /// What is wrong and, where there is one, the value expected.
    pub reason: String,
}

fn fail<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// A character that shows nothing: whitespace, a control character (NUL
/// included) or an invisible format character (zero-width space and joiners,
/// word joiner, BOM, soft hyphen).
fn is_blank_char(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// Is the text empty once the characters that show nothing are ignored?
pub fn is_blank(value: &str) -> bool {
    value.chars().all(is_blank_char)
}

fn text(field: &str, value: &str, required: bool) -> Result<(), FieldError> {
    if required && value.is_empty() {
        return fail(field, "must not be empty");
    }
    if required && is_blank(value) {
        return fail(
            field,
            "must not be empty: it holds only whitespace or control characters",
        );
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

/// `value` of `field`, if given, must lie in `min..=max`; `what` names the
/// quantity in the reason.
fn plausible<T>(field: &str, value: Option<T>, min: T, max: T, what: &str) -> Result<(), FieldError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    match value {
        Some(v) if v < min || v > max => fail(
            field,
            format!("{v} is not a plausible {what}: expected {min} to {max}"),
        ),
        _ => Ok(()),
    }
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
    plausible(
        "employees",
        c.employees,
        0,
        MAX_EMPLOYEES,
        "number of employees",
    )?;
    plausible(
        "capital_jpy",
        c.capital_jpy,
        0,
        MAX_CAPITAL_JPY,
        "capital in yen",
    )?;
    plausible(
        "founded_year",
        c.founded_year,
        MIN_FOUNDED_YEAR,
        max_founded_year(),
        "founding year",
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_texts_are_empty() {
        for v in [
            "",
            " ",
            "\u{3000}",
            "\0",
            "\0\u{1}\u{7f}",
            "\t\r\n",
            "\u{200B}\u{FEFF}",
        ] {
            assert!(is_blank(v), "{v:?}");
            let e = text("name", v, true).unwrap_err();
            assert_eq!(e.field, "name");
            assert!(e.reason.starts_with("must not be empty"), "{e}");
        }
        for v in ["a", "株式会社\0A", " x "] {
            assert!(!is_blank(v), "{v:?}");
            assert!(text("name", v, true).is_ok());
        }
        // an optional text may be blank
        assert!(text("products", "\0", false).is_ok());
    }

    #[test]
    fn plausible_ranges_are_inclusive() {
        assert!(plausible("employees", Some(0u32), 0, MAX_EMPLOYEES, "n").is_ok());
        assert!(plausible("employees", Some(MAX_EMPLOYEES), 0, MAX_EMPLOYEES, "n").is_ok());
        assert!(plausible("employees", None, 0, MAX_EMPLOYEES, "n").is_ok());
        let e = plausible(
            "employees",
            Some(1_000_000_000u32),
            0,
            MAX_EMPLOYEES,
            "number of employees",
        )
        .unwrap_err();
        assert_eq!(e.field, "employees");
        assert_eq!(
            e.reason,
            "1000000000 is not a plausible number of employees: expected 0 to 500000"
        );
        let max = max_founded_year();
        assert!(plausible("founded_year", Some(max), MIN_FOUNDED_YEAR, max, "y").is_ok());
        for y in [0u16, MIN_FOUNDED_YEAR - 1, max + 1] {
            let e = plausible("founded_year", Some(y), MIN_FOUNDED_YEAR, max, "y").unwrap_err();
            assert_eq!(e.field, "founded_year");
        }
    }

    #[test]
    fn founding_year_bound_follows_the_clock() {
        let year = crate::model::Date::today().year();
        assert!(year >= 2024, "{year}");
        assert_eq!(i32::from(max_founded_year()), year + 1);
    }
}
