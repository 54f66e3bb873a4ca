//! National reference data (issue #15): the municipality table covers Japan,
//! certifications fold their common spellings, and the JSIC table has the
//! shape of its revision.
//!
//! The expected numbers are facts about Japan, written here from the public
//! record (総務省's 全国地方公共団体コード and the prefectures' own counts), not
//! read back from the table: a table that lost a prefecture's villages, or
//! gained a dissolved town, fails.
//!
//! Run: `cargo test -p matcher-core --test reference_data`

mod common;

use std::collections::BTreeMap;

use matcher_core::import::{self, Encoding, Format, Parsed};
use matcher_core::model::{Company, MunicipalityCode};
use matcher_core::taxonomy::{certification_key, Taxonomy};

use common::ctx;

fn tax() -> std::sync::Arc<matcher_core::Context> {
    ctx()
}

fn taxonomy(c: &matcher_core::Context) -> &Taxonomy {
    &c.taxonomy
}

fn code(s: &str) -> MunicipalityCode {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (cities incl. designated, towns, villages, wards) per prefecture code.
fn kinds_by_prefecture(t: &Taxonomy) -> BTreeMap<u8, BTreeMap<String, usize>> {
    let mut out: BTreeMap<u8, BTreeMap<String, usize>> = BTreeMap::new();
    for m in t.municipalities() {
        *out.entry(m.code.prefecture())
            .or_default()
            .entry(m.kind.clone())
            .or_default() += 1;
    }
    out
}

fn count(kinds: &BTreeMap<String, usize>, kind: &str) -> usize {
    kinds.get(kind).copied().unwrap_or(0)
}

#[test]
fn every_prefecture_is_there_once_with_its_office() {
    let c = tax();
    let t = taxonomy(&c);
    let prefectures: Vec<_> = t
        .municipalities()
        .filter(|m| m.code.is_prefecture())
        .collect();
    assert_eq!(prefectures.len(), 47);
    for p in 1..=47u8 {
        let m = t
            .municipality(code(&format!("{p:02}000")))
            .unwrap_or_else(|| panic!("prefecture {p:02} missing"));
        assert_eq!(m.kind, "prefecture", "{}", m.name);
        assert!(
            m.name.ends_with(['都', '道', '府', '県']),
            "{p:02}: {}",
            m.name
        );
    }
    assert_eq!(
        t.municipality(code("130001")).map(|m| m.name.as_str()),
        Some("東京都")
    );
    assert_eq!(
        t.municipality(code("470007")).map(|m| m.name.as_str()),
        Some("沖縄県")
    );
}

#[test]
fn municipality_counts_per_prefecture_are_japans() {
    let c = tax();
    let kinds = kinds_by_prefecture(taxonomy(&c));
    let municipalities = |p: u8| {
        let k = &kinds[&p];
        // 市町村 + Tokyo's 特別区; the wards of designated cities are parts
        // of a city, not municipalities of their own.
        count(k, "city")
            + count(k, "town")
            + count(k, "village")
            + if p == 13 { count(k, "ward") } else { 0 }
    };
    // (prefecture, 市, 町, 村) as of 2024, the same since 2018 (那珂川市).
    for (p, name, cities, towns, villages) in [
        (1u8, "北海道", 35, 129, 15),
        (2, "青森県", 10, 22, 8),
        (3, "岩手県", 14, 15, 4),
        (7, "福島県", 13, 31, 15),
        (8, "茨城県", 32, 10, 2),
        (20, "長野県", 19, 23, 35),
        (23, "愛知県", 38, 14, 2),
        (27, "大阪府", 33, 9, 1),
        (38, "愛媛県", 11, 9, 0),
        (47, "沖縄県", 11, 11, 19),
    ] {
        let k = &kinds[&p];
        assert_eq!(
            (count(k, "city"), count(k, "town"), count(k, "village")),
            (cities, towns, villages),
            "{name} (市, 町, 村)"
        );
    }
    assert_eq!(municipalities(1), 179, "北海道");
    assert_eq!(municipalities(20), 77, "長野県");
    assert_eq!(
        municipalities(13),
        62,
        "東京都: 23 区 + 26 市 + 5 町 + 8 村"
    );
    assert_eq!(count(&kinds[&13], "ward"), 23, "東京都の特別区");
    let all: usize = (1..=47).map(municipalities).sum();
    assert_eq!(all, 1741, "全国の市区町村 (1,718 市町村 + 23 特別区)");
}

#[test]
fn designated_cities_have_their_wards() {
    let c = tax();
    let t = taxonomy(&c);
    // A designated city's wards are named after it (横浜市鶴見区) and share
    // its prefecture; Tokyo's special wards are not a city's.
    let wards_of = |city: &str| {
        let city = t
            .municipality(code(city))
            .unwrap_or_else(|| panic!("{city}"));
        t.municipalities()
            .filter(|m| {
                m.kind == "ward"
                    && m.code.prefecture() == city.code.prefecture()
                    && m.name.starts_with(&city.name)
                    && m.name.len() > city.name.len()
            })
            .count()
    };
    // 20 designated cities, 171 wards since 浜松市 went from 7 to 3 (2024-01-01).
    let designated: Vec<_> = t
        .municipalities()
        .filter(|m| m.kind == "city" && wards_of(&m.code.to_string()) > 0)
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(designated.len(), 20, "{designated:?}");
    let wards = t
        .municipalities()
        .filter(|m| m.kind == "ward" && m.code.prefecture() != 13)
        .count();
    assert_eq!(wards, 171);
    assert_eq!(wards_of("141003"), 18, "横浜市");
    assert_eq!(wards_of("011002"), 10, "札幌市");
    assert_eq!(wards_of("221309"), 3, "浜松市 (中央区, 浜名区, 天竜区)");
    for (c, name) in [
        ("141038", "横浜市西区"),
        ("221384", "浜松市中央区"),
        ("271284", "大阪市中央区"),
    ] {
        assert_eq!(
            t.municipality(code(c))
                .map(|m| (m.name.as_str(), m.kind.as_str())),
            Some((name, "ward"))
        );
    }
    // Abolished in 2024: 浜松市中区.
    assert!(t.municipality(code("221317")).is_none());
}

#[test]
fn every_code_has_a_valid_check_digit_and_reading() {
    let c = tax();
    let t = taxonomy(&c);
    // The codes as written in the file: the loaded `MunicipalityCode` prints
    // its own check digit, so only the text can show a wrong one.
    let path = matcher_core::fixtures::fixtures_dir().join("municipalities.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        n += 1;
        let written = line.split('\t').next().unwrap_or_default();
        assert_eq!(written.len(), 6, "{line}");
        let d: Vec<u32> = written
            .bytes()
            .map(|b| u32::from(b.wrapping_sub(b'0')))
            .collect();
        assert!(d.iter().all(|&x| x < 10), "{line}");
        // JIS X 0401/0402: (11 − Σ(6,5,4,3,2)·d mod 11) mod 10.
        let sum: u32 = d[..5].iter().zip([6, 5, 4, 3, 2]).map(|(a, w)| a * w).sum();
        assert_eq!(d[5], (11 - sum % 11) % 10, "{line}");
    }
    assert_eq!(n, t.municipalities().count(), "every row loaded once");
    assert!(n > 1900, "{n} rows");
    for m in t.municipalities() {
        assert!(
            !m.kana.is_empty()
                && m.kana
                    .chars()
                    .all(|c| ('ぁ'..='ゖ').contains(&c) || c == 'ー'),
            "{} {}: reading {:?} is not hiragana",
            m.code,
            m.name,
            m.kana
        );
        assert!(
            ["prefecture", "city", "town", "village", "ward"].contains(&m.kind.as_str()),
            "{}: kind {}",
            m.code,
            m.kind
        );
    }
}

#[test]
fn codes_unknown_before_are_known() {
    let c = tax();
    let t = taxonomy(&c);
    for (c, name, kana) in [
        ("192015", "甲府市", "こうふし"),
        ("202011", "長野市", "ながのし"),
        ("102024", "高崎市", "たかさきし"),
        ("082201", "つくば市", "つくばし"),
        ("013030", "当別町", "とうべつちょう"),
        ("133817", "三宅村", "みやけむら"),
        ("403440", "須恵町", "すえまち"),
    ] {
        let m = t
            .municipality(code(c))
            .unwrap_or_else(|| panic!("{c} {name} unknown"));
        assert_eq!((m.name.as_str(), m.kana.as_str()), (name, kana), "{c}");
    }
}

#[test]
fn offices_are_where_the_cities_are() {
    // Well-known offices, from a map, to a kilometre or two: the table's
    // points must be within 3 km (they are 町丁目 representative points).
    let c = tax();
    let t = taxonomy(&c);
    for (c, name, lat, lon) in [
        ("192015", "甲府市", 35.662, 138.568),
        ("202011", "長野市", 36.649, 138.195),
        ("102024", "高崎市", 36.322, 139.003),
        ("082201", "つくば市", 36.083, 140.077),
        ("011002", "札幌市", 43.062, 141.354),
        ("472018", "那覇市", 26.212, 127.681),
    ] {
        let m = t.municipality(code(c)).unwrap_or_else(|| panic!("{c}"));
        let dlat = (m.office.lat - lat) * 111.0;
        let dlon = (m.office.lon - lon) * 111.0 * lat.to_radians().cos();
        let km = (dlat * dlat + dlon * dlon).sqrt();
        assert!(km < 3.0, "{name}: office {:?} is {km:.1} km off", m.office);
    }
}

/// One company in each prefecture, in a city that is not its capital (the
/// six-prefecture table had every capital, and none of these outside 埼玉,
/// 千葉, 東京, 神奈川, 愛知 and 大阪), imported through `import::parse` as the
/// CLI (`matcher import`) and the bulk route do.
#[test]
fn a_company_in_every_prefecture_imports_without_a_municipality_warning() {
    let places = [
        ("012025", "函館市"),
        ("022039", "八戸市"),
        ("032026", "宮古市"),
        ("042021", "石巻市"),
        ("052035", "横手市"),
        ("062022", "米沢市"),
        ("072036", "郡山市"),
        ("082201", "つくば市"),
        ("092029", "足利市"),
        ("102024", "高崎市"),
        ("112011", "川越市"),
        ("122041", "船橋市"),
        ("132012", "八王子市"),
        ("141305", "川崎市"),
        ("152021", "長岡市"),
        ("162027", "高岡市"),
        ("172022", "七尾市"),
        ("182028", "敦賀市"),
        ("192023", "富士吉田市"),
        ("202029", "松本市"),
        ("212024", "大垣市"),
        ("221309", "浜松市"),
        ("232017", "豊橋市"),
        ("242021", "四日市市"),
        ("252026", "彦根市"),
        ("262013", "福知山市"),
        ("271403", "堺市"),
        ("282014", "姫路市"),
        ("292028", "大和高田市"),
        ("302023", "海南市"),
        ("312029", "米子市"),
        ("322024", "浜田市"),
        ("332020", "倉敷市"),
        ("342025", "呉市"),
        ("352012", "下関市"),
        ("362026", "鳴門市"),
        ("372021", "丸亀市"),
        ("382027", "今治市"),
        ("392022", "室戸市"),
        ("401005", "北九州市"),
        ("412023", "唐津市"),
        ("422029", "佐世保市"),
        ("432024", "八代市"),
        ("442020", "別府市"),
        ("452025", "都城市"),
        ("462039", "鹿屋市"),
        ("472051", "宜野湾市"),
    ];
    let mut csv = String::from("id,name,municipality_code,industry_codes,capabilities\n");
    for (i, (c, name)) in places.iter().enumerate() {
        csv.push_str(&format!(
            "p{:02},{name}精機株式会社,{c},2461,金属の切削加工\n",
            i + 1
        ));
    }
    let c = tax();
    let t = taxonomy(&c);
    let p: Parsed<Company> = import::parse(csv.as_bytes(), Format::Csv, Encoding::Auto, t);
    assert!(p.rejected.is_empty(), "{:#?}", p.rejected);
    assert_eq!(p.records.len(), 47);
    let prefectures: std::collections::BTreeSet<u8> = p
        .records
        .iter()
        .map(|r| r.municipality_code.prefecture())
        .collect();
    assert_eq!(prefectures.len(), 47, "one per prefecture");
    let about_municipality: Vec<_> = p
        .warnings
        .iter()
        .filter(|w| w.message.contains("municipality"))
        .collect();
    assert!(about_municipality.is_empty(), "{about_municipality:#?}");
    // And the code means the place named: the table is not just non-empty.
    for (c, name) in places {
        assert_eq!(
            t.municipality(code(c)).map(|m| m.name.as_str()),
            Some(name),
            "{c}"
        );
    }
    // A code that does not exist still warns (the check is live).
    let bad = "id,name,municipality_code,industry_codes,capabilities\nx,某社,13999,2461,切削\n";
    let p: Parsed<Company> = import::parse(bad.as_bytes(), Format::Csv, Encoding::Auto, t);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("municipality")),
        "{:?} {:?}",
        p.warnings,
        p.rejected
    );
}

