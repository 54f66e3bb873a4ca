//! Import contracts (issue 3): JSON Lines and CSV (UTF-8, BOM, Shift_JIS),
//! the documented CSV column mapping, per-row validation with line, field and
//! reason, and upsert semantics.
//!
//! Run: `cargo test -p matcher-core --test import`

mod common;

use std::collections::BTreeSet;

use matcher_core::import::{self, Encoding, Format, Parsed, RowError};
use matcher_core::model::{Company, Equipment, GeoPoint, Need, NeedKind, Visibility};
use matcher_core::{Role, SearchRequest};
use serde_json::{json, Value};

use common::{ctx, fixture_company_lines, memory_engine};

fn parse_companies(bytes: &[u8], format: Format, enc: Encoding) -> Parsed<Company> {
    import::parse(bytes, format, enc, &ctx().taxonomy)
}

fn jsonl(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// A fixture line as a JSON object.
fn fixture_value(i: usize) -> Value {
    let lines = fixture_company_lines();
    serde_json::from_str(&lines[i % lines.len()]).expect("fixture line is JSON")
}

fn set(v: &mut Value, key: &str, x: Value) {
    v.as_object_mut().expect("object").insert(key.to_owned(), x);
}

/// The one rejection of a parse, asserting there is exactly one.
fn only_rejection<T>(p: &Parsed<T>) -> &RowError {
    assert_eq!(p.rejected.len(), 1, "rejections: {:#?}", p.rejected);
    &p.rejected[0]
}

/// A good line, the bad line (line 2), a good line: the bad one is rejected
/// with `field`, the good ones are kept.
fn assert_middle_line_rejected(bad: Value, field: &str, reason_has: &[&str]) -> RowError {
    let mut a = fixture_value(0);
    set(&mut a, "id", json!("good-a"));
    let mut b = fixture_value(1);
    set(&mut b, "id", json!("good-b"));
    let text = format!("{a}\n{bad}\n{b}\n");
    let p = parse_companies(text.as_bytes(), Format::JsonLines, Encoding::Auto);
    let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["good-a", "good-b"], "the good rows are kept");
    let e = only_rejection(&p).clone();
    assert_eq!(e.line, 2, "{e}");
    assert_eq!(e.field, field, "{e}");
    for h in reason_has {
        assert!(
            e.reason.contains(h),
            "reason {:?} should mention {h:?}",
            e.reason
        );
    }
    e
}

// ---------------------------------------------------------------------------
// Per-row validation at scale

/// 10,000 rows built from the fixtures with ids rewritten; ten bad rows
/// spread inside. Exactly those lines are rejected, each with the right
/// field; every other row is kept; the counts add up.
#[test]
fn ten_thousand_rows_with_ten_bad_ones() {
    const N: usize = 10_000;
    // (1-based line, defect, expected field)
    type Defect = fn(&mut Value);
    let defects: Vec<(usize, Defect, &str)> = vec![
        (
            1,
            |v| set(v, "municipality_code", json!("131114")),
            "municipality_code",
        ),
        (777, |v| set(v, "employees", json!("many")), "employees"),
        (
            1500,
            |v| set(v, "industry_codes", json!(["24", "00"])),
            "industry_codes[1]",
        ),
        (2222, |v| set(v, "name", json!("   ")), "name"),
        (
            3333,
            |v| set(v, "updated_at", json!("2024-02-30")),
            "updated_at",
        ),
        (
            4999,
            |v| set(v, "location", json!({"lat": 135.0, "lon": 139.7})),
            "location",
        ),
        (
            5000,
            |v| set(v, "certifications", json!(["ISO 9001", ""])),
            "certifications[1]",
        ),
        (
            6543,
            |v| {
                set(
                    v,
                    "equipment",
                    json!([{"name": "NC旋盤"}, {"name": " ", "maker": "オークマ"}]),
                )
            },
            "equipment[1].name",
        ),
        (8888, |v| set(v, "capital_jpy", json!(-5)), "capital_jpy"),
        (N, |v| set(v, "id", json!("bad id with spaces")), "id"),
    ];
    let mut lines = Vec::with_capacity(N);
    for i in 0..N {
        let mut v = fixture_value(i);
        set(&mut v, "id", json!(format!("bulk-{:05}", i + 1)));
        if let Some((_, defect, _)) = defects.iter().find(|d| d.0 == i + 1) {
            defect(&mut v);
        }
        lines.push(v.to_string());
    }
    let p = parse_companies(&jsonl(&lines), Format::JsonLines, Encoding::Auto);
    assert_eq!(p.encoding, "utf-8");
    let got: Vec<(usize, &str)> = p
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    let want: Vec<(usize, &str)> = defects.iter().map(|d| (d.0, d.2)).collect();
    assert_eq!(got, want, "rejections: {:#?}", p.rejected);
    for e in &p.rejected {
        assert!(!e.reason.trim().is_empty(), "{e}: a reason is given");
        if e.field != "id" {
            // the row's id is reported so the user can find it
            assert_eq!(
                e.id.as_deref(),
                Some(format!("bulk-{:05}", e.line).as_str())
            );
        }
    }
    assert!(
        p.rejected[0].reason.contains("131113"),
        "a wrong check digit suggests the right code: {}",
        p.rejected[0].reason
    );
    assert_eq!(p.records.len() + p.rejected.len(), N, "counts add up");
    let kept: BTreeSet<String> = p.records.iter().map(|c| c.id.to_string()).collect();
    let bad: BTreeSet<usize> = defects.iter().map(|d| d.0).collect();
    let want_kept: BTreeSet<String> = (1..=N)
        .filter(|l| !bad.contains(l))
        .map(|l| format!("bulk-{l:05}"))
        .collect();
    assert_eq!(kept, want_kept);
}

