//! Deterministic synthetic corpora (companies and needs) for benchmarks.
//!
//! Volume only: these records are plausible, not true, and must never be used
//! for the judged quality set. Every record depends only on (seed, index): the
//! index selects a ChaCha8 stream of a generator seeded from `seed`, so output
//! is identical on every platform and can be produced in parallel or streamed
//! (1M companies as JSON Lines without holding them in memory).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::model::{
    Company, Date, Equipment, GeoPoint, JsicCode, MunicipalityCode, Need, NeedKind, NeedStatus,
    RecordId, Region, Visibility,
};
use crate::taxonomy::Taxonomy;

/// One line of business and the vocabulary its profiles are written in.
struct Archetype {
    name: &'static str,
    weight: u32,
    jsic: &'static [&'static str],
    /// Company name endings (kanji, kana).
    suffixes: &'static [(&'static str, &'static str)],
    techniques: &'static [&'static str],
    /// What the materials pool is called in a sentence (材質, 言語, 原料…).
    material_label: &'static str,
    materials: &'static [&'static str],
    products: &'static [&'static str],
    markets: &'static [&'static str],
    scales: &'static [&'static str],
    /// (name, maker, model); "" for none.
    equipment: &'static [(&'static str, &'static str, &'static str)],
    /// Certifications, each as `|`-separated written forms.
    certs: &'static [&'static str],
}

const ISO9001: &str = "ISO9001|ISO 9001:2015|ＩＳＯ９００１|ISO9001認証取得|ISO 9001";
const ISO14001: &str = "ISO14001|ISO 14001:2015|ＩＳＯ１４００１|エコアクション21|EA21";
const ISMS: &str = "ISO27001|ISMS|ISO/IEC 27001:2022|プライバシーマーク|Ｐマーク";
const MECH_SCALES: &[&str] = &[
    "試作1個から",
    "1個から数百個程度",
    "小ロット多品種",
    "月産数千個の量産",
    "試作から量産まで",
];