#[test]
fn common_sme_certifications_have_one_canonical_name() {
    let c = tax();
    let t = taxonomy(&c);
    for (canonical, written) in [
        (
            "ISO9001",
            &[
                "ISO 9001:2015",
                "ＩＳＯ９００１",
                "品質マネジメントシステム",
                "ISO9001(2015年版)",
            ][..],
        ),
        ("ISO14001", &["ISO 14001:2015", "環境マネジメントシステム"]),
        ("ISO45001", &["ISO 45001", "OHSAS18001"]),
        ("ISO13485", &["ISO 13485:2016", "ＩＳＯ１３４８５"]),
        (
            "ISO27001",
            &[
                "ISMS",
                "ISO/IEC 27001:2022",
                "ISMS(ISO27001)",
                "ISMS（ISO/IEC 27001）",
                "ISMS(ISO/IEC 27001)",
                "ISMS認証（JIS Q 27001）",
            ],
        ),
        (
            "IATF16949",
            &["IATF 16949:2016", "ISO/TS16949", "ＩＡＴＦ１６９４９"],
        ),
        (
            "JISQ9100",
            &["JIS Q 9100", "AS9100D", "EN9100", "JIS Q 9100（AS9100）"],
        ),
        (
            "プライバシーマーク",
            &["Pマーク", "Ｐマーク", "Pマーク（プライバシーマーク）"],
        ),
        ("エコアクション21", &["エコアクション２１", "EA21"]),
        ("KES", &["KESステップ2", "ＫＥＳ"]),
        ("HACCP", &["ＨＡＣＣＰ", "ハサップ"]),
        ("FSSC22000", &["FSSC 22000", "ＦＳＳＣ２２０００"]),
        ("ISO22000", &["ISO 22000:2018"]),
        ("健康経営優良法人", &["健康経営優良法人2025", "ブライト500"]),
        ("JISマーク表示認証", &["JISマーク", "ＪＩＳマーク"]),
    ] {
        for w in written {
            assert_eq!(t.canonical_certification(w), canonical, "{w:?}");
        }
    }
}

