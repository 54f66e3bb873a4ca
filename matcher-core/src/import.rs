//! Import of companies and needs from JSON Lines or CSV.
//!
//! Per-row validation: a bad row is rejected with its line number, field and
//! reason; good rows are kept; the report counts both. Nothing is lost
//! silently. Encodings: UTF-8 (a BOM is accepted) and Shift_JIS/CP932 as
//! municipal Excel exports are, detected when the file is not valid UTF-8 or
//! declared by the caller.
//!
//! CSV column mapping (header row required; English field names or the
//! Japanese headers in [`COMPANY_COLUMNS`]; lists separated by `|`; an
//! equipment item is `name;maker;model;count;spec` with trailing parts
//! optional):
//!
//! companies: id, name, name_kana, municipality_code, address, lat, lon,
//! industry_codes, capabilities, products, equipment, certifications,
//! employees, capital_jpy, founded_year, visibility, updated_at.
//!
//! needs: id, company_id, kind, title, text, industry_codes, equipment,
//! certifications_required, municipality_codes, prefecture_codes,
//! max_distance_km, status.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{validate, Company, Need};
use crate::taxonomy::Taxonomy;

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON object per line, the interchange shape of [`crate::model`].
    JsonLines,
    /// A header row, then one record per row (see the module docs for columns).
    Csv,
}

impl Format {
    /// Guess from a file name, else from the first non-blank byte (`{` is JSON).
    pub fn detect(name: Option<&str>, bytes: &[u8]) -> Format {
        let lower = name.map(str::to_ascii_lowercase).unwrap_or_default();
        if lower.ends_with(".csv") {
            return Format::Csv;
        }
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".json") {
            return Format::JsonLines;
        }
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// Declared text encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// UTF-8 unless the whole input is not UTF-8 and decodes as Shift_JIS.
    #[default]
    Auto,
    /// UTF-8 (a BOM is accepted); an undecodable row is rejected, not guessed at.
    Utf8,
    /// Shift_JIS / CP932, as municipal Excel exports are.
    ShiftJis,
}

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// 1-based line number (for CSV, the line where the record starts).
    pub line: usize,
    /// The row's id, when it got far enough to have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub id: Option<String>,
    /// Field path (`municipality_code`, `equipment[2].name`; a missing field
    /// is named itself), or `row`/`header`.
    pub field: String,
    /// What is wrong, in words the file's editor can act on.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// A warning about an accepted row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowWarning {
    /// 1-based line number of the row.
    pub line: usize,
    /// The accepted record's id.
    pub id: String,
    /// What looked doubtful (an unknown municipality, a JSIC code outside the table).
    pub message: String,
}

/// The result of parsing one input.
#[derive(Debug, Clone, Serialize)]
pub struct Parsed<T> {
    /// The rows that validated, in input order, ready to upsert.
    #[serde(skip)]
    pub records: Vec<T>,
    /// The rows that did not, each with its line, field and reason.
    pub rejected: Vec<RowError>,
    /// Accepted rows with something worth a look.
    pub warnings: Vec<RowWarning>,
    /// The encoding the input was read in (`utf-8` or `shift_jis`), which
    /// auto-detection may have chosen.
    pub encoding: &'static str,
}

/// A record type the importer knows.
pub trait Importable: DeserializeOwned + Sized {
    /// The CSV columns of this record type, in the order a template lists them.
    const COLUMNS: &'static [Column];
    /// Check the record against the tables and canonicalize it (certification
    /// names); warnings are kept with the record, an error rejects the row.
    fn validate(&mut self, tax: &Taxonomy) -> Result<Vec<String>, validate::FieldError>;
    /// The record's id, for the report.
    fn id_str(&self) -> &str;
}

impl Importable for Company {
    const COLUMNS: &'static [Column] = COMPANY_COLUMNS;
    fn validate(&mut self, tax: &Taxonomy) -> Result<Vec<String>, validate::FieldError> {
        validate::company(self, tax)
    }
    fn id_str(&self) -> &str {
        self.id.as_str()
    }
}

impl Importable for Need {
    const COLUMNS: &'static [Column] = NEED_COLUMNS;
    fn validate(&mut self, tax: &Taxonomy) -> Result<Vec<String>, validate::FieldError> {
        validate::need(self, tax)
    }
    fn id_str(&self) -> &str {
        self.id.as_str()
    }
}

/// How a CSV column becomes JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A string as it is.
    Text,
    /// A number; an empty cell is absent.
    Number,
    /// Items separated by `|`.
    List,
    /// Machines separated by `|`, each `name;maker;model;count;spec`.
    Equipment,
    /// Part of an object field: `(object, key)`, e.g. location.lat.
    Nested(&'static str, ColumnKindLeaf),
}