#[rustfmt::skip]
const ARCHETYPES: &[Archetype] = &[
    Archetype { name: "切削加工", weight: 14, jsic: &["24", "26", "269", "249"],
        suffixes: &[("精機", "セイキ"), ("製作所", "セイサクショ"), ("精工", "セイコウ"), ("マシニング", "マシニング")],
        techniques: &["NC旋盤による丸物部品の加工", "5軸マシニングセンタによる複雑形状の切削", "複合加工機によるワンチャック加工", "平面研削・円筒研削による精密仕上げ", "ワイヤー放電加工による金型部品の製作", "難削材の切削加工", "治具・試作部品の単品加工", "公差±0.005mmの精密部品加工"],
        material_label: "材質", materials: &["SUS304", "SUS303", "A5052", "A7075", "S45C", "SCM435", "SS400", "C3604", "チタン（Ti-6Al-4V）", "インコネル718", "PEEK", "POM"],
        products: &["搬送装置用シャフト", "治具ピン", "真空チャンバー部品", "ロボットハンド部品", "油圧バルブブロック", "光学機器用フレーム"],
        markets: &["半導体製造装置", "医療機器", "航空機", "自動車", "食品機械", "産業用ロボット"], scales: MECH_SCALES,
        equipment: &[("NC旋盤", "オークマ", "LB3000 EX II"), ("NC旋盤", "DMG森精機", "NLX2500"), ("複合加工機", "ヤマザキマザック", "INTEGREX i-200"), ("5軸マシニングセンタ", "DMG森精機", "DMU 50"), ("立形マシニングセンタ", "ファナック", "ROBODRILL α-D21MiB5"), ("ワイヤー放電加工機", "ソディック", "ALC400G"), ("三次元測定機", "ミツトヨ", "CRYSTA-Apex S"), ("平面研削盤", "岡本工作機械製作所", "PSG-63DX")],
        certs: &[ISO9001, ISO14001, "JISQ9100|JIS Q 9100|ＪＩＳＱ９１００"] },
    Archetype { name: "板金溶接", weight: 10, jsic: &["24", "244"],
        suffixes: &[("板金", "バンキン"), ("工業", "コウギョウ"), ("製作所", "セイサクショ")],
        techniques: &["レーザー加工と曲げによる精密板金", "TIG溶接による薄板ステンレスの溶接", "ファイバーレーザー溶接", "筐体・架台の製缶板金", "タレットパンチによる穴あけ加工", "アルミ溶接と歪み取り"],
        material_label: "材質", materials: &["SPCC", "SECC", "SUS304", "SUS430", "A5052", "SS400", "銅板", "ガルバリウム鋼板"],
        products: &["制御盤筐体", "装置カバー", "架台フレーム", "ダクト", "ブラケット"],
        markets: &["工作機械", "食品機械", "医療機器", "建築金物", "鉄道車両"], scales: MECH_SCALES,
        equipment: &[("ファイバーレーザー加工機", "アマダ", "ENSIS-3015AJ"), ("ベンディングマシン", "アマダ", "HG-1303"), ("パンチ・レーザー複合機", "アマダ", "ACIES-2515T"), ("ファイバーレーザー溶接機", "アマダ", "FLW-3000ENSIS"), ("TIG溶接機", "ダイヘン", "DA300P"), ("溶接ロボット", "ファナック", "ARC Mate 100iD")],
        certs: &[ISO9001, ISO14001, "ISO3834|ISO 3834-2|溶接品質マネジメントシステム", "鉄骨製作工場認定|Mグレード認定"] },
    Archetype { name: "プレス", weight: 7, jsic: &["24", "245", "2452"],
        suffixes: &[("プレス工業", "プレスコウギョウ"), ("製作所", "セイサクショ"), ("金属", "キンゾク")],
        techniques: &["順送金型による精密プレス", "深絞り加工", "ファインブランキング", "トランスファープレスによる量産", "プレス金型の設計・製作"],
        material_label: "材質", materials: &["SPCC", "SUS304", "りん青銅", "黄銅", "A1050", "SPHC", "高張力鋼板"],
        products: &["端子", "シールドケース", "モーターコア", "ブラケット", "バッテリーケース"],
        markets: &["自動車", "家電", "電子部品", "住宅設備"], scales: &["月産10万個以上の量産", "小ロットの試作プレス", "月産数万個"],
        equipment: &[("サーボプレス", "アイダエンジニアリング", "NS1-2000"), ("プレス機", "コマツ産機", "H1F200"), ("高速精密プレス", "山田ドビー", "NXT-45"), ("画像測定機", "キーエンス", "IM-8000")],
        certs: &[ISO9001, ISO14001, "IATF16949|IATF 16949:2016|ＩＡＴＦ１６９４９"] },
    Archetype { name: "樹脂成形", weight: 6, jsic: &["18", "183", "189"],
        suffixes: &[("化成", "カセイ"), ("樹脂工業", "ジュシコウギョウ"), ("プラスチック", "プラスチック")],
        techniques: &["射出成形による樹脂部品の量産", "インサート成形", "二色成形", "ブロー成形", "樹脂の切削加工", "真空成形"],
        material_label: "樹脂", materials: &["PP", "ABS", "PC", "POM", "PA66", "PPS", "PEEK", "エラストマー"],
        products: &["コネクタハウジング", "医療用ディスポ部品", "自動車内装部品", "家電外装ケース", "ギア"],
        markets: &["自動車", "医療機器", "家電", "OA機器", "日用品"], scales: &["月産数万ショット", "試作金型から量産まで", "小ロット成形"],
        equipment: &[("射出成形機", "ファナック", "ROBOSHOT α-S100iA"), ("射出成形機", "日精樹脂工業", "NEX110"), ("射出成形機", "住友重機械工業", "SE130EV"), ("取出しロボット", "ユーシン精機", "HXA")],
        certs: &[ISO9001, ISO14001, "ISO13485|ISO 13485:2016|医療機器QMS"] },
    Archetype { name: "めっき・表面処理", weight: 5, jsic: &["24", "246", "2464", "2469"],
        suffixes: &[("鍍金工業", "メッキコウギョウ"), ("表面処理", "ヒョウメンショリ"), ("化工", "カコウ")],
        techniques: &["無電解ニッケルめっき", "硬質クロムめっき", "アルマイト（陽極酸化）処理", "亜鉛めっきと三価クロメート", "金めっき・銀めっき", "パシベーション（不動態化処理）", "電解研磨"],
        material_label: "素材", materials: &["鉄", "SUS304", "アルミ合金", "銅合金", "チタン", "亜鉛ダイカスト"],
        products: &["コネクタ端子", "油圧部品", "半導体装置部品", "装飾部品"],
        markets: &["電子部品", "自動車", "半導体製造装置", "航空機"], scales: &["1個からの試作処理", "バレルでの量産処理", "長尺物の処理"],
        equipment: &[("自動めっきライン", "", ""), ("蛍光X線膜厚計", "日立ハイテク", "FT150"), ("排水処理設備", "", ""), ("塩水噴霧試験機", "スガ試験機", "")],
        certs: &[ISO9001, ISO14001, "Nadcap|NADCAP認証|ナドキャップ"] },
    Archetype { name: "熱処理", weight: 3, jsic: &["24", "246", "2465"],
        suffixes: &[("熱処理工業", "ネツショリコウギョウ"), ("熱錬", "ネツレン")],
        techniques: &["真空焼入れ", "浸炭焼入れ", "高周波焼入れ", "窒化処理", "焼なまし・焼ならし", "サブゼロ処理"],
        material_label: "鋼種", materials: &["SKD11", "SKD61", "SCM415", "S45C", "SUJ2", "SUS440C"],
        products: &["金型", "ギア", "シャフト", "刃物"], markets: &["自動車", "工作機械", "金型"],
        scales: &["1個からの単品処理", "量産ロットの連続処理"],
        equipment: &[("真空熱処理炉", "中外炉工業", ""), ("ガス浸炭炉", "東洋炉工業", ""), ("高周波焼入装置", "電気興業", ""), ("硬さ試験機", "ミツトヨ", "HR-530")],
        certs: &[ISO9001, "Nadcap|NADCAP認定"] },
    Archetype { name: "鋳造", weight: 3, jsic: &["22", "225", "23", "235"],
        suffixes: &[("鋳造所", "チュウゾウショ"), ("鋳工", "チュウコウ"), ("ダイカスト", "ダイカスト")],
        techniques: &["アルミダイカスト", "砂型鋳造", "ロストワックス精密鋳造", "鋳鉄品の鋳造と機械加工", "3Dプリンタ砂型による試作鋳造"],
        material_label: "材質", materials: &["ADC12", "AC4C", "FC250", "FCD450", "SCS13", "青銅"],
        products: &["ポンプケーシング", "エンジン部品", "バルブボディ", "美術鋳物"], markets: &["自動車", "産業機械", "上下水道"],
        scales: &["1個からの試作鋳造", "月産数千個"],
        equipment: &[("ダイカストマシン", "UBEマシナリー", "UB530iV"), ("ダイカストマシン", "東洋機械金属", "BD-350V5"), ("造型機", "新東工業", "FBO"), ("X線透過検査装置", "", "")],
        certs: &[ISO9001, ISO14001, "IATF16949|ISO/TS16949"] },
    Archetype { name: "電子基板実装", weight: 6, jsic: &["28", "284", "285", "29"],
        suffixes: &[("電子", "デンシ"), ("エレクトロニクス", "エレクトロニクス"), ("電機", "デンキ")],
        techniques: &["SMT実装による基板の量産", "試作基板の短納期実装", "BGA・QFNのリワーク", "ケーブルハーネスの加工", "基板のはんだ付けと組立検査", "回路設計から基板製作まで一貫対応"],
        material_label: "対応部品", materials: &["0402チップ", "BGA", "QFN", "コネクタ", "リード部品", "フレキシブル基板"],
        products: &["制御基板", "センサモジュール", "電源ユニット", "IoT端末"], markets: &["産業機器", "医療機器", "車載機器", "計測器"],
        scales: &["1枚からの試作", "月産数千枚", "小ロット多品種"],
        equipment: &[("マウンタ", "パナソニック", "NPM-W2"), ("マウンタ", "ヤマハ発動機", "YSM20R"), ("マウンタ", "FUJI", "NXT III"), ("リフロー炉", "タムラ製作所", ""), ("基板外観検査装置", "オムロン", "VT-S730")],
        certs: &[ISO9001, ISO14001, "ISO13485|ISO 13485"] },
    Archetype { name: "組込みソフト", weight: 6, jsic: &["39", "391", "3912"],
        suffixes: &[("システムズ", "システムズ"), ("テクノロジー", "テクノロジー"), ("ソフト", "ソフト")],
        techniques: &["マイコン向けファームウェア開発", "組込みLinuxのドライバ開発", "モータ制御ソフトの開発", "BLE・Wi-Fi通信機能の実装", "RTOSを使った制御ソフト開発", "FPGAの論理設計"],
        material_label: "開発環境", materials: &["C", "C++", "Rust", "ARM Cortex-M", "RX", "Yocto", "Zephyr", "VHDL"],
        products: &["産業機器の制御ソフト", "計測器ファームウェア", "IoTゲートウェイ"], markets: &["産業機器", "医療機器", "家電", "車載"],
        scales: &["小規模な改修から", "要件定義から量産保守まで"],
        equipment: &[("オシロスコープ", "テクトロニクス", "MSO64"), ("ロジックアナライザ", "キーサイト", ""), ("デバッガ", "Lauterbach", "TRACE32")],
        certs: &[ISO9001, ISMS, "ISO26262|ISO 26262対応", "CMMI|CMMIレベル3"] },
    Archetype { name: "業務システム・Web", weight: 10, jsic: &["39", "391", "3911", "40", "392"],
        suffixes: &[("システム", "システム"), ("ソリューションズ", "ソリューションズ"), ("ラボ", "ラボ")],
        techniques: &["生産管理システムの受託開発", "受発注Webシステムの構築", "ECサイトの構築・運用", "kintoneによる業務改善", "クラウド移行とインフラ運用", "スマートフォンアプリの開発", "データ分析とダッシュボード構築"],
        material_label: "技術", materials: &["Java", "Python", "TypeScript", "PHP", "AWS", "Azure", "React", "PostgreSQL"],
        products: &["生産管理システム", "在庫管理アプリ", "予約サイト", "社内ポータル"], markets: &["中小製造業", "小売業", "自治体", "医療機関"],
        scales: &["小規模案件から", "要件定義から運用保守まで"],
        equipment: &[("開発用サーバ", "Dell", "PowerEdge R760"), ("検証用端末", "", "")],
        certs: &[ISMS, "SECURITY ACTION|SECURITY ACTION二つ星", ISO9001] },
    Archetype { name: "映像・CG", weight: 5, jsic: &["41", "411", "416"],
        suffixes: &[("映像", "エイゾウ"), ("スタジオ", "スタジオ"), ("ピクチャーズ", "ピクチャーズ")],
        techniques: &["企業PR動画の企画・撮影・編集", "製品の3DCGアニメーション制作", "ドローン空撮", "展示会用映像の制作", "2Dアニメーション制作", "VR・360度映像の制作"],
        material_label: "ツール", materials: &["After Effects", "Premiere Pro", "Blender", "Maya", "Unreal Engine", "DaVinci Resolve"],
        products: &["会社紹介動画", "製品説明動画", "採用動画", "CMコンテンツ"], markets: &["製造業", "自治体", "観光", "教育"],
        scales: &["尺30秒程度から", "企画から納品まで最短4週間"],
        equipment: &[("シネマカメラ", "ソニー", "FX6"), ("シネマカメラ", "キヤノン", "EOS C70"), ("液晶ペンタブレット", "ワコム", "Cintiq Pro 24"), ("ドローン", "DJI", "Mavic 3 Pro")],
        certs: &["プライバシーマーク|Pマーク"] },
    Archetype { name: "デザイン", weight: 6, jsic: &["72", "726", "7261", "73"],
        suffixes: &[("デザイン", "デザイン"), ("デザイン事務所", "デザインジムショ"), ("クリエイティブ", "クリエイティブ")],
        techniques: &["プロダクトデザイン", "パッケージデザイン", "ロゴ・CIの制作", "Webサイトのデザイン", "展示会ブースのデザイン", "UI・UXデザイン"],
        material_label: "ツール", materials: &["Illustrator", "Photoshop", "Figma", "Rhinoceros", "Fusion 360", "KeyShot"],
        products: &["パンフレット", "製品パッケージ", "ブランドロゴ", "家電製品の外観"], markets: &["中小製造業", "食品メーカー", "スタートアップ"],
        scales: &["ロゴ1点から", "ブランディング一式"],
        equipment: &[("大判プリンタ", "キヤノン", "imagePROGRAF PRO-1000"), ("3Dプリンタ", "Formlabs", "Form 3")],
        certs: &[] },
    Archetype { name: "機械設計", weight: 6, jsic: &["74", "743", "26"],
        suffixes: &[("設計", "セッケイ"), ("エンジニアリング", "エンジニアリング"), ("技研", "ギケン")],
        techniques: &["省力化装置の機械設計", "3D CADによるモデリングと図面化", "CAE構造解析", "治具の設計", "試作品の3Dプリント", "専用機の設計・製作"],
        material_label: "CAD", materials: &["SOLIDWORKS", "iCAD", "AutoCAD", "Inventor", "CATIA", "ANSYS"],
        products: &["自動組立機", "検査装置", "搬送装置", "専用治具"], markets: &["自動車部品", "食品工場", "物流", "半導体製造装置"],
        scales: &["図面1枚から", "構想設計から製作まで"],
        equipment: &[("3Dプリンタ", "Stratasys", "F370"), ("3Dスキャナ", "キーエンス", "VL-500"), ("CADワークステーション", "", "")],
        certs: &[ISO9001] },
    Archetype { name: "食品加工", weight: 8, jsic: &["09", "099", "097", "092", "10"],
        suffixes: &[("食品", "ショクヒン"), ("フーズ", "フーズ"), ("製菓", "セイカ")],
        techniques: &["惣菜のOEM製造", "冷凍食品の製造", "レトルト食品の受託製造", "焼き菓子の製造", "水産加工品の製造", "地場野菜の一次加工"],
        material_label: "原料", materials: &["地元産野菜", "国産小麦", "鶏肉", "魚介類", "米粉", "果実"],
        products: &["惣菜", "冷凍餃子", "レトルトカレー", "洋菓子", "干物"], markets: &["量販店", "コンビニ", "給食", "ふるさと納税", "ネット通販"],
        scales: &["小ロットOEMから", "日産1万食"],
        equipment: &[("スチームコンベクションオーブン", "ラショナル", ""), ("ピロー包装機", "フジキカイ", "FW3410"), ("組合せ計量機", "イシダ", "CCW"), ("急速冷凍機", "", ""), ("金属検出機", "アンリツ", "")],
        certs: &["HACCP|ＨＡＣＣＰ|HACCPに沿った衛生管理", "FSSC22000|FSSC 22000", "JFS|JFS-B規格", "ISO22000|ISO 22000:2018", "有機JAS|有機JAS認証"] },
    Archetype { name: "印刷", weight: 5, jsic: &["15", "151", "153", "159"],
        suffixes: &[("印刷", "インサツ"), ("印刷所", "インサツジョ"), ("グラフィックス", "グラフィックス")],
        techniques: &["オフセット印刷", "オンデマンド印刷", "シール・ラベル印刷", "パッケージ印刷と箔押し", "製本・加工", "UVインクジェットによる小ロット印刷"],
        material_label: "用紙・素材", materials: &["コート紙", "上質紙", "クラフト紙", "PETフィルム", "合成紙", "段ボール"],
        products: &["カタログ", "パンフレット", "商品ラベル", "化粧箱"], markets: &["食品メーカー", "自治体", "出版社", "小売業"],
        scales: &["100部から", "数十万部の量産"],
        equipment: &[("オフセット印刷機", "ハイデルベルグ", "スピードマスター XL106"), ("オフセット印刷機", "小森コーポレーション", "リスロン GX40"), ("UVインクジェットプリンタ", "ミマキエンジニアリング", "UJF-7151 plus"), ("デジタル印刷機", "SCREEN", "Truepress")],
        certs: &[ISO14001, "プライバシーマーク|Ｐマーク", "FSC認証|FSC COC認証"] },
];