// ---------------------------------------------------------------------------
// Bad inputs, one at a time

#[test]
fn malformed_json_line_is_rejected_as_row() {
    let mut a = fixture_value(0);
    set(&mut a, "id", json!("good-a"));
    let text = format!("{a}\n{{\"id\":\"broken\",\"name\":\n{a}\n");
    let p = parse_companies(text.as_bytes(), Format::JsonLines, Encoding::Auto);
    let e = only_rejection(&p);
    assert_eq!((e.line, e.field.as_str()), (2, "row"));
    assert!(e.reason.contains("JSON"), "{e}");
    // line 3 repeats good-a: an upsert, not a duplicate
    assert_eq!(p.records.len(), 1);
}

#[test]
fn non_object_json_line_is_rejected() {
    assert_middle_line_rejected(json!([1, 2, 3]), "row", &["object"]);
}

#[test]
fn wrong_type_names_the_field() {
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("wrong-type"));
    set(&mut v, "employees", json!("many"));
    let e = assert_middle_line_rejected(v, "employees", &[]);
    assert_eq!(e.id.as_deref(), Some("wrong-type"));
}

#[test]
fn wrong_check_digit_suggests_the_right_code() {
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("check-digit"));
    // 西東京市 is 13229 → 132292
    set(&mut v, "municipality_code", json!("132293"));
    assert_middle_line_rejected(v, "municipality_code", &["132292"]);
}

#[test]
fn unknown_jsic_division_is_rejected() {
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("jsic-00"));
    set(&mut v, "industry_codes", json!(["00"]));
    assert_middle_line_rejected(v, "industry_codes[0]", &["00"]);
}

#[test]
fn empty_name_is_rejected() {
    for name in ["", "   ", "\u{3000}"] {
        let mut v = fixture_value(5);
        set(&mut v, "id", json!("no-name"));
        set(&mut v, "name", json!(name));
        assert_middle_line_rejected(v, "name", &["empty"]);
    }
}

#[test]
fn ten_megabyte_text_field_is_rejected() {
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("huge"));
    set(
        &mut v,
        "capabilities",
        json!("切削".repeat(10 * 1024 * 1024 / 6)),
    );
    assert_middle_line_rejected(v, "capabilities", &["bytes"]);
}

#[test]
fn misspelt_field_is_rejected_not_dropped() {
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("typo"));
    let caps = v["capabilities"].clone();
    v.as_object_mut().unwrap().remove("capabilities");
    set(&mut v, "capabilites", caps);
    let mut a = fixture_value(0);
    set(&mut a, "id", json!("good-a"));
    let text = format!("{a}\n{v}\n");
    let p = parse_companies(text.as_bytes(), Format::JsonLines, Encoding::Auto);
    assert_eq!(p.records.len(), 1);
    let e = only_rejection(&p);
    assert_eq!(e.line, 2);
    assert!(
        e.field.contains("capabilites") || e.reason.contains("capabilites"),
        "the misspelt name is reported: {e}"
    );

    // also an unknown field next to a complete record
    let mut w = fixture_value(5);
    set(&mut w, "id", json!("extra"));
    set(&mut w, "employes", json!(12));
    let text = format!("{w}\n");
    let p = parse_companies(text.as_bytes(), Format::JsonLines, Encoding::Auto);
    assert!(
        p.records.is_empty(),
        "a record with an unknown field is not accepted"
    );
    assert!(only_rejection(&p).to_string().contains("employes"));

    // and inside a nested object
    let mut w = fixture_value(5);
    set(&mut w, "id", json!("nested-extra"));
    set(
        &mut w,
        "equipment",
        json!([{"name": "NC旋盤", "maker_name": "オークマ"}]),
    );
    let text = format!("{w}\n");
    let p = parse_companies(text.as_bytes(), Format::JsonLines, Encoding::Auto);
    let e = only_rejection(&p);
    assert!(e.field.starts_with("equipment"), "{e}");
    assert!(e.to_string().contains("maker_name"), "{e}");
}

