//! Reference tables: JSIC, clusters, municipalities, certifications. Facts
//! are data files, never code; every file is validated line by line on load,
//! whether it comes bundled with the crate ([`Taxonomy::bundled`]) or from a
//! folder ([`Taxonomy::load`]).

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::analysis::normalize_key;
use crate::data_file::{DataSource, DataText};
use crate::model::{GeoPoint, JsicCode, JsicLevel, MunicipalityCode};

/// Errors of the table files.
pub type TableError = crate::data_file::DataFileError;

/// Rows of a TSV file: (line number, fields), skipping comments and blanks.
fn tsv_rows(file: &DataText) -> Vec<(usize, Vec<String>)> {
    file.text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let fields = l
                .trim_end_matches('\r')
                .split('\t')
                .map(|f| f.trim().to_owned());
            (i + 1, fields.collect())
        })
        .collect()
}

fn line_err(path: &Path, line: usize, reason: impl Into<String>) -> TableError {
    TableError::line(path, line, reason)
}

/// One JSIC entry.
#[derive(Debug, Clone, Serialize)]
pub struct JsicEntry {
    /// The code.
    pub code: JsicCode,
    /// Its level (also readable from the code).
    pub level: JsicLevel,
    /// The code one level up; none for a section.
    pub parent: Option<String>,
    /// The official Japanese name (令和5年 revision).
    pub name: String,
}

/// A named set of JSIC codes (e.g. `soft_monozukuri`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cluster {
    /// Identifier (`[a-z_]+`), as configuration and filters name it.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The codes it gathers, any level.
    pub codes: Vec<JsicCode>,
}

/// A municipality or prefecture with its office location.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Municipality {
    /// The 全国地方公共団体コード.
    pub code: MunicipalityCode,
    /// Its name (a designated city's ward with the city: 川崎市川崎区).
    pub name: String,
    /// Its reading in hiragana.
    pub kana: String,
    /// `prefecture`, `city`, `ward`, `town` or `village`.
    pub kind: String,
    /// Where its office (庁舎) is: the location of a company that gives none.
    pub office: GeoPoint,
}

/// What a JSIC code lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsicCheck {
    /// In the table.
    Known,
    /// Well-formed group/class under a known division, not in our table.
    UnlistedUnderKnownDivision,
    /// Not a code of the classification; the text says why.
    Unknown(String),
}

/// All reference tables.
#[derive(Debug, Default)]
pub struct Taxonomy {
    jsic: HashMap<String, JsicEntry>,
    /// division (2 digits) → section letter
    division_section: HashMap<String, String>,
    /// division number (0–99) → section letter byte: [`Taxonomy::section_byte`].
    section_by_division: Vec<Option<u8>>,
    clusters: HashMap<String, Cluster>,
    municipalities: HashMap<u32, Municipality>,
    /// normalized variant → canonical certification
    certifications: HashMap<String, String>,
}

impl Taxonomy {
    /// Load every table from a folder laid out like `fixtures/`
    /// (`jsic.tsv`, `jsic_clusters.tsv`, `municipalities.tsv`,
    /// `certifications.tsv`): for an operator who edits the tables.
    pub fn load(dir: &Path) -> Result<Self, TableError> {
        Taxonomy::from_source(&DataSource::Dir(dir.to_path_buf()))
    }

    /// The tables compiled into the crate: what a program that embeds
    /// matcher-core uses, with no data folder to ship or find.
    pub fn bundled() -> Result<Self, TableError> {
        Taxonomy::from_source(&DataSource::Bundled)
    }

    /// Every table from `source`, each parsed by the one parser of its file.
    pub(crate) fn from_source(source: &DataSource) -> Result<Self, TableError> {
        let mut t = Taxonomy::default();
        t.parse_jsic(&source.read("jsic.tsv")?)?;
        t.parse_clusters(&source.read("jsic_clusters.tsv")?)?;
        t.parse_municipalities(&source.read("municipalities.tsv")?)?;
        t.parse_certifications(&source.read("certifications.tsv")?)?;
        Ok(t)
    }