#[test]
fn bracketed_names_of_two_certifications_stay_unknown() {
    let c = tax();
    let t = taxonomy(&c);
    // Two different certifications, or an unknown part: no guess.
    for w in ["ISO9001(ISO14001)", "ISMS(取得予定)", "北海道HACCP"] {
        assert_eq!(
            t.canonical_certification(w),
            certification_key(w).to_uppercase(),
            "{w:?}"
        );
    }
}

/// Issue #16's miss, through the path a match takes: a need that requires
/// ISMS, and a company whose profile says 「ISMS(ISO/IEC 27001)」, both
/// imported and validated, hold the same canonical certification.
#[test]
fn isms_with_its_standard_in_brackets_meets_a_need_for_isms() {
    let c = tax();
    let t = taxonomy(&c);
    let company = r#"{"id":"c1","name":"情報処理株式会社","municipality_code":"192015","industry_codes":["3911"],"capabilities":"受託開発","certifications":["ISMS(ISO/IEC 27001)","ISMS（ISO27001）"]}"#;
    let need = r#"{"id":"n1","kind":"subcontracting","title":"基幹システムの改修","text":"在庫管理システムの改修を依頼したい","certifications_required":["ISMS"]}"#;
    let pc: Parsed<Company> =
        import::parse(company.as_bytes(), Format::JsonLines, Encoding::Auto, t);
    assert!(pc.rejected.is_empty(), "{:?}", pc.rejected);
    let pn: Parsed<matcher_core::model::Need> =
        import::parse(need.as_bytes(), Format::JsonLines, Encoding::Auto, t);
    assert!(pn.rejected.is_empty(), "{:?}", pn.rejected);
    assert_eq!(pc.records[0].certifications, ["ISO27001"]);
    assert_eq!(pn.records[0].certifications_required, ["ISO27001"]);
}