#[test]
fn invalid_utf8_in_one_line_rejects_only_that_line() {
    let lines = fixture_company_lines();
    let n = 40;
    let mut bytes = Vec::new();
    for (i, l) in lines.iter().take(n).enumerate() {
        if i == 17 {
            // a Shift_JIS/latin-1 byte pasted into the middle of a UTF-8 line
            let cut = l.find("capabilities").unwrap() + 20;
            let cut = (0..=cut).rev().find(|&c| l.is_char_boundary(c)).unwrap();
            bytes.extend_from_slice(l[..cut].as_bytes());
            bytes.extend_from_slice(&[0xFF, 0x83, 0x41]);
            bytes.extend_from_slice(l[cut..].as_bytes());
        } else {
            bytes.extend_from_slice(l.as_bytes());
        }
        bytes.push(b'\n');
    }
    let p = parse_companies(&bytes, Format::JsonLines, Encoding::Auto);
    assert_eq!(p.encoding, "utf-8");
    let e = only_rejection(&p);
    assert_eq!((e.line, e.field.as_str()), (18, "row"), "{e}");
    assert!(e.reason.contains("UTF-8"), "{e}");
    assert_eq!(p.records.len(), n - 1);
    // the kept records are the untouched ones, text intact
    let want: Company = serde_json::from_str(&lines[18]).unwrap();
    let got = p.records.iter().find(|c| c.id == want.id).unwrap();
    assert_eq!(got.capabilities, want.capabilities);
}

#[test]
fn bom_is_accepted_at_the_start() {
    let lines = fixture_company_lines();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(jsonl(&lines[..3]));
    assert_eq!(Format::detect(None, &bytes), Format::JsonLines);
    let p = parse_companies(&bytes, Format::JsonLines, Encoding::Auto);
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.records.len(), 3);
    let p8 = parse_companies(&bytes, Format::JsonLines, Encoding::Utf8);
    assert_eq!(p8.records, p.records);

    let csv = "\u{FEFF}id,name,municipality_code,industry_codes,capabilities\n\
               c1,株式会社ボム,131113,24,旋盤加工\n";
    let p = parse_companies(csv.as_bytes(), Format::Csv, Encoding::Auto);
    assert!(
        p.rejected.is_empty(),
        "the BOM is not part of the first header: {:?}",
        p.rejected
    );
    assert_eq!(p.records[0].id.as_str(), "c1");
}

#[test]
fn bom_in_the_middle_is_not_lost_silently() {
    // two exports concatenated: the second one's BOM starts line 3
    let lines = fixture_company_lines();
    let mut bytes = jsonl(&lines[..2]);
    bytes.extend_from_slice(b"\xEF\xBB\xBF");
    bytes.extend(jsonl(&lines[2..4]));
    let p = parse_companies(&bytes, Format::JsonLines, Encoding::Auto);
    let id3: Company = serde_json::from_str(&lines[2]).unwrap();
    let kept = p.records.iter().any(|c| c.id == id3.id);
    let rejected = p.rejected.iter().any(|e| e.line == 3);
    assert!(
        kept ^ rejected,
        "line 3 is either kept or rejected with its line: {p:?}"
    );
    assert_eq!(p.records.len() + p.rejected.len(), 4);
}

#[test]
fn format_detection() {
    assert_eq!(Format::detect(Some("x.CSV"), b"{"), Format::Csv);
    assert_eq!(
        Format::detect(Some("x.jsonl"), b"id,name"),
        Format::JsonLines
    );
    assert_eq!(Format::detect(None, b"  \n{\"id\":1}"), Format::JsonLines);
    assert_eq!(
        Format::detect(None, "企業ID,企業名".as_bytes()),
        Format::Csv
    );
}

// ---------------------------------------------------------------------------
// CSV

const CSV_EN: &str = "id,name,name_kana,municipality_code,address,lat,lon,industry_codes,capabilities,products,equipment,certifications,employees,capital_jpy,founded_year,visibility,updated_at\n\
c-001,株式会社六郷精密,ロクゴウセイミツ,131113,東京都大田区西六郷1丁目,35.5443,139.7062,24|2651,\"５軸マシニングセンタで航空機部品を加工。\n試作1個から対応します。\",\"治具, ブラケット\",NC旋盤;オークマ;LB3000 EX II;3|三次元測定機;ミツトヨ|複合加工機;;;2,ＩＳＯ９００１|ISO 14001:2015,45,\"10,000,000\",1969,restricted,2025-01-31\n\
c-002,有限会社多摩化成,,132012,,,,18,射出成形,,,,,,,,\n";

fn expected_c001() -> Company {
    Company {
        id: "c-001".parse().unwrap(),
        name: "株式会社六郷精密".into(),
        name_kana: Some("ロクゴウセイミツ".into()),
        municipality_code: "131113".parse().unwrap(),
        address: Some("東京都大田区西六郷1丁目".into()),
        location: Some(GeoPoint {
            lat: 35.5443,
            lon: 139.7062,
        }),
        industry_codes: vec!["24".parse().unwrap(), "2651".parse().unwrap()],
        capabilities: "５軸マシニングセンタで航空機部品を加工。\n試作1個から対応します。".into(),
        products: Some("治具, ブラケット".into()),
        equipment: vec![
            Equipment {
                name: "NC旋盤".into(),
                maker: Some("オークマ".into()),
                model: Some("LB3000 EX II".into()),
                count: Some(3),
                spec: None,
            },
            Equipment {
                name: "三次元測定機".into(),
                maker: Some("ミツトヨ".into()),
                model: None,
                count: None,
                spec: None,
            },
            Equipment {
                name: "複合加工機".into(),
                maker: None,
                model: None,
                count: Some(2),
                spec: None,
            },
        ],
        certifications: vec!["ISO14001".into(), "ISO9001".into()],
        employees: Some(45),
        capital_jpy: Some(10_000_000),
        founded_year: Some(1969),
        visibility: Visibility::Restricted,
        updated_at: Some("2025-01-31".parse().unwrap()),
    }
}