#[rustfmt::skip]
const NAME_ROOTS: &[(&str, &str)] = &[
    ("城南", "ジョウナン"), ("多摩", "タマ"), ("武蔵", "ムサシ"), ("大和", "ヤマト"), ("三協", "サンキョウ"), ("東邦", "トウホウ"),
    ("明和", "メイワ"), ("昭和", "ショウワ"), ("富士", "フジ"), ("日進", "ニッシン"), ("共栄", "キョウエイ"), ("協和", "キョウワ"),
    ("丸山", "マルヤマ"), ("高橋", "タカハシ"), ("鈴木", "スズキ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"),
    ("旭", "アサヒ"), ("新栄", "シンエイ"), ("大成", "タイセイ"), ("北斗", "ホクト"), ("青葉", "アオバ"), ("相模", "サガミ"),
    ("京浜", "ケイヒン"), ("尾張", "オワリ"), ("浪速", "ナニワ"), ("テクノ", "テクノ"), ("アルファ", "アルファ"), ("ネクスト", "ネクスト"),
];
const TOWNS: &[&str] = &[
    "本町",
    "中央",
    "栄町",
    "緑町",
    "旭町",
    "南町",
    "東町",
    "西町",
    "北町",
    "新町",
    "幸町",
    "桜台",
    "富士見町",
    "若葉町",
    "昭和町",
    "日吉町",
];
const LEADS: &[&str] = &["2週間", "1か月", "2か月", "3か月", "半年"];
const CLOSINGS: &[&str] = &[
    "短納期・特急対応もご相談ください。",
    "図面がなくても現物からの対応が可能です。",
    "まずはお気軽にお問い合わせください。",
    "若手の育成にも力を入れています。",
    "近隣企業との連携で一貫対応いたします。",
    "見積は原則2営業日以内に回答します。",
];
const QUALITY: &[&str] = &[
    "検査成績書の提出に対応します",
    "全数検査でトレーサビリティを確保しています",
    "品質記録を10年間保管しています",
];