/// The kind of a nested column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKindLeaf {
    /// A number.
    Number,
    /// Items separated by `|`.
    List,
}

/// A CSV column: field name, Japanese header alias, kind, required.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The field name, also accepted as the header.
    pub name: &'static str,
    /// The Japanese header a municipal export uses for it.
    pub ja: &'static str,
    /// How the cell becomes JSON.
    pub kind: ColumnKind,
    /// Whether a row without it is rejected.
    pub required: bool,
}

const fn col(name: &'static str, ja: &'static str, kind: ColumnKind, required: bool) -> Column {
    Column {
        name,
        ja,
        kind,
        required,
    }
}

use ColumnKind::*;
/// The CSV columns of a company.
pub const COMPANY_COLUMNS: &[Column] = &[
    col("id", "企業ID", Text, true),
    col("name", "企業名", Text, true),
    col("name_kana", "フリガナ", Text, false),
    col("municipality_code", "市区町村コード", Text, true),
    col("address", "所在地", Text, false),
    col(
        "lat",
        "緯度",
        Nested("location", ColumnKindLeaf::Number),
        false,
    ),
    col(
        "lon",
        "経度",
        Nested("location", ColumnKindLeaf::Number),
        false,
    ),
    col("industry_codes", "業種コード", List, true),
    col("capabilities", "技術・強み", Text, true),
    col("products", "製品", Text, false),
    col("equipment", "保有設備", Equipment, false),
    col("certifications", "認証", List, false),
    col("employees", "従業員数", Number, false),
    col("capital_jpy", "資本金", Number, false),
    col("founded_year", "創業年", Number, false),
    col("visibility", "公開区分", Text, false),
    col("updated_at", "更新日", Text, false),
];

/// The CSV columns of a need.
pub const NEED_COLUMNS: &[Column] = &[
    col("id", "ニーズID", Text, true),
    col("company_id", "企業ID", Text, false),
    col("kind", "種別", Text, true),
    col("title", "件名", Text, true),
    col("text", "内容", Text, true),
    col("industry_codes", "業種コード", List, false),
    col("equipment", "設備", List, false),
    col("certifications_required", "必要認証", List, false),
    col(
        "municipality_codes",
        "市区町村コード",
        Nested("region", ColumnKindLeaf::List),
        false,
    ),
    col(
        "prefecture_codes",
        "都道府県コード",
        Nested("region", ColumnKindLeaf::List),
        false,
    ),
    col(
        "max_distance_km",
        "最大距離km",
        Nested("region", ColumnKindLeaf::Number),
        false,
    ),
    col("status", "状態", Text, false),
];

/// Parse and validate records. Later rows with the same id replace earlier ones.
pub fn parse<T: Importable>(
    bytes: &[u8],
    format: Format,
    encoding: Encoding,
    tax: &Taxonomy,
) -> Parsed<T> {
    let (text, enc, mut rejected) = decode(bytes, encoding);
    let rows: Vec<(usize, Result<Value, RowError>)> = match format {
        Format::JsonLines => json_rows(&text),
        Format::Csv => csv_rows(&text, T::COLUMNS),
    };
    let mut out = Parsed {
        records: Vec::new(),
        rejected: Vec::new(),
        warnings: Vec::new(),
        encoding: enc,
    };
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (line, row) in rows {
        let value = match row {
            Ok(v) => v,
            Err(e) => {
                out.rejected.push(e);
                continue;
            }
        };
        let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
        let reject = |field: String, reason: String| RowError {
            line,
            id: id.clone(),
            field,
            reason,
        };
        let mut record: T = match serde_path_to_error::deserialize(&value) {
            Ok(r) => r,
            Err(e) => {
                let path = e.path().to_string();
                let reason = e.into_inner().to_string();
                out.rejected
                    .push(reject(error_field(&path, &reason), reason));
                continue;
            }
        };
        match record.validate(tax) {
            Ok(warnings) => {
                for message in warnings {
                    out.warnings.push(RowWarning {
                        line,
                        id: record.id_str().to_owned(),
                        message,
                    });
                }
                match index.get(record.id_str()) {
                    Some(&i) => out.records[i] = record,
                    None => {
                        index.insert(record.id_str().to_owned(), out.records.len());
                        out.records.push(record);
                    }
                }
            }
            Err(e) => out.rejected.push(reject(e.field, e.reason)),
        }
    }
    rejected.append(&mut out.rejected);
    rejected.sort_by_key(|e| e.line);
    out.rejected = rejected;
    out
}

/// The field a deserialization error is about. serde reports a missing field
/// at its parent object (path `.` for the record itself) and names it only in
/// the message: name the field itself, as the JSON API does (`name`,
/// `equipment[1].name`, `location.lon`). An unknown field is already in the
/// path. Other errors at the top are about the whole `row`.
fn error_field(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|name| !name.is_empty());
    match (parent, named) {
        ("", Some(name)) => name.to_owned(),
        ("", None) => "row".to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (parent, None) => parent.to_owned(),
    }
}