#[test]
fn csv_english_headers_map_every_column() {
    let p = parse_companies(CSV_EN.as_bytes(), Format::Csv, Encoding::Auto);
    assert!(p.rejected.is_empty(), "{:#?}", p.rejected);
    assert_eq!(p.encoding, "utf-8");
    assert_eq!(p.records.len(), 2);
    assert_eq!(p.records[0], expected_c001());
    let c2 = &p.records[1];
    assert_eq!(c2.id.as_str(), "c-002");
    assert_eq!(c2.municipality_code.to_string(), "132012");
    assert_eq!(c2.name_kana, None, "an empty cell is an absent value");
    assert_eq!(c2.location, None);
    assert!(c2.equipment.is_empty() && c2.certifications.is_empty());
    assert_eq!(c2.visibility, Visibility::Public);
}

/// The same data with the Japanese headers, as a municipal Excel export
/// (CRLF, Shift_JIS), auto-detected and declared.
#[test]
fn csv_japanese_headers_in_shift_jis() {
    let ja_header = "企業ID,企業名,フリガナ,市区町村コード,所在地,緯度,経度,業種コード,技術・強み,製品,保有設備,認証,従業員数,資本金,創業年,公開区分,更新日";
    let body = CSV_EN.split_once('\n').unwrap().1;
    let text = format!("{ja_header}\n{body}").replace('\n', "\r\n");
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable, "the test text is encodable in Shift_JIS");
    assert!(
        std::str::from_utf8(&sjis).is_err(),
        "the bytes are not UTF-8"
    );

    let utf8 = parse_companies(text.as_bytes(), Format::Csv, Encoding::Auto);
    assert!(utf8.rejected.is_empty(), "{:#?}", utf8.rejected);
    assert_eq!(utf8.records.len(), 2);

    for enc in [Encoding::Auto, Encoding::ShiftJis] {
        let p = parse_companies(&sjis, Format::Csv, enc);
        assert_eq!(p.encoding, "shift_jis", "{enc:?}");
        assert!(p.rejected.is_empty(), "{enc:?}: {:#?}", p.rejected);
        assert_eq!(p.records, utf8.records, "{enc:?}");
    }
    let mut want = expected_c001();
    // CRLF inside the quoted field stays as written
    want.capabilities = want.capabilities.replace('\n', "\r\n");
    assert_eq!(utf8.records[0], want);

    // Declared UTF-8 but really Shift_JIS: nothing is accepted as mojibake.
    let p = parse_companies(&sjis, Format::Csv, Encoding::Utf8);
    assert!(p.records.is_empty(), "{:?}", p.records);
    assert!(!p.rejected.is_empty());
}

/// One undecodable byte in one row of a Shift_JIS export: that row is
/// rejected with its line, the others are kept intact (not replaced by
/// U+FFFD silently, and not all rejected as "invalid UTF-8").
#[test]
fn shift_jis_with_one_bad_byte_rejects_only_that_row() {
    let mut bytes = Vec::new();
    let header = "企業ID,企業名,市区町村コード,業種コード,技術・強み\r\n";
    bytes.extend(encoding_rs::SHIFT_JIS.encode(header).0.iter());
    for i in 1..=5 {
        let row = format!("s{i},株式会社試験{i},131113,24,精密板金と溶接{i}\r\n");
        let (enc, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&row);
        assert!(!unmappable);
        let mut enc = enc.into_owned();
        if i == 3 {
            // 0xFF is never valid in Shift_JIS; put it inside the last field
            let at = enc.len() - 4;
            enc.insert(at, 0xFF);
        }
        bytes.extend(enc);
    }
    for enc in [Encoding::Auto, Encoding::ShiftJis] {
        let p = parse_companies(&bytes, Format::Csv, enc);
        assert_eq!(p.encoding, "shift_jis", "{enc:?}");
        let e = only_rejection(&p);
        assert_eq!(e.line, 4, "{enc:?}: {e}");
        let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["s1", "s2", "s4", "s5"], "{enc:?}");
        for c in &p.records {
            assert!(!c.capabilities.contains('\u{FFFD}') && !c.name.contains('\u{FFFD}'));
            assert!(
                c.capabilities.starts_with("精密板金と溶接"),
                "{}",
                c.capabilities
            );
        }
    }
}

#[test]
fn csv_missing_required_column_is_a_header_error() {
    let csv = "id,name,municipality_code,industry_codes\nc1,株式会社A,131113,24\n";
    let p = parse_companies(csv.as_bytes(), Format::Csv, Encoding::Auto);
    assert!(p.records.is_empty());
    let e = only_rejection(&p);
    assert_eq!((e.line, e.field.as_str()), (1, "header"));
    assert!(e.reason.contains("capabilities"), "{e}");
}