/// 2024-11-01 and 2019-01-01, 2026-03-31 as days since 1970-01-01.
const FRESH_FROM: i32 = 20_028;
const STALE_FROM: i32 = 17_897;
const LATEST: i32 = 20_543;
const COMPANY_SALT: u64 = 0x636f_6d70_616e_7931;
const NEED_SALT: u64 = 0x6e65_6564_7332_3032;

/// How many records, and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Companies to generate.
    pub companies: usize,
    /// Needs to generate, each owned by one of the companies.
    pub needs: usize,
    /// The seed: the same config gives the same corpus on every machine.
    pub seed: u64,
}

/// A municipality ready to draw from.
struct Place {
    code: MunicipalityCode,
    prefecture: String,
    name: String,
    office: GeoPoint,
    /// Cumulative draw weight.
    upto: u32,
}

/// Produces record `i` of a corpus on demand; cheap to share across threads.
pub struct Generator {
    companies: usize,
    company_rng: ChaCha8Rng,
    need_rng: ChaCha8Rng,
    places: Vec<Place>,
}

fn pick<'a, T>(r: &mut ChaCha8Rng, pool: &'a [T]) -> &'a T {
    &pool[r.random_range(0..pool.len() as u32) as usize]
}

/// `n` distinct entries of `pool` (fewer if the pool is smaller), in pool order.
fn pick_n<'a, T>(r: &mut ChaCha8Rng, pool: &'a [T], n: usize) -> Vec<&'a T> {
    let mut idx: Vec<usize> = (0..pool.len()).collect();
    for i in 0..n.min(idx.len()) {
        let j = r.random_range(i as u32..idx.len() as u32) as usize;
        idx.swap(i, j);
    }
    idx.truncate(n);
    idx.sort_unstable();
    idx.into_iter().map(|i| &pool[i]).collect()
}