    fn parse_jsic(&mut self, file: &DataText) -> Result<(), TableError> {
        let path = file.path.as_path();
        for (line, f) in tsv_rows(file) {
            if f.len() != 4 {
                return Err(line_err(
                    path,
                    line,
                    format!(
                        "expected 4 columns (level, code, parent, name), found {}",
                        f.len()
                    ),
                ));
            }
            let code: JsicCode = f[1].parse().map_err(|e: String| line_err(path, line, e))?;
            let level = match f[0].as_str() {
                "section" => JsicLevel::Section,
                "division" => JsicLevel::Division,
                "group" => JsicLevel::Group,
                "class" => JsicLevel::Class,
                other => return Err(line_err(path, line, format!("unknown level {other:?}"))),
            };
            if code.level() != level {
                return Err(line_err(
                    path,
                    line,
                    format!("code {code} is not a {}", f[0]),
                ));
            }
            if f[3].is_empty() {
                return Err(line_err(path, line, "name is empty"));
            }
            let parent = (!f[2].is_empty()).then(|| f[2].clone());
            match (level, &parent) {
                (JsicLevel::Section, None) => {}
                (JsicLevel::Section, Some(_)) => {
                    return Err(line_err(path, line, "a section has no parent"))
                }
                (_, None) => return Err(line_err(path, line, "parent is empty")),
                (JsicLevel::Division, Some(p)) => {
                    if !self.jsic.contains_key(p) {
                        return Err(line_err(
                            path,
                            line,
                            format!("parent section {p} is not defined above"),
                        ));
                    }
                    self.division_section.insert(code.to_string(), p.clone());
                    if let Ok(n) = code.as_str().parse::<usize>() {
                        if self.section_by_division.len() <= n {
                            self.section_by_division.resize(n + 1, None);
                        }
                        self.section_by_division[n] = p.bytes().next();
                    }
                }
                (_, Some(p)) => {
                    if !self.jsic.contains_key(p) || !code.as_str().starts_with(p.as_str()) {
                        return Err(line_err(
                            path,
                            line,
                            format!("parent {p} is not defined above or is not a prefix of {code}"),
                        ));
                    }
                }
            }
            if self.jsic.contains_key(code.as_str()) {
                return Err(line_err(
                    path,
                    line,
                    format!("code {code} is defined twice"),
                ));
            }
            self.jsic.insert(
                code.to_string(),
                JsicEntry {
                    code,
                    level,
                    parent,
                    name: f[3].clone(),
                },
            );
        }
        Ok(())
    }