#[test]
fn csv_misspelt_column_is_rejected_not_dropped() {
    let csv = "id,name,municipality_code,industry_codes,capabilities,capabilites\n\
               c1,株式会社A,131113,24,旋盤,フライス\n";
    let p = parse_companies(csv.as_bytes(), Format::Csv, Encoding::Auto);
    assert!(p.records.is_empty());
    let e = only_rejection(&p);
    assert_eq!(e.field, "header");
    assert!(e.reason.contains("capabilites"), "{e}");
}

#[test]
fn csv_bad_rows_report_their_physical_line() {
    let csv = "id,name,municipality_code,industry_codes,capabilities,employees,equipment\n\
               c1,株式会社A,131113,24,\"旋盤加工\n複数行の説明\n三行目\",10,\n\
               c2,株式会社B,131113,24,溶接,many,\n\
               c3,株式会社C,131113,24,研削,5,NC旋盤;オークマ;LB;3台\n\
               c4,株式会社D,131113,24\n\
               c5,株式会社E,131114,24,切削,,\n\
               c6,株式会社F,131113,24,板金,7,レーザー加工機;アマダ\n";
    let p = parse_companies(csv.as_bytes(), Format::Csv, Encoding::Auto);
    let got: Vec<(usize, &str, Option<&str>)> = p
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_str(), e.id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (5, "employees", Some("c2")),
            (6, "equipment[0].count", Some("c3")),
            (7, "row", Some("c4")),
            (8, "municipality_code", Some("c5")),
        ],
        "{:#?}",
        p.rejected
    );
    let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c6"]);
    assert_eq!(p.records[0].capabilities, "旋盤加工\n複数行の説明\n三行目");
    assert_eq!(p.records[1].equipment[0].maker.as_deref(), Some("アマダ"));
}

#[test]
fn csv_needs_with_nested_region() {
    let csv = "ニーズID,企業ID,種別,件名,内容,業種コード,設備,必要認証,市区町村コード,都道府県コード,最大距離km,状態\n\
               n-1,tk-001,subcontracting,シャフト加工,SUS304のシャフトを月100本,24,NC旋盤|研削盤,ＩＳＯ９００１,131113|132292,13,30,open\n\
               n-2,,joint_development,共同開発,センサ筐体の共同開発,,,,,,,closed\n\
               n-3,,procurement,調達,材料調達,,,,,,-5,\n";
    let p: Parsed<Need> =
        import::parse(csv.as_bytes(), Format::Csv, Encoding::Auto, &ctx().taxonomy);
    assert_eq!(p.records.len(), 2, "{:#?}", p.rejected);
    let n = &p.records[0];
    assert_eq!(n.kind, NeedKind::Subcontracting);
    assert_eq!(n.company_id.as_ref().map(|c| c.as_str()), Some("tk-001"));
    assert_eq!(n.equipment, ["NC旋盤", "研削盤"]);
    assert_eq!(n.certifications_required, ["ISO9001"]);
    let r = n.region.as_ref().expect("region");
    let codes: Vec<String> = r.municipality_codes.iter().map(|m| m.to_string()).collect();
    assert_eq!(codes, ["131113", "132292"]);
    assert_eq!(r.prefecture_codes, ["13"]);
    assert_eq!(r.max_distance_km, Some(30.0));
    assert_eq!(p.records[1].region, None);
    let e = only_rejection(&p);
    assert_eq!((e.line, e.field.as_str()), (4, "region.max_distance_km"));
}

// ---------------------------------------------------------------------------
// Certifications and upserts

#[test]
fn certification_variants_fold_to_the_canonical_name() {
    let mut v = fixture_value(3);
    set(&mut v, "id", json!("certs"));
    set(
        &mut v,
        "certifications",
        json!([
            "ＩＳＯ９００１",
            "ISO 9001:2015",
            "iso-9001",
            "ISO 14001:2015",
            "ＪＩＳ Ｑ ９１００"
        ]),
    );
    let p = parse_companies(
        format!("{v}\n").as_bytes(),
        Format::JsonLines,
        Encoding::Auto,
    );
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(
        p.records[0].certifications,
        ["ISO14001", "ISO9001", "JISQ9100"]
    );
}

#[test]
fn same_id_twice_in_a_file_keeps_the_later_row() {
    let mut a = fixture_value(0);
    set(&mut a, "id", json!("dup"));
    set(&mut a, "capabilities", json!("古い説明"));
    let mut b = fixture_value(7);
    set(&mut b, "id", json!("other"));
    let mut c = fixture_value(0);
    set(&mut c, "id", json!("dup"));
    set(&mut c, "capabilities", json!("新しい説明"));
    let p = parse_companies(
        format!("{a}\n{b}\n{c}\n").as_bytes(),
        Format::JsonLines,
        Encoding::Auto,
    );
    assert!(p.rejected.is_empty());
    let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["dup", "other"]);
    assert_eq!(p.records[0].capabilities, "新しい説明");
}