/// Decode to text. Lines that do not decode are rejected (and blanked)
/// individually, in either encoding: a Shift_JIS row with a bad byte is not
/// silently turned into U+FFFD. Splitting on `\n` is safe in Shift_JIS (no
/// trail byte is below 0x40).
fn decode(bytes: &[u8], encoding: Encoding) -> (String, &'static str, Vec<RowError>) {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if encoding != Encoding::ShiftJis {
        if let Ok(s) = std::str::from_utf8(body) {
            return (s.to_owned(), "utf-8", Vec::new());
        }
    }
    let utf8 = || {
        decode_lines(body, "utf-8", |line| {
            std::str::from_utf8(line).map(std::borrow::Cow::Borrowed).map_err(|e| {
            format!(
                "invalid UTF-8 at byte {}; if the file is a Shift_JIS export, declare the encoding shift_jis",
                e.valid_up_to()
            )
        })
        })
    };
    let sjis = || {
        decode_lines(body, "shift_jis", |line| {
            match encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(line) {
                Some(t) => Ok(t),
                None => Err("bytes that are not Shift_JIS (CP932)".to_owned()),
            }
        })
    };
    match encoding {
        Encoding::ShiftJis => sjis(),
        Encoding::Utf8 => utf8(),
        // Not UTF-8: whichever encoding leaves fewer bad lines.
        Encoding::Auto => {
            let s = sjis();
            let u = utf8();
            if s.2.len() < u.2.len() {
                s
            } else {
                u
            }
        }
    }
}

fn decode_lines<'a>(
    body: &'a [u8],
    name: &'static str,
    line_decoder: impl Fn(&'a [u8]) -> Result<std::borrow::Cow<'a, str>, String>,
) -> (String, &'static str, Vec<RowError>) {
    let mut text = String::with_capacity(body.len());
    let mut errors = Vec::new();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            text.push('\n');
        }
        match line_decoder(line) {
            Ok(s) => text.push_str(&s),
            Err(reason) => errors.push(RowError {
                line: i + 1,
                id: None,
                field: "row".into(),
                reason,
            }),
        }
    }
    (text, name, errors)
}

fn json_rows(text: &str) -> Vec<(usize, Result<Value, RowError>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line = i + 1;
            let v = serde_json::from_str::<Value>(l).map_err(|e| RowError {
                line,
                id: None,
                field: "row".into(),
                reason: format!("malformed JSON: {e}"),
            });
            let v = v.and_then(|v| match v {
                Value::Object(_) => Ok(v),
                _ => Err(RowError {
                    line,
                    id: None,
                    field: "row".into(),
                    reason: "expected a JSON object".into(),
                }),
            });
            (line, v)
        })
        .collect()
}

fn csv_rows(text: &str, columns: &[Column]) -> Vec<(usize, Result<Value, RowError>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_err = |reason: String| {
        vec![(
            1,
            Err(RowError {
                line: 1,
                id: None,
                field: "header".into(),
                reason,
            }),
        )]
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return header_err(format!("cannot read the header row: {e}")),
    };
    let mut mapping: Vec<Option<&Column>> = Vec::new();
    for h in headers.iter() {
        let h = h.trim();
        let c = columns.iter().find(|c| c.name == h || c.ja == h);
        if c.is_none() {
            let known: Vec<&str> = columns.iter().map(|c| c.name).collect();
            return header_err(format!(
                "unknown column {h:?}; known columns: {}",
                known.join(", ")
            ));
        }
        mapping.push(c);
    }
    let missing: Vec<&str> = columns
        .iter()
        .filter(|c| c.required && !mapping.iter().any(|m| m.is_some_and(|m| m.name == c.name)))
        .map(|c| c.name)
        .collect();
    if !missing.is_empty() {
        return header_err(format!(
            "required column(s) missing: {}",
            missing.join(", ")
        ));
    }
    let mut lines = LineCounter::new(text.as_bytes());
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                rows.push((
                    line,
                    Err(RowError {
                        line,
                        id: None,
                        field: "row".into(),
                        reason: format!("malformed CSV: {e}"),
                    }),
                ));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| lines.line_at(p.byte()));
        if rec.len() != mapping.len() {
            rows.push((
                line,
                Err(RowError {
                    line,
                    id: rec.get(0).map(str::to_owned),
                    field: "row".into(),
                    reason: format!(
                        "expected {} fields as in the header, found {}",
                        mapping.len(),
                        rec.len()
                    ),
                }),
            ));
            continue;
        }
        let mut obj = Map::new();
        for (cell, column) in rec.iter().zip(&mapping) {
            let (Some(c), cell) = (column, cell.trim()) else {
                continue;
            };
            if cell.is_empty() {
                continue;
            }
            match c.kind {
                Text => {
                    obj.insert(c.name.into(), Value::String(cell.into()));
                }
                Number => {
                    obj.insert(c.name.into(), number(cell));
                }
                List => {
                    obj.insert(c.name.into(), list(cell));
                }
                Equipment => {
                    obj.insert(c.name.into(), equipment(cell));
                }
                Nested(parent, leaf) => {
                    let entry = obj
                        .entry(parent)
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = entry {
                        let v = match leaf {
                            ColumnKindLeaf::Number => number(cell),
                            ColumnKindLeaf::List => list(cell),
                        };
                        m.insert(c.name.into(), v);
                    }
                }
            }
        }
        rows.push((line, Ok(Value::Object(obj))));
    }
    rows
}