    fn parse_clusters(&mut self, file: &DataText) -> Result<(), TableError> {
        let path = file.path.as_path();
        for (line, f) in tsv_rows(file) {
            if f.len() != 3 {
                return Err(line_err(path, line, "expected 3 columns (id, name, codes)"));
            }
            if f[0].is_empty() || !f[0].bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return Err(line_err(
                    path,
                    line,
                    format!("cluster id {:?} must be [a-z_]+", f[0]),
                ));
            }
            let mut codes = Vec::new();
            for c in f[2].split('|') {
                let code: JsicCode = c.parse().map_err(|e: String| line_err(path, line, e))?;
                if let JsicCheck::Unknown(why) = self.check_jsic(&code) {
                    return Err(line_err(path, line, why));
                }
                codes.push(code);
            }
            self.clusters.insert(
                f[0].clone(),
                Cluster {
                    id: f[0].clone(),
                    name: f[1].clone(),
                    codes,
                },
            );
        }
        Ok(())
    }

    fn parse_municipalities(&mut self, file: &DataText) -> Result<(), TableError> {
        let path = file.path.as_path();
        for (line, f) in tsv_rows(file) {
            if f.len() != 6 {
                return Err(line_err(
                    path,
                    line,
                    "expected 6 columns (code, name, kana, kind, lat, lon)",
                ));
            }
            let code: MunicipalityCode =
                f[0].parse().map_err(|e: String| line_err(path, line, e))?;
            let lat: f64 = f[4]
                .parse()
                .map_err(|_| line_err(path, line, format!("lat {:?} is not a number", f[4])))?;
            let lon: f64 = f[5]
                .parse()
                .map_err(|_| line_err(path, line, format!("lon {:?} is not a number", f[5])))?;
            if !(20.0..=46.0).contains(&lat) || !(122.0..=154.0).contains(&lon) {
                return Err(line_err(
                    path,
                    line,
                    format!("({lat}, {lon}) is not in Japan"),
                ));
            }
            if self.municipalities.contains_key(&code.base()) {
                return Err(line_err(
                    path,
                    line,
                    format!("code {code} is defined twice"),
                ));
            }
            self.municipalities.insert(
                code.base(),
                Municipality {
                    code,
                    name: f[1].clone(),
                    kana: f[2].clone(),
                    kind: f[3].clone(),
                    office: GeoPoint { lat, lon },
                },
            );
        }
        Ok(())
    }

    fn parse_certifications(&mut self, file: &DataText) -> Result<(), TableError> {
        let path = file.path.as_path();
        for (line, f) in tsv_rows(file) {
            if f.len() != 2 || f[0].is_empty() {
                return Err(line_err(
                    path,
                    line,
                    "expected 2 columns (canonical, variants)",
                ));
            }
            let canonical = f[0].clone();
            for v in std::iter::once(f[0].as_str()).chain(f[1].split('|')) {
                if v.is_empty() {
                    continue;
                }
                let key = certification_key(v);
                if let Some(prev) = self.certifications.get(&key) {
                    if *prev != canonical {
                        return Err(line_err(
                            path,
                            line,
                            format!("variant {v:?} already means {prev}"),
                        ));
                    }
                }
                self.certifications.insert(key, canonical.clone());
            }
        }
        Ok(())
    }

    /// Does this code exist? Sections and divisions must; a group or class
    /// under a known division is accepted even when our table omits it.
    pub fn check_jsic(&self, code: &JsicCode) -> JsicCheck {
        if self.jsic.contains_key(code.as_str()) {
            return JsicCheck::Known;
        }
        match code.level() {
            JsicLevel::Section => JsicCheck::Unknown(format!(
                "JSIC section {code} does not exist (sections are A-T)"
            )),
            JsicLevel::Division => {
                JsicCheck::Unknown(format!("JSIC division {code} does not exist"))
            }
            _ => match code.division() {
                Some(d) if self.jsic.contains_key(d) => JsicCheck::UnlistedUnderKnownDivision,
                Some(d) => {
                    JsicCheck::Unknown(format!("JSIC code {code}: division {d} does not exist"))
                }
                None => JsicCheck::Unknown(format!("JSIC code {code} does not exist")),
            },
        }
    }

    /// The table's entry for a code, if listed.
    pub fn jsic(&self, code: &str) -> Option<&JsicEntry> {
        self.jsic.get(code)
    }

    /// The section letter of a code (itself for a section).
    pub fn section_of<'a>(&'a self, code: &'a JsicCode) -> Option<&'a str> {
        match code.level() {
            JsicLevel::Section => Some(code.as_str()),
            _ => code
                .division()
                .and_then(|d| self.division_section.get(d))
                .map(String::as_str),
        }
    }

    /// [`Taxonomy::section_of`] as the letter's byte, without hashing a
    /// string: the JSIC signal asks it for every candidate's codes.
    pub fn section_byte(&self, code: &JsicCode) -> Option<u8> {
        match code.level() {
            JsicLevel::Section => code.as_str().bytes().next(),
            _ => {
                let n: usize = code.division()?.parse().ok()?;
                self.section_by_division.get(n).copied().flatten()
            }
        }
    }

    /// Every JSIC entry, in no particular order.
    pub fn jsic_entries(&self) -> impl Iterator<Item = &JsicEntry> {
        self.jsic.values()
    }

    /// A cluster by id.
    pub fn cluster(&self, id: &str) -> Option<&Cluster> {
        self.clusters.get(id)
    }

    /// Every cluster, in no particular order.
    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters.values()
    }

    /// A municipality or prefecture by code (the check digit is not compared).
    pub fn municipality(&self, code: MunicipalityCode) -> Option<&Municipality> {
        self.municipalities.get(&code.base())
    }

    /// Every municipality and prefecture, in no particular order.
    pub fn municipalities(&self) -> impl Iterator<Item = &Municipality> {
        self.municipalities.values()
    }

    /// Office location of a municipality, else of its prefecture.
    pub fn office(&self, code: MunicipalityCode) -> Option<GeoPoint> {
        self.municipality(code)
            .or_else(|| self.municipality(code.prefecture_code()))
            .map(|m| m.office)
    }

    /// The canonical name of a written certification (ＩＳＯ９００１, ISO 9001:2015 → ISO9001).
    /// A name with a bracketed part is resolved by its parts (see
    /// `Taxonomy::bracketed_certification`). Unknown names are returned in
    /// normalized form, upper-cased, so they still compare.
    pub fn canonical_certification(&self, written: &str) -> String {
        let key = certification_key(written);
        if let Some(c) = self.certifications.get(&key) {
            return c.clone();
        }
        self.bracketed_certification(&key)
            .unwrap_or_else(|| key.to_uppercase())
    }

    /// Profiles write a scheme with its standard or edition in brackets:
    /// 「ISMS(ISO27001)」「ISMS（ISO/IEC 27001）」「Pマーク（プライバシーマーク）」
    /// 「ISO9001(2015年版)」. Listing every combination as a variant cannot keep
    /// up (issue #16 missed the first), so the parts are looked up one by one:
    /// the name is canonical when every part is a variant of the same
    /// certification or an edition (2015, 2015年版). Parts naming two different
    /// certifications (「ISO9001(ISO14001)」), or any unknown part, leave the
    /// name unknown rather than guess which one was meant.
    fn bracketed_certification(&self, key: &str) -> Option<String> {
        let parts = key
            .split(['(', ')', '[', ']', '【', '】', '「', '」', '〔', '〕'])
            .filter(|p| !p.is_empty());
        let mut found: Option<&String> = None;
        let mut count = 0;
        for part in parts {
            count += 1;
            match self.certifications.get(&certification_key(part)) {
                Some(c) if found.is_none_or(|f| f == c) => found = Some(c),
                Some(_) => return None,
                None if is_edition(part) => {}
                None => return None,
            }
        }
        if count < 2 {
            return None;
        }
        found.cloned()
    }
}