#[test]
fn reimport_across_engine_upserts_updates_not_duplicates() {
    let lines = fixture_company_lines();
    let first: Vec<String> = lines[..30].to_vec();
    let p1 = parse_companies(&jsonl(&first), Format::JsonLines, Encoding::Auto);
    assert_eq!(p1.records.len(), 30);
    let engine = memory_engine(Vec::new());
    let s1 = engine.upsert_companies(p1.records.clone()).unwrap();
    assert_eq!((s1.created, s1.updated), (30, 0));

    // the same ids again, ten of them rewritten with a marker word
    let second: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if i % 3 == 0 {
                set(
                    &mut v,
                    "capabilities",
                    json!("ガラス繊維強化ポリカーボネートの超精密射出成形を行います。"),
                );
            }
            v.to_string()
        })
        .collect();
    let p2 = parse_companies(&jsonl(&second), Format::JsonLines, Encoding::Auto);
    let s2 = engine.upsert_companies(p2.records).unwrap();
    assert_eq!((s2.created, s2.updated), (0, 30));
    assert_eq!(engine.counts().0, 30);
    assert_eq!(engine.company_ids(Role::Coordinator).len(), 30);

    let r = engine
        .search(
            &SearchRequest {
                query: "\"ガラス繊維強化ポリカーボネート\"".into(),
                limit: 100,
                ..Default::default()
            },
            Role::Coordinator,
        )
        .unwrap();
    assert_eq!(
        r.total,
        10,
        "{:?}",
        r.hits.iter().map(|h| &h.id).collect::<Vec<_>>()
    );
    let ids: BTreeSet<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids.len(), 10, "each updated company appears once");
    // the replaced text is gone from the stored record
    for (i, c) in p1.records.iter().enumerate() {
        let stored = engine
            .company(c.id.as_str(), Role::Coordinator)
            .unwrap()
            .unwrap();
        if i % 3 == 0 {
            assert!(stored.capabilities.starts_with("ガラス繊維"));
        } else {
            assert_eq!(stored, *c);
        }
    }
}

// ---------------------------------------------------------------------------
// CSV line numbers with CRLF and LF, UTF-8 and Shift_JIS (issue 12, defect 7)

/// The rows of [`LINES_CSV`] joined with `eol`, also inside the quoted
/// fields (an Excel export writes CRLF there too).
const LINES_CSV: &[&str] = &[
    "id,name,municipality_code,industry_codes,capabilities,employees,equipment",
    "c0,株式会社Z,131113,24,切削,many,",
    "c1,株式会社A,131113,24,\"旋盤加工",
    "複数行の説明",
    "三行目\",10,",
    "c2,株式会社B,131113,24,溶接,many,",
    "",
    "c3,株式会社C,131113,24,研削,5,NC旋盤;オークマ;LB;3台",
    "c4,株式会社D,131113,24,\"二行の",
    "説明\",abc,",
    "c5,株式会社E,131114,24,切削,,",
    "c6,株式会社F,131113,24,板金,7,レーザー加工機;アマダ",
];

fn lines_csv(eol: &str) -> String {
    let mut s = LINES_CSV.join(eol);
    s.push_str(eol);
    s
}

/// Each rejected row reports the physical line where it starts: the first
/// data row is line 2, a row after a three-line quoted field and a blank line
/// keeps its own line, and so does a row that itself spans two lines.
fn assert_physical_lines(bytes: &[u8], enc: Encoding, eol: &str, encoding_name: &str) {
    let p = parse_companies(bytes, Format::Csv, enc);
    assert_eq!(p.encoding, encoding_name);
    let got: Vec<(usize, &str, Option<&str>)> = p
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_str(), e.id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "employees", Some("c0")),
            (6, "employees", Some("c2")),
            (8, "equipment[0].count", Some("c3")),
            (9, "employees", Some("c4")),
            (11, "municipality_code", Some("c5")),
        ],
        "{enc:?} {eol:?}: {:#?}",
        p.rejected
    );
    let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c6"], "the good rows are kept");
    assert_eq!(
        p.records[0].capabilities,
        ["旋盤加工", "複数行の説明", "三行目"].join(eol),
        "the embedded line breaks stay as written"
    );
}

fn shift_jis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "the test text is encodable in Shift_JIS");
    bytes.into_owned()
}

#[test]
fn csv_line_numbers_lf_utf8() {
    assert_physical_lines(lines_csv("\n").as_bytes(), Encoding::Auto, "\n", "utf-8");
}

#[test]
fn csv_line_numbers_crlf_utf8() {
    let text = lines_csv("\r\n");
    for enc in [Encoding::Auto, Encoding::Utf8] {
        assert_physical_lines(text.as_bytes(), enc, "\r\n", "utf-8");
    }
    // with a BOM, as Excel's "CSV UTF-8" writes it
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    assert_physical_lines(&bom, Encoding::Auto, "\r\n", "utf-8");
}