/// One written form of a certification entry.
fn cert_form(r: &mut ChaCha8Rng, entry: &str) -> String {
    let forms: Vec<&str> = entry.split('|').collect();
    (*pick(r, &forms)).to_owned()
}

/// ASCII letters and digits to their full-width forms (Ａ, ９).
fn to_fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

impl Generator {
    /// A generator drawing municipalities and industry codes from `taxonomy`.
    pub fn new(config: &GeneratorConfig, taxonomy: &Taxonomy) -> Self {
        let mut munis: Vec<_> = taxonomy.municipalities().collect();
        munis.sort_by_key(|m| m.code); // the table is a HashMap: fix the order
        let mut places = Vec::with_capacity(munis.len());
        let mut upto = 0;
        for m in munis {
            // The corpus stands for a Tokyo-centred client base: Tokyo heavy
            // (about 45% of companies), the five big industrial prefectures
            // next, a thin national tail. Since the table covers all of Japan
            // (issue #15), the ~1,500 municipalities of the other prefectures
            // weigh 1 against 20 for a prefecture, so together they stay a tail
            // (about 10%, 7% before) as when the table held only their capitals. A
            // designated city's wards weigh nothing: its city row stands for
            // them, as before they were in the table.
            upto += match (m.code.prefecture(), m.code.is_prefecture(), m.kind.as_str()) {
                (_, true, _) => 20,
                (13, _, _) => 160,
                (_, _, "ward") => 0,
                (11 | 12 | 14 | 23 | 27, _, _) => 40,
                _ => 1,
            };
            let prefecture = taxonomy
                .municipality(m.code.prefecture_code())
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let name = if m.code.is_prefecture() {
                String::new()
            } else {
                m.name.clone()
            };
            places.push(Place {
                code: m.code,
                prefecture,
                name,
                office: m.office,
                upto,
            });
        }
        if places.is_empty() {
            // A taxonomy without municipalities (tests with a stub table): 千代田区.
            if let Ok(code) = "13101".parse() {
                let office = GeoPoint {
                    lat: 35.69384,
                    lon: 139.75355,
                };
                places.push(Place {
                    code,
                    prefecture: "東京都".into(),
                    name: "千代田区".into(),
                    office,
                    upto: 1,
                });
            }
        }
        Generator {
            companies: config.companies,
            company_rng: ChaCha8Rng::seed_from_u64(config.seed ^ COMPANY_SALT),
            need_rng: ChaCha8Rng::seed_from_u64(config.seed ^ NEED_SALT),
            places,
        }
    }

    fn stream(base: &ChaCha8Rng, index: usize) -> ChaCha8Rng {
        let mut r = base.clone();
        r.set_stream(index as u64);
        r
    }

    /// The first draws of company `index`: its archetype and municipality.
    fn head(&self, r: &mut ChaCha8Rng) -> (&'static Archetype, &Place) {
        let total: u32 = ARCHETYPES.iter().map(|a| a.weight).sum();
        let mut w = r.random_range(0..total);
        let mut arch = &ARCHETYPES[0];
        for a in ARCHETYPES {
            if w < a.weight {
                arch = a;
                break;
            }
            w -= a.weight;
        }
        let last = self.places.last().map_or(1, |p| p.upto);
        let w = r.random_range(0..last);
        let i = self.places.partition_point(|p| p.upto <= w);
        (arch, &self.places[i.min(self.places.len() - 1)])
    }

    /// Company number `index` (0-based; its id is `g{index+1:07}`).
    pub fn company(&self, index: usize) -> Company {
        let r = &mut Self::stream(&self.company_rng, index);
        let (a, place) = self.head(r);
        let (root, root_kana) = *pick(r, NAME_ROOTS);
        let (suffix, suffix_kana) = *pick(r, a.suffixes);
        let name = match r.random_range(0..20) {
            0..=10 => format!("株式会社{root}{suffix}"),
            11..=14 => format!("{root}{suffix}株式会社"),
            15..=18 => format!("有限会社{root}{suffix}"),
            _ => format!("合同会社{root}{suffix}"),
        };
        let founded: u16 = r.random_range(1946..=2023);
        let employees: u32 = match r.random_range(0..10) {
            0..=4 => r.random_range(1..=20),
            5..=8 => r.random_range(21..=100),
            _ => r.random_range(101..=600),
        };
        let n_equipment = r.random_range(0..=4);
        let equipment: Vec<Equipment> = pick_n(r, a.equipment, n_equipment)
            .into_iter()
            .map(|&(name, maker, model)| Equipment {
                name: name.to_owned(),
                maker: (!maker.is_empty()).then(|| maker.to_owned()),
                model: (!model.is_empty() && r.random_bool(0.8)).then(|| model.to_owned()),
                count: r.random_bool(0.5).then(|| r.random_range(1..=6)),
                spec: None,
            })
            .collect();
        let n_certs = r.random_range(0..=a.certs.len().min(3));
        let certifications: Vec<String> = pick_n(r, a.certs, n_certs)
            .into_iter()
            .map(|e| cert_form(r, e))
            .collect();
        let mut capabilities = capability_text(r, a, place, founded, &equipment, &certifications);
        if r.random_bool(0.15) {
            capabilities = to_fullwidth(&capabilities);
        }
        let n_products = r.random_range(1..=3);
        let products = r.random_bool(0.7).then(|| {
            pick_n(r, a.products, n_products)
                .into_iter()
                .copied()
                .collect::<Vec<_>>()
                .join("、")
        });
        let location = r.random_bool(0.5).then(|| GeoPoint {
            lat: round5(place.office.lat + r.random_range(-0.03..0.03)),
            lon: round5(place.office.lon + r.random_range(-0.035..0.035)),
        });
        let address = r.random_bool(0.7).then(|| {
            format!(
                "{}{}{}{}丁目",
                place.prefecture,
                place.name,
                pick(r, TOWNS),
                r.random_range(1..=6)
            )
        });
        let updated = if r.random_bool(0.15) {
            r.random_range(STALE_FROM..FRESH_FROM)
        } else {
            r.random_range(FRESH_FROM..=LATEST)
        };
        Company {
            id: record_id("g", index),
            name,
            name_kana: r
                .random_bool(0.7)
                .then(|| format!("{root_kana}{suffix_kana}")),
            municipality_code: place.code,
            address,
            location,
            industry_codes: jsic_codes(r, a),
            capabilities,
            products,
            equipment,
            certifications,
            employees: r.random_bool(0.9).then_some(employees),
            capital_jpy: r.random_bool(0.6).then(|| {
                *pick(
                    r,
                    &[
                        3_000_000,
                        5_000_000,
                        10_000_000,
                        20_000_000,
                        30_000_000,
                        50_000_000,
                        100_000_000,
                    ],
                )
            }),
            founded_year: r.random_bool(0.8).then_some(founded),
            visibility: if r.random_bool(0.08) {
                Visibility::Restricted
            } else {
                Visibility::Public
            },
            updated_at: r.random_bool(0.95).then(|| Date::from_days(updated)),
        }
    }

