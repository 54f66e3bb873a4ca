//! Newtypes that hold the invariants of identifiers and codes.
//!
//! Each parses from the interchange string form and refuses anything else
//! with a reason a person can act on. Existence in the JSIC or municipality
//! tables is checked later, against [`crate::taxonomy`]; these types only
//! guarantee the shape.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_newtype {
    ($name:ident, $parse:path) => {
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.to_string()
            }
        }
        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $parse(s)
            }
        }
    };
}

/// A record id: `[A-Za-z0-9_-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
#[serde(try_from = "String", into = "String")]
pub struct RecordId(String);

impl RecordId {
    fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 64 {
            return Err(format!(
                "id must be 1 to 64 characters, got {}",
                s.chars().count()
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(format!("id may contain only A-Z a-z 0-9 _ -, found {c:?}"));
        }
        Ok(RecordId(s.to_owned()))
    }
    /// The id as written (ids are ASCII, compared byte for byte).
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The id given to an ad-hoc need posted without one.
    pub fn adhoc() -> Self {
        RecordId("adhoc".to_owned())
    }
}
impl std::borrow::Borrow<str> for RecordId {
    fn borrow(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_newtype!(RecordId, RecordId::parse);

/// The level of a JSIC code in the 日本標準産業分類 hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JsicLevel {
    /// A letter A–T (E: 製造業).
    Section,
    /// Two digits (24: 金属製品製造業).
    Division,
    /// Three digits (245).
    Group,
    /// Four digits (2451), the finest level.
    Class,
}

/// A JSIC code: a section letter `A`–`T`, or a 2-, 3- or 4-digit division,
/// group or class code.
///
/// Held inline (up to four ASCII bytes and a length), not as a `String`:
/// every company's features carry their codes and rescoring compares them
/// for every candidate, so a heap string per code was ~50 bytes of memory
/// and a pointer to follow each. The bytes after `len` are zero, so the
/// derived order is the string order ("24" < "245" < "25" < "E").
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = r"^([A-T]|[0-9]{2,4})$"))]
#[serde(try_from = "String", into = "String")]
pub struct JsicCode(Ascii4);

/// Up to four ASCII bytes, zero after `len`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Ascii4 {
    bytes: [u8; 4],
    len: u8,
}

impl JsicCode {
    fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let ok = match t.len() {
            1 => matches!(t.as_bytes()[0], b'A'..=b'T'),
            2..=4 => t.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{s:?} is not a JSIC code: expected a section letter A-T or 2 to 4 digits (division 24, group 245, class 2451)"
            ));
        }
        let mut bytes = [0u8; 4];
        for (b, c) in bytes.iter_mut().zip(t.bytes()) {
            *b = c;
        }
        Ok(JsicCode(Ascii4 {
            bytes,
            len: t.len() as u8,
        }))
    }
    /// The code as written (a letter or digits).
    pub fn as_str(&self) -> &str {
        // ASCII by construction (`parse`), so always valid UTF-8.
        let Ascii4 { bytes, len } = &self.0;
        std::str::from_utf8(bytes.get(..usize::from(*len)).unwrap_or(&[])).unwrap_or("")
    }
    /// The level, read from the code's length: a code carries its place in the hierarchy.
    pub fn level(&self) -> JsicLevel {
        match self.0.len {
            1 => JsicLevel::Section,
            2 => JsicLevel::Division,
            3 => JsicLevel::Group,
            _ => JsicLevel::Class,
        }
    }
    /// The division (2 digits) this code belongs to, if it is not a section.
    pub fn division(&self) -> Option<&str> {
        (self.0.len >= 2).then(|| self.as_str().get(..2)).flatten()
    }
}
impl fmt::Display for JsicCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for JsicCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsicCode({:?})", self.as_str())
    }
}
string_newtype!(JsicCode, JsicCode::parse);

/// A 全国地方公共団体コード. Accepts the 5-digit form or the 6-digit form
/// with its check digit (verified); always written in the 6-digit form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = r"^[0-9]{5,6}$"))]
#[serde(try_from = "String", into = "String")]
pub struct MunicipalityCode(u32);

impl MunicipalityCode {
    fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if !(t.len() == 5 || t.len() == 6) || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{s:?} is not a municipality code: expected 5 digits or 6 digits with check digit (e.g. 132292 for 西東京市)"
            ));
        }
        let d: Vec<u32> = t.bytes().map(|b| (b - b'0') as u32).collect();
        let base = d[..5].iter().fold(0, |acc, x| acc * 10 + x);
        let pref = base / 1000;
        if !(1..=47).contains(&pref) {
            return Err(format!("{s:?}: prefecture part {pref:02} is not 01-47"));
        }
        if t.len() == 6 {
            let want = check_digit(base);
            if d[5] != want {
                return Err(format!(
                    "{s:?}: wrong check digit {} (the check digit of {base:05} is {want}; did you mean {base:05}{want}?)",
                    d[5]
                ));
            }
        }
        Ok(MunicipalityCode(base))
    }
    /// The 5-digit base code.
    pub fn base(self) -> u32 {
        self.0
    }
    /// The 2-digit prefecture code (01-47).
    pub fn prefecture(self) -> u8 {
        (self.0 / 1000) as u8
    }
    /// The prefecture's own code (PP000).
    pub fn prefecture_code(self) -> MunicipalityCode {
        MunicipalityCode(self.0 / 1000 * 1000)
    }
    /// A prefecture's own code (PP000) rather than a municipality's: a company
    /// registered only to its prefecture.
    pub fn is_prefecture(self) -> bool {
        self.0 % 1000 == 0
    }
}