#[test]
fn jsic_has_the_shape_of_the_2023_revision() {
    let c = tax();
    let t = taxonomy(&c);
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    for e in t.jsic_entries() {
        *levels.entry(format!("{:?}", e.level)).or_default() += 1;
    }
    // 大分類 A–T (20) and 中分類 01–99 (99) are the revision's; the 小分類 and
    // 細分類 counts are the table's as transcribed (see the header of jsic.tsv).
    assert_eq!(levels.get("Section"), Some(&20), "{levels:?}");
    assert_eq!(levels.get("Division"), Some(&99), "{levels:?}");
    assert_eq!(levels.get("Group"), Some(&536), "{levels:?}");
    assert_eq!(levels.get("Class"), Some(&1473), "{levels:?}");
    // Every section has a division, every division a group, every group a class.
    for e in t.jsic_entries() {
        let has_child = t
            .jsic_entries()
            .any(|x| x.parent.as_deref() == Some(e.code.as_str()));
        let leaf = format!("{:?}", e.level) == "Class";
        assert_eq!(has_child, !leaf, "{} {}", e.code, e.name);
    }
    for (code, name) in [
        ("E", "製造業"),
        ("G", "情報通信業"),
        ("3911", "受託開発ソフトウェア業"),
    ] {
        assert_eq!(t.jsic(code).map(|e| e.name.as_str()), Some(name), "{code}");
    }
}