    /// Need number `index` (0-based; its id is `gn{index+1:07}`).
    pub fn need(&self, index: usize) -> Need {
        let r = &mut Self::stream(&self.need_rng, index);
        let owner = (self.companies > 0 && r.random_bool(0.3))
            .then(|| r.random_range(0..self.companies as u64) as usize);
        let owner_head = owner.map(|o| self.head(&mut Self::stream(&self.company_rng, o)));
        let (a, place) = self.head(r);
        let place = owner_head.map_or(place, |(_, p)| p);
        let kind = match r.random_range(0..100) {
            0..=59 => NeedKind::Subcontracting,
            60..=74 => NeedKind::JointDevelopment,
            75..=84 => NeedKind::Procurement,
            85..=89 => NeedKind::SalesChannel,
            90..=93 => NeedKind::Talent,
            94..=96 => NeedKind::Succession,
            97 => NeedKind::Funding,
            _ => NeedKind::Other,
        };
        // Selling or handing over is about the owner's own business.
        let a = match (kind, owner_head) {
            (NeedKind::SalesChannel | NeedKind::Succession, Some((oa, _))) => oa,
            _ => a,
        };
        let (tech, mat, prod) = (
            *pick(r, a.techniques),
            *pick(r, a.materials),
            *pick(r, a.products),
        );
        let title = match (kind, r.random_range(0..4)) {
            (NeedKind::Subcontracting, 0) => format!("{tech}の外注先募集"),
            (NeedKind::Subcontracting, 1) => {
                format!("{prod}向け{}の協力会社を探しています", a.name)
            }
            (NeedKind::Subcontracting, 2) => format!("【急募】{mat}の{}", a.name),
            (NeedKind::Subcontracting, _) => format!(
                "{}の協力会社募集（{}{}）",
                a.name, place.prefecture, place.name
            ),
            (NeedKind::JointDevelopment, _) => format!("{prod}の共同開発パートナー募集"),
            (NeedKind::Procurement, _) => format!("{prod}の調達先を探しています"),
            (NeedKind::SalesChannel, _) => format!("自社製品（{prod}）の販路開拓"),
            (NeedKind::Talent, _) => format!("{}の技術者を求めています", a.name),
            (NeedKind::Succession, _) => format!("{}事業の承継先を探しています", a.name),
            _ => format!("{}に関するご相談", a.name),
        };
        let mut s = Vec::new();
        if let Some((oa, _)) = owner_head {
            s.push(format!(
                "当社は{}で{}を手がける{}の会社です。",
                place.full_name(),
                pick(r, oa.products),
                oa.name
            ));
        }
        s.push(match kind {
            NeedKind::Subcontracting => format!("{mat}を使った{prod}について、{tech}に対応できる協力会社を探しています。"),
            NeedKind::JointDevelopment => format!("{}向けの{prod}を共同で開発できるパートナーを募集します。{tech}の知見をお持ちの企業を希望します。", pick(r, a.markets)),
            NeedKind::Procurement => format!("{mat}製の{prod}を継続的に供給いただける調達先を探しています。"),
            NeedKind::SalesChannel => format!("{tech}を活かした{prod}を開発しました。{}向けの販路をお持ちの企業と連携したいと考えています。", pick(r, a.markets)),
            NeedKind::Talent => format!("{tech}の経験がある技術者の紹介、または出向・業務委託を希望します。"),
            NeedKind::Succession => format!("後継者不在のため、{tech}の設備と顧客を引き継いでいただける企業を探しています。"),
            _ => format!("{tech}について、相談できる企業を探しています。"),
        });
        if r.random_bool(0.6) {
            s.push(format!(
                "規模は{}、納期は{}程度を想定しています。",
                pick(r, a.scales),
                pick(r, LEADS)
            ));
        }
        let mut equipment: Vec<String> = Vec::new();
        if r.random_bool(0.3) {
            let n = r.random_range(1..=2);
            equipment = pick_n(r, a.equipment, n)
                .into_iter()
                .map(|e| e.0.to_owned())
                .collect();
        }
        if !equipment.is_empty() {
            s.push(format!(
                "{}をお持ちの企業だと助かります。",
                equipment.join("・")
            ));
        }
        let mut certifications_required = Vec::new();
        if !a.certs.is_empty() && r.random_bool(0.15) {
            let entry = *pick(r, a.certs);
            certifications_required.push(cert_form(r, entry));
        }
        if let Some(c) = certifications_required.first() {
            s.push(format!("{c}を取得している企業を希望します。"));
        }
        let region = r.random_bool(0.25).then(|| {
            let pref = format!("{:02}", place.code.prefecture());
            match (owner.is_some(), r.random_range(0..3)) {
                (true, 0) => {
                    let km = *pick(r, &[10.0, 20.0, 30.0, 50.0]);
                    s.push(format!(
                        "打合せのため、当社から{km}km圏内の企業が望ましいです。"
                    ));
                    Region {
                        max_distance_km: Some(km),
                        ..Region::default()
                    }
                }
                (_, 1) if !place.name.is_empty() => {
                    s.push(format!("{}内の企業を希望します。", place.name));
                    Region {
                        municipality_codes: vec![place.code],
                        ..Region::default()
                    }
                }
                _ => {
                    s.push(format!("{}内の企業を優先します。", place.prefecture));
                    Region {
                        prefecture_codes: vec![pref],
                        ..Region::default()
                    }
                }
            }
        });
        Need {
            id: record_id("gn", index),
            company_id: owner.map(|o| record_id("g", o)),
            kind,
            title,
            text: s.concat(),
            industry_codes: if r.random_bool(0.6) {
                jsic_codes(r, a)
            } else {
                Vec::new()
            },
            equipment,
            certifications_required,
            region,
            status: if r.random_bool(0.05) {
                NeedStatus::Closed
            } else {
                NeedStatus::Open
            },
        }
    }
}