/// `(11 − (6·d1+5·d2+4·d3+3·d4+2·d5) mod 11) mod 10`.
pub fn check_digit(base: u32) -> u32 {
    let digits = [
        base / 10000,
        base / 1000 % 10,
        base / 100 % 10,
        base / 10 % 10,
        base % 10,
    ];
    let sum: u32 = digits.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
    (11 - sum % 11) % 10
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:05}{}", self.0, check_digit(self.0))
    }
}
string_newtype!(MunicipalityCode, MunicipalityCode::parse);

/// A calendar date `YYYY-MM-DD`, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
#[serde(try_from = "String", into = "String")]
pub struct Date(i32);

impl Date {
    fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a date: expected YYYY-MM-DD");
        let p: Vec<&str> = s.trim().split('-').collect();
        if p.len() != 3 || p[0].len() != 4 || p[1].len() != 2 || p[2].len() != 2 {
            return Err(bad());
        }
        let y: i32 = p[0].parse().map_err(|_| bad())?;
        let m: u32 = p[1].parse().map_err(|_| bad())?;
        let d: u32 = p[2].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return Err(format!("{s:?} is not a calendar date"));
        }
        Ok(Date(days_from_civil(y, m, d)))
    }
    /// The date `days` after 1970-01-01 (negative: before).
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }
    /// Days since 1970-01-01: dates compare and subtract as integers.
    pub fn days(self) -> i32 {
        self.0
    }
    /// The calendar year.
    pub fn year(self) -> i32 {
        civil_from_days(self.0).0
    }
    /// Today in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date((secs / 86_400) as i32)
    }
    /// The date `months` months earlier (day clamped to the month's length).
    pub fn minus_months(self, months: u32) -> Date {
        let (y, m, d) = civil_from_days(self.0);
        let total = y * 12 + (m as i32 - 1) - months as i32;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        Date(days_from_civil(ny, nm, d.min(days_in_month(ny, nm))))
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i32::from(m <= 2), m, d)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}
string_newtype!(Date, Date::parse);

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline code orders, prints and serializes as the string it was
    /// parsed from, so indexes, snapshots and answers are unchanged.
    #[test]
    fn jsic_codes_behave_as_their_strings() {
        let raw = ["E", "2451", "24", "245", "25", "0911", "A", "T", "39"];
        let mut codes: Vec<JsicCode> = raw.iter().map(|c| c.parse().unwrap()).collect();
        let mut strings: Vec<&str> = raw.to_vec();
        codes.sort();
        strings.sort();
        let printed: Vec<String> = codes.iter().map(ToString::to_string).collect();
        assert_eq!(printed, strings);
        let c: JsicCode = " 245 ".parse().unwrap();
        assert_eq!(
            (c.as_str(), c.level(), c.division()),
            ("245", JsicLevel::Group, Some("24"))
        );
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"245\"");
        assert_eq!(serde_json::from_str::<JsicCode>("\"245\"").unwrap(), c);
        assert!("U".parse::<JsicCode>().is_err() && "24510".parse::<JsicCode>().is_err());
        assert_eq!("E".parse::<JsicCode>().unwrap().division(), None);
    }

    #[test]
    fn municipality_check_digits() {
        assert_eq!("132292".parse::<MunicipalityCode>().unwrap().base(), 13229);
        assert_eq!(
            "131016".parse::<MunicipalityCode>().unwrap().to_string(),
            "131016"
        );
        assert_eq!(
            "13101".parse::<MunicipalityCode>().unwrap().to_string(),
            "131016"
        );
        let err = "132293".parse::<MunicipalityCode>().unwrap_err();
        assert!(err.contains("did you mean 132292"), "{err}");
        assert!("99999".parse::<MunicipalityCode>().is_err());
        assert_eq!(
            "130001".parse::<MunicipalityCode>().unwrap().prefecture(),
            13
        );
    }

    #[test]
    fn jsic_levels() {
        assert_eq!("E".parse::<JsicCode>().unwrap().level(), JsicLevel::Section);
        assert_eq!("2451".parse::<JsicCode>().unwrap().division(), Some("24"));
        assert!("Z".parse::<JsicCode>().is_err());
        assert!("24A".parse::<JsicCode>().is_err());
    }

    #[test]
    fn dates_round_trip_and_shift() {
        let d: Date = "2024-02-29".parse().unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(d.year(), 2024);
        assert_eq!("1969-12-31".parse::<Date>().unwrap().year(), 1969);
        assert_eq!("2025-01-01".parse::<Date>().unwrap().year(), 2025);
        assert_eq!(d.minus_months(24).to_string(), "2022-02-28");
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2023/01/01".parse::<Date>().is_err());
    }

    #[test]
    fn ids() {
        assert!("tk-001".parse::<RecordId>().is_ok());
        assert!("a b".parse::<RecordId>().is_err());
        assert!("".parse::<RecordId>().is_err());
    }
}