#[test]
fn csv_line_numbers_lf_shift_jis() {
    let bytes = shift_jis(&lines_csv("\n"));
    for enc in [Encoding::Auto, Encoding::ShiftJis] {
        assert_physical_lines(&bytes, enc, "\n", "shift_jis");
    }
}

#[test]
fn csv_line_numbers_crlf_shift_jis() {
    let bytes = shift_jis(&lines_csv("\r\n"));
    for enc in [Encoding::Auto, Encoding::ShiftJis] {
        assert_physical_lines(&bytes, enc, "\r\n", "shift_jis");
    }
}

/// A byte that does not decode (reported by the decoder) and a bad value
/// (reported by the CSV rows) agree on line numbers in a CRLF Shift_JIS file.
#[test]
fn csv_crlf_shift_jis_decode_and_value_errors_agree_on_lines() {
    let rows = [
        "id,name,municipality_code,industry_codes,capabilities,employees",
        "s1,株式会社試験1,131113,24,精密板金,5",
        "s2,株式会社試験2,131113,24,精密板金,many",
        "s3,株式会社試験3,131113,24,精密板金,7",
        "s4,株式会社試験4,131113,24,\"精密板金\r\nと溶接\",8",
        "s5,株式会社試験5,131113,24,精密板金,many",
    ];
    let mut bytes = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let mut enc = shift_jis(&format!("{row}\r\n"));
        if i == 3 {
            // 0xFF is never valid in Shift_JIS: line 4 (s3) does not decode
            let at = enc.len() - 4;
            enc.insert(at, 0xFF);
        }
        bytes.extend(enc);
    }
    let p = parse_companies(&bytes, Format::Csv, Encoding::ShiftJis);
    let got: Vec<(usize, &str)> = p
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [(3, "employees"), (4, "row"), (7, "employees")],
        "{:#?}",
        p.rejected
    );
    let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s4"]);
}

// ---------------------------------------------------------------------------
// Implausible values, blank names, missing fields (issue 12, defect 8)

/// The current year (UTC), as the validator sees it.
fn this_year() -> u16 {
    matcher_core::model::Date::today().to_string()[..4]
        .parse()
        .expect("a year")
}

/// `value` in `field` is accepted (between two good rows, nothing rejected).
fn assert_accepted(field: &str, value: Value) {
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("plausible"));
    set(&mut v, field, value.clone());
    let p = parse_companies(
        format!("{v}\n").as_bytes(),
        Format::JsonLines,
        Encoding::Auto,
    );
    assert!(p.rejected.is_empty(), "{field} = {value}: {:?}", p.rejected);
    assert_eq!(p.records.len(), 1);
}

#[test]
fn implausible_employees_are_rejected() {
    for n in [1_000_000_000u64, 500_001] {
        let mut v = fixture_value(5);
        set(&mut v, "id", json!("too-many"));
        set(&mut v, "employees", json!(n));
        let e = assert_middle_line_rejected(v, "employees", &[&n.to_string(), "0 to 500000"]);
        assert_eq!(e.id.as_deref(), Some("too-many"));
    }
    for n in [0, 1, 500_000] {
        assert_accepted("employees", json!(n));
    }
}

#[test]
fn implausible_founded_years_are_rejected() {
    let year = this_year();
    let range = format!("578 to {}", year + 1);
    for y in [0, 577, year + 2, 2999] {
        let mut v = fixture_value(5);
        set(&mut v, "id", json!("when"));
        set(&mut v, "founded_year", json!(y));
        assert_middle_line_rejected(v, "founded_year", &[&y.to_string(), &range]);
    }
    for y in [578, 1600, year, year + 1] {
        assert_accepted("founded_year", json!(y));
    }
}

#[test]
fn implausible_capital_is_rejected() {
    for c in [10_000_000_000_000_000u64, 100_000_000_000_001] {
        let mut v = fixture_value(5);
        set(&mut v, "id", json!("rich"));
        set(&mut v, "capital_jpy", json!(c));
        assert_middle_line_rejected(v, "capital_jpy", &[&c.to_string(), "0 to 100000000000000"]);
    }
    // written as a float it is not an integer number of yen
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("rich"));
    set(&mut v, "capital_jpy", json!(1e16));
    assert_middle_line_rejected(v, "capital_jpy", &[]);
    for c in [0u64, 1, 100_000_000_000_000] {
        assert_accepted("capital_jpy", json!(c));
    }
}