/// 2015, 2015年, 2015年版, 2015版: an edition written beside a standard.
fn is_edition(part: &str) -> bool {
    let rest = part.trim_end_matches('版').trim_end_matches('年');
    rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit())
}

/// Normalized comparison key: NFKC, lower case, no spaces/hyphens/slashes, no `:YYYY` edition.
pub fn certification_key(s: &str) -> String {
    let n = normalize_key(s);
    let n = match n.rfind(':') {
        Some(i) if n[i + 1..].len() == 4 && n[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            n[..i].to_owned()
        }
        _ => n,
    };
    n.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '/' | '_' | '・'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte lookup the JSIC signal uses agrees with the string lookup
    /// for every code of the bundled table (and for unknown divisions).
    #[test]
    fn section_byte_agrees_with_section_of() {
        let t = Taxonomy::load(&crate::fixtures::fixtures_dir()).expect("tables");
        let mut n = 0;
        for e in t.jsic_entries() {
            let want = t.section_of(&e.code).and_then(|s| s.bytes().next());
            assert_eq!(t.section_byte(&e.code), want, "{}", e.code);
            assert!(want.is_some(), "{} has a section", e.code);
            n += 1;
        }
        assert!(n > 1000, "{n} codes checked");
        let unknown: JsicCode = "9999".parse().expect("code");
        assert_eq!(
            t.section_byte(&unknown),
            t.section_of(&unknown).and_then(|s| s.bytes().next())
        );
    }

    #[test]
    fn certification_keys_fold_forms() {
        assert_eq!(certification_key("ISO 9001:2015"), "iso9001");
        assert_eq!(certification_key("ＩＳＯ９００１"), "iso9001");
        assert_eq!(certification_key("JIS Q 9100"), "jisq9100");
        assert_eq!(certification_key("ISO/IEC 27001"), "isoiec27001");
    }

    #[test]
    fn editions_are_four_digit_years() {
        for e in ["2015", "2015年", "2015年版", "2015版"] {
            assert!(is_edition(e), "{e}");
        }
        for e in ["15年版", "iso27001", "20150", "版"] {
            assert!(!is_edition(e), "{e}");
        }
    }
}