impl Place {
    fn full_name(&self) -> String {
        format!("{}{}", self.prefecture, self.name)
    }
}

/// One or two of the archetype's JSIC codes.
fn jsic_codes(r: &mut ChaCha8Rng, a: &Archetype) -> Vec<JsicCode> {
    let n = r.random_range(1..=2);
    pick_n(r, a.jsic, n)
        .into_iter()
        .filter_map(|c| c.parse().ok())
        .collect()
}

fn record_id(prefix: &str, index: usize) -> RecordId {
    let s = format!("{prefix}{:07}", index + 1);
    s.parse().unwrap_or_else(|_| RecordId::adhoc()) // cannot fail: [a-z]+[0-9]+
}

/// 2–6 sentences, about 30–600 characters.
fn capability_text(
    r: &mut ChaCha8Rng,
    a: &Archetype,
    place: &Place,
    founded: u16,
    equipment: &[Equipment],
    certs: &[String],
) -> String {
    let techs: Vec<&str> = pick_n(r, a.techniques, 4).into_iter().copied().collect();
    let t = |i: usize| techs[i % techs.len()];
    let mut s = vec![match r.random_range(0..3) {
        0 => format!(
            "{}{}で{founded}年に創業し、{}を中心に事業を行っています。",
            place.prefecture,
            place.name,
            t(0)
        ),
        1 => format!("{}を専門としています。", t(0)),
        _ => format!("当社は{}と{}を主力とする{}の会社です。", t(0), t(1), a.name),
    }];
    let n_mats = r.random_range(2..=4);
    let mats: Vec<&str> = pick_n(r, a.materials, n_mats)
        .into_iter()
        .copied()
        .collect();
    let market = *pick(r, a.markets);
    let mut more = vec![
        format!("{}まで社内で一貫して対応します。", t(1)),
        format!("主な{}は{}などです。", a.material_label, mats.join("、")),
        format!("{}まで対応し、標準納期は{}です。", pick(r, a.scales), pick(r, LEADS)),
        format!("{market}向けに{}の実績があります。", pick(r, a.products)),
        format!("対応できる内容は{}、{}、{}などで、複数工程をまとめてご依頼いただくことも可能です。", t(1), t(2), t(3)),
        format!("最近では{market}分野のお客様からのご依頼で、{}を使った{}の{}を{}で納品しました。", mats[0], pick(r, a.products), t(0), pick(r, LEADS)),
        format!("お問い合わせから見積、{}、検査、納品までを社内で一貫して管理し、品質と納期の安定を図っています。", t(0)),
        format!("創業以来{market}分野の仕事を中心に続けてきたため、{market}特有の品質要求や書類対応にも慣れています。"),
        format!("{}については{}・{}など材料ごとの条件を長年蓄積しており、初めての形状や仕様でも試作の段階から量産を見据えた工程をご提案できるのが当社の強みです。", t(0), mats[0], mats[1]),
        format!("{market}分野では図面や仕様書が固まる前の段階からご相談いただくことが多く、コストと納期のバランスを考えた仕様のご提案から{}の対応、納品後のフォローまで担当者が責任を持って対応いたします。", pick(r, a.scales)),
    ];
    if let Some(e) = equipment.first() {
        let total: u32 = equipment.iter().map(|e| e.count.unwrap_or(1)).sum();
        more.push(if r.random_bool(0.5) {
            format!(
                "{}の{}など計{total}台の設備を保有しています。",
                e.maker.as_deref().unwrap_or("自社"),
                e.name
            )
        } else {
            let items: Vec<String> = equipment
                .iter()
                .map(|e| {
                    format!(
                        "{}{}{}",
                        e.maker.as_deref().unwrap_or(""),
                        e.name,
                        e.model
                            .as_ref()
                            .map_or(String::new(), |m| format!("（{m}）"))
                    )
                })
                .collect();
            format!("主な保有設備は{}です。", items.join("、"))
        });
    }
    if let Some(c) = certs.first() {
        more.push(format!("{c}を取得しており、{}。", pick(r, QUALITY)));
    }
    for pos in (1..more.len()).rev() {
        more.swap(pos, r.random_range(0..=pos as u32) as usize);
    }
    let n = r.random_range(1..=5);
    let closing = n >= 2 && r.random_bool(0.4);
    s.extend(more.into_iter().take(n - usize::from(closing)));
    if closing {
        s.push((*pick(r, CLOSINGS)).to_owned());
    }
    while s.len() > 2 && s.iter().map(|x| x.chars().count()).sum::<usize>() > 600 {
        s.remove(s.len() - 2); // keep the closing line
    }
    s.concat()
}

/// The companies one at a time, for writing JSON Lines without holding them all.
pub fn companies(config: &GeneratorConfig, taxonomy: &Taxonomy) -> impl Iterator<Item = Company> {
    let g = Generator::new(config, taxonomy);
    (0..config.companies).map(move |i| g.company(i))
}