/// The same limits in a CSV (Excel writes thousands separators): each bad
/// row names its line, field and reason; the good rows are kept.
#[test]
fn implausible_values_in_csv_are_rejected_with_line_field_and_reason() {
    let csv = "id,name,municipality_code,industry_codes,capabilities,employees,founded_year,capital_jpy\r\n\
               g1,株式会社A,131113,24,旋盤,\"1,200\",1969,\"10,000,000\"\r\n\
               b1,株式会社B,131113,24,旋盤,\"1,000,000,000\",1969,\r\n\
               b2,株式会社C,131113,24,旋盤,12,0,\r\n\
               b3,株式会社D,131113,24,旋盤,12,2999,\r\n\
               b4,株式会社E,131113,24,旋盤,12,1980,10000000000000000\r\n\
               g2,株式会社F,131113,24,旋盤,,,\r\n";
    let p = parse_companies(csv.as_bytes(), Format::Csv, Encoding::Auto);
    let got: Vec<(usize, &str, Option<&str>)> = p
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_str(), e.id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "employees", Some("b1")),
            (4, "founded_year", Some("b2")),
            (5, "founded_year", Some("b3")),
            (6, "capital_jpy", Some("b4")),
        ],
        "{:#?}",
        p.rejected
    );
    for (e, value) in p
        .rejected
        .iter()
        .zip(["1000000000", "0", "2999", "10000000000000000"])
    {
        assert!(e.reason.contains(value), "{e}");
        assert!(e.reason.contains("plausible"), "{e}");
    }
    let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2"]);
    assert_eq!(p.records[0].employees, Some(1200));
}

#[test]
fn name_of_only_control_characters_is_rejected() {
    for name in [
        "\0",
        "\0\0\0",
        "\u{1}\u{7f}",
        " \t\r\n\0 ",
        "\u{200B}",
        "\u{FEFF}\u{3000}",
    ] {
        let mut v = fixture_value(5);
        set(&mut v, "id", json!("nul-name"));
        set(&mut v, "name", json!(name));
        assert_middle_line_rejected(v, "name", &["empty"]);
    }
    // the same check guards the other required texts
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("nul-caps"));
    set(&mut v, "capabilities", json!("\0\0"));
    assert_middle_line_rejected(v, "capabilities", &["empty"]);
    // a control character next to real text is not an empty name
    assert_accepted("name", json!("株式会社\u{0}テスト"));
}

#[test]
fn missing_required_field_names_the_field_in_json_lines() {
    for field in [
        "name",
        "capabilities",
        "municipality_code",
        "industry_codes",
    ] {
        let mut v = fixture_value(5);
        set(&mut v, "id", json!("missing"));
        v.as_object_mut().expect("object").remove(field);
        let e = assert_middle_line_rejected(v, field, &["missing", field]);
        assert_eq!(e.id.as_deref(), Some("missing"));
    }
    // nested: the field inside its object
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("missing-nested"));
    set(
        &mut v,
        "equipment",
        json!([{"name": "NC旋盤"}, {"maker": "オークマ"}]),
    );
    assert_middle_line_rejected(v, "equipment[1].name", &["missing"]);
    let mut v = fixture_value(5);
    set(&mut v, "id", json!("missing-lon"));
    set(&mut v, "location", json!({"lat": 35.6}));
    assert_middle_line_rejected(v, "location.lon", &["missing"]);
}

#[test]
fn missing_required_field_names_the_field_in_csv() {
    let csv = "id,name,municipality_code,industry_codes,capabilities,lat,lon\n\
               g1,株式会社A,131113,24,旋盤,,\n\
               m1,,131113,24,旋盤,,\n\
               m2,株式会社C,131113,24,,,\n\
               m3,株式会社D,131113,24,旋盤,35.6,\n\
               g2,株式会社E,131113,24,旋盤,35.6,139.7\n";
    for text in [csv.to_owned(), csv.replace('\n', "\r\n")] {
        let p = parse_companies(text.as_bytes(), Format::Csv, Encoding::Auto);
        let got: Vec<(usize, &str, Option<&str>)> = p
            .rejected
            .iter()
            .map(|e| (e.line, e.field.as_str(), e.id.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "name", Some("m1")),
                (4, "capabilities", Some("m2")),
                (5, "location.lon", Some("m3")),
            ],
            "{:#?}",
            p.rejected
        );
        assert!(p.rejected.iter().all(|e| e.reason.contains("missing")));
        let ids: Vec<&str> = p.records.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["g1", "g2"]);
    }
}

#[test]
fn missing_required_field_names_the_field_for_needs() {
    let good = r#"{"id":"n1","kind":"other","title":"t","text":"x"}"#;
    let bad = r#"{"id":"n2","kind":"other","text":"x"}"#;
    let text = format!("{good}\n{bad}\n");
    let p: Parsed<Need> = import::parse(
        text.as_bytes(),
        Format::JsonLines,
        Encoding::Auto,
        &ctx().taxonomy,
    );
    assert_eq!(p.records.len(), 1);
    let e = only_rejection(&p);
    assert_eq!((e.line, e.field.as_str()), (2, "title"), "{e}");
}

#[test]
fn unknown_field_is_named_as_the_field() {
    let mut w = fixture_value(5);
    set(&mut w, "id", json!("extra"));
    set(&mut w, "employes", json!(12));
    let e = assert_middle_line_rejected(w, "employes", &["unknown field"]);
    assert_eq!(e.id.as_deref(), Some("extra"));
    let mut w = fixture_value(5);
    set(&mut w, "id", json!("nested-extra"));
    set(
        &mut w,
        "equipment",
        json!([{"name": "NC旋盤"}, {"name": "NC旋盤", "maker_name": "オークマ"}]),
    );
    assert_middle_line_rejected(w, "equipment[1].maker_name", &["unknown field"]);
}