/// Physical line numbers from byte offsets into the CSV text.
///
/// The `csv` reader's own line count is taken before the previous record's
/// terminator is fully consumed: with CRLF a record ends at the `\r`, so its
/// `\n` is counted only while reading the next record, which then reports the
/// line before its own; blank lines (skipped by the reader) shift it the same
/// way. A record's byte offset, by contrast, is exact up to those skipped
/// terminator bytes: skip them and count the `\n`s before the first byte of
/// the record. Lines are counted by `\n` as in [`decode`], so a row rejected by
/// the decoder and one rejected here agree, in CRLF and LF files alike.
struct LineCounter<'a> {
    text: &'a [u8],
    /// Byte offset up to which `\n`s have been counted.
    pos: usize,
    /// 1-based line number at `pos`.
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The line of the first byte of the record that starts at `byte` (or
    /// just after the line breaks at `byte`). Offsets come in increasing
    /// order from the reader; an earlier one is counted again from the start.
    fn line_at(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.pos {
            (self.pos, self.line) = (0, 1);
        }
        self.line += self.text[self.pos..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos = start;
        self.line
    }
}

/// A number cell becomes a JSON number; otherwise it stays a string so that
/// the model's type error names the field.
fn number(cell: &str) -> Value {
    let clean: String = cell.chars().filter(|c| *c != ',').collect();
    clean
        .parse::<i64>()
        .map(Value::from)
        .or_else(|_| clean.parse::<f64>().map(Value::from))
        .unwrap_or_else(|_| Value::String(cell.into()))
}

fn list(cell: &str) -> Value {
    Value::Array(
        cell.split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.into()))
            .collect(),
    )
}

fn equipment(cell: &str) -> Value {
    let items = cell
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let mut m = Map::new();
            for (k, v) in ["name", "maker", "model", "count", "spec"]
                .iter()
                .zip(item.split(';'))
            {
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                m.insert(
                    (*k).into(),
                    if *k == "count" {
                        number(v)
                    } else {
                        Value::String(v.into())
                    },
                );
            }
            Value::Object(m)
        });
    Value::Array(items.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counter_skips_terminators_and_blank_lines() {
        for eol in ["\n", "\r\n"] {
            let text = ["h", "a", "", "", "\"b", "b\"", "c"].join(eol) + eol;
            let bytes = text.as_bytes();
            let mut lines = LineCounter::new(bytes);
            // each record as the csv reader reports it: its offset is just
            // after the previous record's last consumed byte
            let a = text.find('a').unwrap_or(0);
            let b = text.find("\"b").unwrap_or(0);
            let c = text.find('c').unwrap_or(0);
            assert_eq!(lines.line_at(0), 1, "{eol:?}");
            assert_eq!(lines.line_at((a - eol.len() + 1) as u64), 2, "{eol:?}");
            assert_eq!(lines.line_at((a + 1) as u64), 5, "{eol:?}");
            assert_eq!(lines.line_at((b + 3) as u64), 6, "{eol:?}");
            assert_eq!(lines.line_at((c - 1) as u64), 7, "{eol:?}");
            // an earlier offset is counted again
            assert_eq!(lines.line_at(a as u64), 2, "{eol:?}");
            assert_eq!(lines.line_at(u64::MAX), 8, "{eol:?}");
        }
    }

    #[test]
    fn serde_errors_name_the_missing_field() {
        assert_eq!(error_field(".", "missing field `name`"), "name");
        assert_eq!(
            error_field("equipment[1]", "missing field `name`"),
            "equipment[1].name"
        );
        assert_eq!(
            error_field(
                "capabilites",
                "unknown field `capabilites`, expected one of `id`"
            ),
            "capabilites"
        );
        assert_eq!(
            error_field("employees", "invalid type: string \"x\""),
            "employees"
        );
        assert_eq!(error_field(".", "invalid type: sequence"), "row");
    }
}