/// The needs one at a time; owners refer to companies of the same config.
pub fn needs(config: &GeneratorConfig, taxonomy: &Taxonomy) -> impl Iterator<Item = Need> {
    let g = Generator::new(config, taxonomy);
    (0..config.needs).map(move |i| g.need(i))
}

/// The whole corpus in memory, generated in parallel (same output as the iterators).
pub fn generate(config: &GeneratorConfig, taxonomy: &Taxonomy) -> (Vec<Company>, Vec<Need>) {
    let g = Generator::new(config, taxonomy);
    let companies = (0..config.companies)
        .into_par_iter()
        .map(|i| g.company(i))
        .collect();
    let needs = (0..config.needs)
        .into_par_iter()
        .map(|i| g.need(i))
        .collect();
    (companies, needs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::fixtures_dir;
    use crate::model::validate;

    fn tax() -> Taxonomy {
        Taxonomy::load(&fixtures_dir()).expect("fixtures load")
    }

    fn json<T: serde::Serialize>(items: &[T]) -> String {
        items
            .iter()
            .map(|x| serde_json::to_string(x).expect("serialize") + "\n")
            .collect()
    }

    #[test]
    fn day_constants_match_dates() {
        for (s, d) in [
            ("2024-11-01", FRESH_FROM),
            ("2019-01-01", STALE_FROM),
            ("2026-03-31", LATEST),
        ] {
            assert_eq!(s.parse::<Date>().expect("date").days(), d);
        }
    }

    #[test]
    fn same_seed_same_output_other_seed_other_output() {
        let t = tax();
        let cfg = GeneratorConfig {
            companies: 200,
            needs: 200,
            seed: 42,
        };
        let (c1, n1) = generate(&cfg, &t);
        let (c2, n2) = generate(&cfg, &t);
        assert_eq!(json(&c1), json(&c2));
        assert_eq!(json(&n1), json(&n2));
        let (c3, n3) = generate(&GeneratorConfig { seed: 43, ..cfg }, &t);
        assert_ne!(json(&c1), json(&c3));
        assert_ne!(json(&n1), json(&n3));
        // A record depends on (seed, index) only, not on the corpus size.
        let (c4, _) = generate(
            &GeneratorConfig {
                companies: 50,
                ..cfg
            },
            &t,
        );
        assert_eq!(json(&c1[..50]), json(&c4));
    }

    #[test]
    fn streaming_equals_batch() {
        let t = tax();
        let cfg = GeneratorConfig {
            companies: 300,
            needs: 100,
            seed: 7,
        };
        let (c, n) = generate(&cfg, &t);
        assert_eq!(companies(&cfg, &t).collect::<Vec<_>>(), c);
        assert_eq!(needs(&cfg, &t).collect::<Vec<_>>(), n);
    }

    #[test]
    fn every_record_validates_and_looks_plausible() {
        let t = tax();
        let cfg = GeneratorConfig {
            companies: 2000,
            needs: 300,
            seed: 1,
        };
        let (cs, ns) = generate(&cfg, &t);
        let (mut restricted, mut stale, mut located, mut tokyo, mut fullwidth) = (0, 0, 0, 0, 0);
        let stale_before: Date = "2024-11-01".parse().expect("date");
        for c in &cs {
            let warnings =
                validate::company(&mut c.clone(), &t).unwrap_or_else(|e| panic!("{}: {e}", c.id));
            assert!(warnings.is_empty(), "{}: {warnings:?}", c.id);
            let len = c.capabilities.chars().count();
            assert!((20..=600).contains(&len), "{}: {len} chars", c.id);
            if let Some(p) = c.location {
                let office = t.office(c.municipality_code).expect("office");
                assert!(p.distance_km(office) < 6.0, "{}", c.id);
                located += 1;
            }
            restricted += usize::from(c.visibility == Visibility::Restricted);
            stale += usize::from(c.updated_at.is_some_and(|d| d < stale_before));
            tokyo += usize::from(c.municipality_code.prefecture() == 13);
            fullwidth += usize::from(
                c.capabilities
                    .chars()
                    .any(|ch| ('０'..='９').contains(&ch) || ('Ａ'..='ｚ').contains(&ch)),
            );
        }
        let pct = |n: usize| n * 100 / cs.len();
        assert!(
            (5..=11).contains(&pct(restricted)),
            "restricted {restricted}"
        );
        assert!((10..=19).contains(&pct(stale)), "stale {stale}");
        assert!((40..=60).contains(&pct(located)), "located {located}");
        assert!((30..=65).contains(&pct(tokyo)), "tokyo {tokyo}");
        assert!(fullwidth > 100, "fullwidth {fullwidth}");
        let municipalities: std::collections::HashSet<_> =
            cs.iter().map(|c| c.municipality_code).collect();
        assert!(
            municipalities.len() > 250,
            "{} municipalities",
            municipalities.len()
        );
        let (mut owned, mut closed) = (0, 0);
        for n in &ns {
            let warnings =
                validate::need(&mut n.clone(), &t).unwrap_or_else(|e| panic!("{}: {e}", n.id));
            assert!(warnings.is_empty(), "{}: {warnings:?}", n.id);
            if let Some(o) = &n.company_id {
                assert!(cs.iter().any(|c| &c.id == o), "{}: owner {o}", n.id);
                owned += 1;
            }
            closed += usize::from(n.status == NeedStatus::Closed);
        }
        assert!((60..=120).contains(&owned), "owned {owned}");
        assert!(closed > 0 && closed < 40, "closed {closed}");
        assert!(ns.iter().any(|n| n.text.contains("協力会社を探しています")));
    }

    /// `cargo test --release -p matcher-core generator::tests::throughput -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn throughput() {
        let t = tax();
        let cfg = GeneratorConfig {
            companies: 100_000,
            needs: 10_000,
            seed: 1,
        };
        let start = std::time::Instant::now();
        let n = companies(&cfg, &t)
            .map(|c| serde_json::to_string(&c).map_or(0, |s| s.len()))
            .sum::<usize>();
        println!(
            "100k companies streamed to JSON in {:?} ({n} bytes)",
            start.elapsed()
        );
    }
}
