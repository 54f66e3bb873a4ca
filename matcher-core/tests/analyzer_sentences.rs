//! The analyzer's specification, as a table of real-looking sentences.
//!
//! Every rule listed in `matcher_core::analysis` (module docs) has rows here:
//! each row is a sentence, the terms that MUST appear and the terms that must
//! NOT appear. The expected terms were taken from the real analyzer and
//! checked by hand against the rules. Rows where the analyzer is wrong are
//! not weakened: they live in [`KNOWN_GAPS`] (an ignored test) with the
//! expectation the analyzer should meet.
//!
//! Besides the table: offsets map back to what the user wrote, spelling
//! variants analyze to the same terms, synonym expansion works on index
//! terms, and a deterministic fuzz run checks offsets and determinism on
//! odd Unicode input.
//!
//! Run: `cargo test -p matcher-core --test analyzer_sentences`
//! (known gaps: `... -- --ignored`).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use matcher_core::analysis::lexicon::index_term;
use matcher_core::analysis::{normalize_key, Analyzer, Term, TermKind};
use matcher_core::fixtures;

/// One analyzer for every test in this file (loading the dictionary is slow).
fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| {
        Analyzer::from_dir(&fixtures::dict_dir()).expect("load the analyzer from fixtures/dict")
    })
}

/// The rules of the analyzer; every one has at least one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    /// NFKC: full-width ASCII → half-width, half-width kana → full-width.
    Width,
    /// ASCII (and Greek) lower-cased.
    LowerCase,
    /// Word-final ー after two or more kana dropped; 2-mora words keep it.
    LongVowel,
    /// Model numbers, grades, standards, sizes kept whole.
    Code,
    /// sus304 also yields sus.
    GradePrefix,
    /// A run of adjacent nouns also yields the joined compound.
    Compound,
    /// Particles, auxiliaries and symbols dropped.
    Particles,
    /// Verbs and adjectives in base form.
    BaseForm,
    /// Stop words (fixtures/dict/stopwords.txt) dropped.
    StopWord,
    /// User-dictionary words (fixtures/dict/user_dict.csv) kept whole.
    UserDict,
}

use Rule::*;

const ALL_RULES: &[Rule] = &[
    Width,
    LowerCase,
    LongVowel,
    Code,
    GradePrefix,
    Compound,
    Particles,
    BaseForm,
    StopWord,
    UserDict,
];

struct Row {
    text: &'static str,
    must: &'static [&'static str],
    must_not: &'static [&'static str],
    rules: &'static [Rule],
}

/// Particles and auxiliaries that appear in many rows: never a term.
#[rustfmt::skip]
const FUNCTION_WORDS: &[&str] = &[
    "の", "を", "で", "に", "は", "が", "と", "や", "も", "から", "まで", "より", "による",
    "です", "ます", "ました", "ない", "た", "て", "し", "する", "ください", "など",
];

#[rustfmt::skip]
const SENTENCES: &[Row] = &[
    // ---------------------------------------------------------------- machining
    Row {
        text: "５軸ＭＣでＳＵＳ３０４の精密部品を切削加工します。",
        must: &["5軸", "mc", "5軸mc", "sus304", "sus", "精密", "部品", "精密部品", "切削", "加工", "切削加工"],
        must_not: &["５軸", "ＭＣ", "MC", "ＳＵＳ３０４", "SUS304", "304", "5", "軸", "。", "します"],
        rules: &[Width, LowerCase, Code, GradePrefix, Compound, Particles],
    },
    Row {
        text: "ﾏｼﾆﾝｸﾞｾﾝﾀｰによるアルミ部品の加工",
        must: &["マシニングセンタ", "アルミ", "部品", "アルミ部品", "加工"],
        must_not: &["ﾏｼﾆﾝｸﾞｾﾝﾀｰ", "マシニングセンター", "マシニング", "センタ", "による"],
        rules: &[Width, LongVowel, UserDict, Compound, Particles],
    },
    Row {
        text: "マシニングセンターとNC旋盤を保有しています",
        must: &["マシニングセンタ", "nc", "旋盤", "nc旋盤", "保有"],
        must_not: &["マシニングセンター", "NC", "NC旋盤", "いる", "保有する"],
        rules: &[LongVowel, LowerCase, Code, Compound, Particles],
    },
    Row {
        text: "マシニングセンター、旋盤、フライス盤を完備",
        must: &["マシニングセンタ", "旋盤", "フライス盤", "完備"],
        // a list's 、 separates the nouns: no compound across it
        must_not: &["マシニングセンター", "マシニングセンタ旋盤", "旋盤フライス盤", "、"],
        rules: &[LongVowel, Compound, Particles],
    },
    Row {
        text: "A5052やS45Cの丸物加工に対応しております",
        must: &["a5052", "s45c", "丸物", "加工", "丸物加工"],
        // one-letter grades have no letter prefix; 対応 is a stop word
        must_not: &["A5052", "S45C", "a", "s", "5052", "45", "対応", "おる", "おります"],
        rules: &[Code, LowerCase, UserDict, Compound, StopWord],
    },
    Row {
        text: "門形マシニングセンタで大物部品を削り出します",
        must: &["門形", "マシニングセンタ", "門形マシニングセンタ", "大物", "部品", "大物部品", "削る"],
        must_not: &["門", "形", "削り", "削り出し"],
        rules: &[UserDict, Compound, BaseForm],
    },
    Row {
        text: "φ0.1の細穴加工が可能です",
        must: &["φ0.1", "細穴", "加工", "細穴加工"],
        must_not: &["φ", "0.1", "0", "1", "可能", "細", "穴"],
        rules: &[Code, UserDict, Compound, StopWord, Particles],
    },
    Row {
        text: "Φ０．１のドリルでＭ６のタップ加工",
        must: &["φ0.1", "ドリル", "m6", "タップ", "加工", "タップ加工"],
        must_not: &["Φ0.1", "Φ０．１", "０．１", "Ｍ６", "M6", "m"],
        rules: &[Width, LowerCase, Code, Compound],
    },
    Row {
        text: "ワイヤ放電加工と型彫り放電加工で金型部品を製作",
        must: &["ワイヤ放電加工", "型彫り", "放電加工", "型彫り放電加工", "金型", "部品", "金型部品", "製作"],
        must_not: &["ワイヤ", "放電", "型彫", "彫り"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "ワイヤーカットで金型部品を製作しています",
        must: &["ワイヤーカット", "金型", "部品", "金型部品", "製作"],
        // a medial ー is never folded
        must_not: &["ワイヤ", "カット", "いる"],
        rules: &[UserDict, LongVowel, Compound],
    },
    Row {
        text: "深穴加工とガンドリル加工、キー溝加工にも対応",
        must: &["深穴", "深穴加工", "ガンドリル", "ガンドリル加工", "キー溝", "キー溝加工"],
        must_not: &["深", "溝", "ドリル", "対応", "にも"],
        rules: &[UserDict, Compound, StopWord],
    },
    Row {
        text: "Ｃ３６０４の快削黄銅やA7075-T6の航空機部品",
        must: &["c3604", "快削", "黄銅", "快削黄銅", "a7075-t6", "航空機", "部品", "航空機部品"],
        must_not: &["Ｃ３６０４", "c", "3604", "a7075", "t6", "a"],
        rules: &[Width, Code, UserDict, Compound],
    },
    Row {
        text: "難削材のインコネル加工と超硬の研削",
        must: &["難削材", "インコネル", "加工", "インコネル加工", "超硬", "研削"],
        must_not: &["難削", "超"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "面粗さRa0.4、公差±0.005mmを保証",
        must: &["面粗さ", "ra0.4", "ra", "公差", "0.005mm", "保証"],
        must_not: &["Ra0.4", "0.4", "±", "±0.005mm", "0.005"],
        rules: &[UserDict, Code, GradePrefix, LowerCase],
    },
    Row {
        text: "三次元測定機で寸法を検査します",
        must: &["三次元測定機", "寸法", "検査"],
        must_not: &["測定", "次元", "測定機"],
        rules: &[UserDict],
    },
    Row {
        text: "ＳＵＳ４３０やＳＵＳ316Lなどステンレスの切削",
        must: &["sus430", "sus316l", "sus", "ステンレス", "切削"],
        must_not: &["ＳＵＳ４３０", "430", "316", "l", "など"],
        rules: &[Width, Code, GradePrefix],
    },
    // ------------------------------------------------------------ sheet metal
    Row {
        text: "SUS304の薄板をレーザ切断し、曲げ加工します",
        must: &["sus304", "sus", "薄板", "レーザ", "切断", "レーザ切断", "加工"],
        must_not: &["SUS304", "SUS", "し", "ます"],
        rules: &[Code, GradePrefix, LowerCase, Compound, Particles],
    },
    Row {
        text: "タレットパンチプレスとプレスブレーキで精密板金加工を行っています",
        must: &[
            "タレットパンチプレス", "プレスブレーキ", "精密", "板金", "加工",
            "精密板金加工", "精密板金", "板金加工",
        ],
        must_not: &["タレット", "パンチ", "ブレーキ", "行う", "行っ", "いる"],
        rules: &[UserDict, Compound, StopWord],
    },
    Row {
        text: "TIG溶接によるステンレス製缶を得意としています",
        must: &["tig", "溶接", "tig溶接", "ステンレス", "製缶", "ステンレス製缶", "得意"],
        must_not: &["TIG", "TIG溶接", "による", "製", "缶"],
        rules: &[LowerCase, Code, UserDict, Compound],
    },
    Row {
        text: "ＳＵＳ 304とＳＳ４００の溶接",
        must: &["sus304", "sus", "ss400", "ss", "溶接"],
        must_not: &["sus 304", "304", "400", "ＳＳ４００"],
        rules: &[Width, Code, GradePrefix],
    },
    Row {
        text: "CO2溶接とはんだ付け、ろう付けを行います",
        must: &["co2", "溶接", "co2溶接", "はんだ付け", "ろう付け"],
        must_not: &["CO2", "はんだ", "付け", "付ける", "行う"],
        rules: &[Code, LowerCase, UserDict, Compound, StopWord],
    },
    Row {
        text: "ﾌﾟﾚｽ加工と溶接をお任せください",
        must: &["プレス", "加工", "プレス加工", "溶接", "任せる"],
        must_not: &["ﾌﾟﾚｽ", "ﾌﾟ", "プ", "任せ", "くださる", "下さる", "お"],
        rules: &[Width, Compound, BaseForm, Particles],
    },
    Row {
        text: "SPCCのプレスとバリ取り・面取り",
        must: &["spcc", "プレス", "バリ取り", "面取り"],
        must_not: &["SPCC", "バリ", "取り", "取る", "・", "バリ取り面取り"],
        rules: &[Code, UserDict, Particles],
    },
    // ---------------------------------------------- plating / heat treatment
    Row {
        text: "アルミニウムの硬質アルマイト処理を承ります",
        must: &["アルミニウム", "硬質アルマイト", "処理", "硬質アルマイト処理", "承る"],
        must_not: &["硬質", "承り", "ます"],
        rules: &[UserDict, Compound, BaseForm],
    },
    Row {
        text: "無電解ニッケルめっきと亜鉛めっきのラインを保有",
        must: &["無電解ニッケル", "めっき", "無電解ニッケルめっき", "亜鉛", "亜鉛めっき", "ライン", "保有"],
        must_not: &["無電解", "ニッケル"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "ｱﾙﾏｲﾄ処理とｸﾛﾒｰﾄ処理",
        must: &["アルマイト", "処理", "アルマイト処理", "クロメート", "クロメート処理"],
        must_not: &["ｱﾙﾏｲﾄ", "ｸﾛﾒｰﾄ", "クロメ"],
        rules: &[Width, UserDict, Compound],
    },
    Row {
        text: "鉄素材の焼入れ・焼戻しなど熱処理全般",
        must: &["鉄", "素材", "鉄素材", "焼入れ", "焼戻し", "熱処理"],
        must_not: &["全般", "焼入れ焼戻し", "熱処理全般", "焼", "など"],
        rules: &[UserDict, Compound, StopWord, Particles],
    },
    Row {
        text: "高周波焼入れと浸炭焼入れ、軟窒化に対応",
        must: &["高周波焼入れ", "浸炭焼入れ", "軟窒化"],
        must_not: &["高周波", "浸炭", "窒化", "対応"],
        rules: &[UserDict, StopWord],
    },
    // ---------------------------------------------------------------- molding
    Row {
        text: "射出成形による樹脂部品の量産",
        must: &["射出成形", "樹脂", "部品", "樹脂部品", "量産"],
        must_not: &["射出", "成形", "による"],
        rules: &[UserDict, Compound, Particles],
    },
    Row {
        text: "ＰＥＥＫやＰＯＭなどのエンプラ切削",
        must: &["peek", "pom", "エンプラ", "切削", "エンプラ切削"],
        must_not: &["ＰＥＥＫ", "PEEK", "POM", "など"],
        rules: &[Width, LowerCase, Code, Compound],
    },
    Row {
        text: "ブロー成形でボトルを作る",
        must: &["ブロ", "成形", "ブロ成形", "ボトル", "作る"],
        must_not: &["ブロー", "ブロー成形"],
        rules: &[LongVowel, Compound, BaseForm],
    },
    Row {
        text: "シリコーンゴムの金型と注型",
        must: &["シリコーン", "ゴム", "シリコーンゴム", "金型", "注型"],
        must_not: &["シリコーンゴム金型", "型"],
        rules: &[UserDict, Compound],
    },
    // ------------------------------------------------------------ electronics
    Row {
        text: "プリント基板の表面実装と基板実装を行います",
        must: &["プリント", "基板", "プリント基板", "表面実装", "基板実装"],
        must_not: &["表面", "実装", "行う"],
        rules: &[UserDict, Compound, StopWord],
    },
    Row {
        text: "制御盤と分電盤の設計製作、ワイヤーハーネスの加工",
        must: &["制御盤", "分電盤", "設計", "製作", "設計製作", "ワイヤーハーネス", "加工"],
        must_not: &["制御", "ハーネス", "盤"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "ＣＡＤデータから３Ｄプリンタで試作品を作ります",
        must: &["cad", "データ", "cadデータ", "3d", "プリンタ", "3dプリンタ", "試作", "試作品", "作る"],
        must_not: &["ＣＡＤ", "CAD", "３Ｄ", "作り", "から"],
        rules: &[Width, LowerCase, Code, Compound, BaseForm],
    },
    // --------------------------------------------------------------- software
    Row {
        text: "組込みソフトの受託開発を行っています",
        must: &["組込みソフト", "受託", "開発", "受託開発"],
        must_not: &["組込み", "ソフト", "行う", "いる"],
        rules: &[UserDict, Compound, StopWord],
    },
    Row {
        text: "サーバーとネットワークの保守を担当",
        must: &["サーバ", "ネットワーク", "保守", "担当"],
        must_not: &["サーバー"],
        rules: &[LongVowel],
    },
    Row {
        text: "PythonとAWSでWebシステム開発",
        must: &["python", "aws", "web", "システム", "開発", "webシステム", "システム開発", "webシステム開発"],
        must_not: &["Python", "AWS", "Web", "Webシステム"],
        rules: &[LowerCase, Code, Compound],
    },
    Row {
        text: "ＡＩを活用した画像認識システムを開発",
        must: &["ai", "活用", "画像", "認識", "システム", "画像認識", "画像認識システム", "開発"],
        must_not: &["ＡＩ", "AI", "した", "活用する"],
        rules: &[Width, LowerCase, Compound],
    },
    Row {
        text: "IoTとDXの推進、コンピューターとデータベースサーバーの導入",
        must: &["iot", "dx", "推進", "コンピュータ", "データベース", "サーバ", "データベースサーバ", "導入"],
        must_not: &["IoT", "DX", "コンピューター", "サーバー", "データベースサーバー"],
        rules: &[LowerCase, LongVowel, Compound],
    },
    Row {
        text: "セキュリティ診断と脆弱性診断サービス",
        must: &["セキュリティ", "診断", "セキュリティ診断", "脆弱性", "脆弱性診断", "脆弱性診断サービス"],
        must_not: &["脆弱", "性"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "ｉＰｈｏｎｅアプリとＵｎｉｔｙを用いたＶＲコンテンツ",
        must: &["iphone", "アプリ", "iphoneアプリ", "unity", "用いる", "vr", "コンテンツ", "vrコンテンツ"],
        must_not: &["ｉＰｈｏｎｅ", "iPhone", "Unity", "用い", "VR"],
        rules: &[Width, LowerCase, Code, BaseForm, Compound],
    },
    // ------------------------------------------------------------------ design
    Row {
        text: "パッケージデザインとロゴの制作を承ります",
        must: &["パッケージ", "デザイン", "パッケージデザイン", "ロゴ", "制作", "承る"],
        must_not: &["パッケージデザインロゴ", "承り"],
        rules: &[Compound, BaseForm],
    },
    Row {
        text: "美しい仕上がりと高い精度で素早く納品します",
        must: &["美しい", "仕上がり", "高い", "精度", "素早い", "納品"],
        must_not: &["素早く", "美しく", "する"],
        rules: &[BaseForm, Particles],
    },
    // ------------------------------------------------------------------- video
    Row {
        text: "空撮映像の撮影と4K映像の編集",
        must: &["空撮", "映像", "空撮映像", "撮影", "4k", "4k映像", "編集"],
        must_not: &["4K", "4"],
        rules: &[UserDict, Code, LowerCase, Compound],
    },
    Row {
        text: "3DCGで製品紹介動画を制作",
        must: &["3dcg", "製品", "紹介", "動画", "製品紹介", "紹介動画", "製品紹介動画", "制作"],
        must_not: &["3DCG", "3d", "cg"],
        rules: &[UserDict, Code, Compound],
    },
    Row {
        text: "映像編集とナレーション収録",
        must: &["映像", "編集", "映像編集", "ナレーション", "収録", "ナレーション収録"],
        must_not: &["映像編集ナレーション"],
        rules: &[Compound],
    },
    // -------------------------------------------------------------------- food
    Row {
        text: "地元産の大豆を使った味噌の製造販売",
        must: &["地元", "大豆", "使う", "味噌", "製造", "販売", "製造販売"],
        must_not: &["使っ", "た"],
        rules: &[BaseForm, Compound, Particles],
    },
    Row {
        text: "焼菓子とパンを製造しています",
        must: &["焼菓子", "パン", "製造"],
        must_not: &["菓子", "焼", "いる", "する"],
        rules: &[UserDict, StopWord],
    },
    Row {
        text: "フリーズドライ食品の開発",
        must: &["フリーズドライ", "食品", "フリーズドライ食品", "開発"],
        must_not: &["フリーズ", "ドライ"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "HACCP対応の食品工場で弁当と惣菜を製造",
        must: &["haccp", "食品", "工場", "食品工場", "弁当", "惣菜", "製造"],
        must_not: &["HACCP", "対応", "haccp対応"],
        rules: &[LowerCase, Code, StopWord, Compound],
    },
    Row {
        text: "清酒と地酒、本格焼酎の醸造",
        must: &["清酒", "地酒", "本格", "焼酎", "本格焼酎", "醸造"],
        must_not: &["清酒地酒"],
        rules: &[Compound],
    },
    // ---------------------------------------------------------------- printing
    Row {
        text: "オフセット印刷と無線綴じの製本",
        must: &["オフセット", "印刷", "オフセット印刷", "無線綴じ", "製本"],
        must_not: &["無線", "綴じ"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "タンポ印刷で樹脂製品に印字します",
        must: &["タンポ印刷", "樹脂", "製品", "樹脂製品", "印字"],
        must_not: &["タンポ", "印刷"],
        rules: &[UserDict, Compound],
    },
    Row {
        text: "ＵＶインクジェット印刷と大判出力",
        must: &["uv", "インクジェット", "印刷", "uvインクジェット印刷", "インクジェット印刷", "大判", "出力", "大判出力"],
        must_not: &["ＵＶ", "UV"],
        rules: &[Width, LowerCase, Code, Compound],
    },
    // ---------------------------------------------------------- certifications
    Row {
        text: "ISO9001とJISQ9100を取得済みです",
        must: &["iso9001", "iso", "jisq9100", "jisq", "取得"],
        must_not: &["ISO9001", "9001", "9100", "jis"],
        rules: &[Code, GradePrefix, LowerCase],
    },
    Row {
        text: "ISO 9001:2015認証取得工場です",
        must: &["iso9001", "iso", "認証", "取得", "工場", "認証取得"],
        must_not: &["iso 9001", "9001", "2015", ":", "です"],
        rules: &[Code, GradePrefix, Compound],
    },
    Row {
        text: "JIS Q 9100に準拠した品質管理体制",
        must: &["jisq9100", "jisq", "準拠", "品質", "管理", "体制", "品質管理", "品質管理体制"],
        must_not: &["jis q 9100", "jis", "q", "9100", "した"],
        rules: &[Code, GradePrefix, Compound],
    },
    Row {
        text: "IATF16949とＩＳＯ１４００１、ＡＳ９１００の認証取得",
        must: &["iatf16949", "iatf", "iso14001", "iso", "as9100", "as", "認証", "取得", "認証取得"],
        must_not: &["IATF16949", "16949", "14001", "9100"],
        rules: &[Code, GradePrefix, Width],
    },
    // -------------------------------------------------------- stop words etc.
    Row {
        text: "当社では様々な加工に対応可能です",
        must: &["加工"],
        must_not: &["当社", "様々", "対応", "可能", "では", "です", "対応可能"],
        rules: &[StopWord, Particles],
    },
    Row {
        text: "弊社は各種部品の試作から量産まで短納期で対応いたします。お気軽にご相談ください",
        must: &["部品", "試作", "量産", "短納期"],
        must_not: &["弊社", "各種", "対応", "いたす", "致す", "相談", "ください", "各種部品"],
        rules: &[StopWord, UserDict, Particles],
    },
    Row {
        text: "多品種小ロットの生産に強みがあります",
        must: &["多品種", "小ロット", "多品種小ロット", "生産", "強み"],
        must_not: &["ある", "ロット", "品種"],
        rules: &[UserDict, Compound, StopWord],
    },
    Row {
        text: "治具の設計製作を行っております",
        must: &["治具", "設計", "製作", "設計製作"],
        must_not: &["行う", "おる", "行っ"],
        rules: &[UserDict, Compound, StopWord],
    },
    Row {
        text: "キーを複製し、カーナビを取り付けます",
        must: &["キー", "複製", "カーナビ", "取り付ける"],
        // two-mora キー keeps its ー
        must_not: &["キ", "取り付け"],
        rules: &[LongVowel, BaseForm],
    },
    Row {
        text: "「精密部品」の加工、・・・試作。",
        must: &["精密部品", "加工", "試作"],
        must_not: &["「", "」", "・・・", "、", "。", "精密部品加工"],
        rules: &[Particles, Compound],
    },
];

/// Rows the analyzer gets wrong today. The expectation is what it SHOULD
/// produce; see the report in each comment for the actual output.
#[rustfmt::skip]
const KNOWN_GAPS: &[Row] = &[
    // actual: ローン, 空撮, ローン空撮, 映像, 空撮映像, 撮影 — IPADIC splits ド|ローン
    Row {
        text: "ドローンによる空撮映像を撮影します",
        must: &["ドローン", "空撮", "映像", "撮影"],
        must_not: &["ローン"],
        rules: &[UserDict],
    },
    // actual: mc, 切削 — the code scanner claims "mc" and drops the
    // user-dictionary token mcナイロン that overlaps it
    Row {
        text: "MCナイロンの切削",
        must: &["mcナイロン", "切削"],
        must_not: &[],
        rules: &[UserDict, Code],
    },
    // actual: o, キン, 販売 — Oリング swallowed like MCナイロン; パッキン
    // is not in IPADIC (パッ|キン)
    Row {
        text: "Oリングとパッキンの販売",
        must: &["oリング", "パッキン", "販売"],
        must_not: &["キン"],
        rules: &[UserDict, Code],
    },
    // actual: x, 検査, 装置, 検査装置, 内部, 検査 — X線 (user dict) swallowed
    Row {
        text: "X線検査装置で内部を検査",
        must: &["x線", "検査", "x線検査"],
        must_not: &[],
        rules: &[UserDict, Code],
    },
    // actual: (nothing) — "3" is a digits-only code span and the
    // user-dictionary token 3次元測定機 overlapping it is skipped
    Row {
        text: "３次元測定機で測定します",
        must: &["3次元測定機"],
        must_not: &[],
        rules: &[UserDict, Width],
    },
    // actual: cad, 設計 — 3次元 (user dict) lost the same way
    Row {
        text: "3次元CADによる設計",
        must: &["3次元", "cad", "設計"],
        must_not: &[],
        rules: &[UserDict, Code],
    },
    // actual: 成形 — "2" digits-only, 色 a suffix
    Row {
        text: "2色成形の金型",
        must: &["2色成形", "金型"],
        must_not: &[],
        rules: &[Code, Compound],
    },
    // actual: 産業, ロボット — 用 (名詞,接尾) is dropped and breaks the run;
    // synonyms.tsv has 産業用ロボット as a group head that is never indexed
    Row {
        text: "産業用ロボットの導入",
        must: &["産業用ロボット", "ロボット"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 自動, 装置, 設計 — 化 (suffix) dropped, no compound
    Row {
        text: "自動化装置の設計",
        must: &["自動化", "自動化装置", "設計"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 5軸, 加工, 5軸加工, 導入 — 機 (suffix) dropped
    Row {
        text: "５軸加工機の導入",
        must: &["5軸", "5軸加工機"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 日本 — 酒 (suffix) dropped; synonym group 日本酒|清酒|地酒
    Row {
        text: "日本酒の醸造",
        must: &["日本酒", "醸造"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 精度, 加工, 精度加工 — 高 (接頭詞) dropped and breaks the run;
    // synonym 高精度加工 is never indexed
    Row {
        text: "高精度加工が得意です",
        must: &["高精度加工", "精度", "加工"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 多品種 — 少量 is 名詞,副詞可能 and dropped; synonym group
    // 小ロット|少ロット|少量|... cannot match it
    Row {
        text: "少量多品種の生産",
        must: &["少量", "多品種", "生産"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 曲げる, 加工 — 曲げ is a verb stem (連用形) and never joins;
    // synonym head 曲げ加工 is never indexed
    Row {
        text: "曲げ加工と溶接",
        must: &["曲げ加工", "加工", "溶接"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: 新着, 精密, 部品, 精密部品, 試作, )★, 短納期, 試作)★短納期,
    // 試作)★, )★短納期 — IPADIC reads unknown symbol runs as nouns
    Row {
        text: "【新着】精密部品（試作）★短納期！",
        must: &["新着", "精密部品", "試作", "短納期"],
        must_not: &[")★", "試作)★短納期", "試作)★", ")★短納期"],
        rules: &[Particles, Compound],
    },
    // actual: https, ://, example.co.jp, https://example.co.jp, https://,
    // ://example.co.jp
    Row {
        text: "詳しくはhttps://example.co.jp/をご覧ください",
        must: &["example.co.jp"],
        must_not: &["://", "https://", "://example.co.jp"],
        rules: &[Particles, Code],
    },
    // actual: !?#$%& — a pure symbol run kept as a term
    Row {
        text: "！？＃＄％＆",
        must: &[],
        must_not: &["!?#$%&"],
        rules: &[Particles, Width],
    },
    // actual: isms, iso/iec, 認証 — the standard's number is lost
    Row {
        text: "ISMS(ISO/IEC 27001)認証",
        must: &["isms", "認証"],
        // any spelling that keeps the number: see KNOWN_GAP_NUMBERS
        must_not: &[],
        rules: &[Code],
    },
    // actual: jisb, 普通, 公差, 普通公差 — only JIS Q is a spaced prefix
    Row {
        text: "JIS B 0405の普通公差",
        must: &["jisb0405", "普通公差"],
        must_not: &["jisb"],
        rules: &[Code],
    },
    // actual: ユーザー, インターフェース, ユーザーインターフェース — a ー
    // before another katakana word is never folded
    Row {
        text: "ユーザーインターフェースの設計",
        must: &["ユーザ", "設計"],
        must_not: &["ユーザー"],
        rules: &[LongVowel],
    },
    // actual: レーザーカッタ, レーザ, 加工, レーザ加工 — the ー inside the
    // katakana run survives
    Row {
        text: "レーザーカッターとレーザー加工機",
        must: &["レーザカッタ", "レーザ", "レーザ加工"],
        must_not: &["レーザーカッタ"],
        rules: &[LongVowel],
    },
    // actual: 調味 — 料 (suffix) dropped; synonym head 調味料 never indexed
    Row {
        text: "調味料と菓子類の製造",
        must: &["調味料", "菓子", "製造"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: ステンレス, 化粧 — 鋼 and 箱 (suffixes) dropped; synonyms
    // ステンレス鋼 and 化粧箱 are never indexed
    Row {
        text: "ステンレス鋼の化粧箱",
        must: &["ステンレス鋼", "ステンレス", "化粧箱"],
        must_not: &[],
        rules: &[Compound],
    },
    // actual: センブリ, 作業, センブリ作業, 承る — at the start of a text
    // IPADIC splits アッ|センブリ (after の it keeps アッセンブリ whole)
    Row {
        text: "アッセンブリ作業を承ります",
        must: &["アッセンブリ", "作業", "アッセンブリ作業"],
        must_not: &["センブリ"],
        rules: &[UserDict],
    },
];

/// Standards whose number must survive in some term (see the ISMS row).
const KNOWN_GAP_NUMBERS: &[(&str, &str)] = &[("ISMS(ISO/IEC 27001)認証", "27001")];

/// Spelling variants that should analyze to the same terms but do not yet.
const KNOWN_GAP_VARIANTS: &[&[&str]] = &[
    // コンピューターグラフィックス vs コンピュータグラフィックス (one katakana token each)
    &["コンピューターグラフィックス", "コンピュータグラフィックス"],
    &["ユーザーインターフェース", "ユーザインタフェース"],
    &["レーザーカッター", "レーザカッター", "レーザカッタ"],
];

fn terms_of(text: &str) -> Vec<String> {
    analyzer()
        .analyze(text)
        .into_iter()
        .map(|t| t.term)
        .collect()
}

/// Check rows; returns one message per failing row.
fn check_rows(rows: &[Row]) -> Vec<String> {
    let mut failures = Vec::new();
    for row in rows {
        let terms = analyzer().analyze(row.text);
        let got: BTreeSet<&str> = terms.iter().map(|t| t.term.as_str()).collect();
        let missing: Vec<&str> = row
            .must
            .iter()
            .copied()
            .filter(|m| !got.contains(m))
            .collect();
        let unwanted: Vec<&str> = row
            .must_not
            .iter()
            .chain(FUNCTION_WORDS)
            .copied()
            .filter(|m| got.contains(m))
            .collect();
        for t in &terms {
            assert!(
                t.start <= t.end && t.end <= row.text.len(),
                "{:?}: bad offsets {t:?}",
                row.text
            );
        }
        if !missing.is_empty() || !unwanted.is_empty() {
            let actual: Vec<String> = terms
                .iter()
                .map(|t| format!("{}[{}]", t.term, &row.text[t.start..t.end]))
                .collect();
            failures.push(format!(
                "{:?}\n    missing:  {missing:?}\n    unwanted: {unwanted:?}\n    actual:   {}",
                row.text,
                actual.join(" ")
            ));
        }
    }
    failures
}

#[test]
fn sentences_meet_the_specification() {
    assert!(
        SENTENCES.len() >= 45,
        "the table has {} rows",
        SENTENCES.len()
    );
    let failures = check_rows(SENTENCES);
    assert!(
        failures.is_empty(),
        "{} of {} rows fail:\n{}",
        failures.len(),
        SENTENCES.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_rows() {
    for rule in ALL_RULES {
        let n = SENTENCES.iter().filter(|r| r.rules.contains(rule)).count();
        assert!(n >= 3, "rule {rule:?} is covered by only {n} rows");
    }
}

#[test]
#[ignore = "analyzer gaps: ASCII-led and digit-led user-dictionary words swallowed by the code \
            scanner (MCナイロン, Oリング, X線, 3次元測定機), words missing from IPADIC (ドローン, \
            パッキン), suffixes/prefixes breaking compounds (産業用ロボット, 自動化, 高精度加工, \
            日本酒), symbol runs kept as terms, JIS B / ISO/IEC numbers lost, ー inside katakana \
            compounds not folded"]
fn known_gaps() {
    let mut failures = check_rows(KNOWN_GAPS);
    for (text, number) in KNOWN_GAP_NUMBERS {
        let terms = terms_of(text);
        if !terms.iter().any(|t| t.contains(number)) {
            failures.push(format!(
                "{text:?}: no term keeps {number}; actual {terms:?}"
            ));
        }
    }
    for group in KNOWN_GAP_VARIANTS {
        let first = terms_of(group[0]);
        for v in &group[1..] {
            let other = terms_of(v);
            if other != first {
                failures.push(format!("{:?} → {first:?} but {v:?} → {other:?}", group[0]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} known gaps still open:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn term_kinds() {
    let a = analyzer();
    let terms = a.analyze("５軸ＭＣでＳＵＳ３０４の精密部品を切削加工");
    let kind = |term: &str| {
        terms
            .iter()
            .find(|t| t.term == term)
            .unwrap_or_else(|| panic!("no term {term}: {terms:?}"))
            .kind
    };
    assert_eq!(kind("5軸"), TermKind::Code);
    assert_eq!(kind("mc"), TermKind::Code);
    assert_eq!(kind("sus304"), TermKind::Code);
    assert_eq!(kind("sus"), TermKind::Code);
    assert_eq!(kind("精密"), TermKind::Word);
    assert_eq!(kind("部品"), TermKind::Word);
    assert_eq!(kind("精密部品"), TermKind::Compound);
    assert_eq!(kind("切削加工"), TermKind::Compound);
    assert_eq!(kind("5軸mc"), TermKind::Compound);
    // the compound sits at the position of its first part
    let pos = |term: &str, kind: TermKind| {
        terms
            .iter()
            .find(|t| t.term == term && t.kind == kind)
            .unwrap()
            .position
    };
    assert_eq!(
        pos("精密部品", TermKind::Compound),
        pos("精密", TermKind::Word)
    );
    // the grade prefix shares the position and span of its code
    let code = terms.iter().find(|t| t.term == "sus304").unwrap();
    let prefix = terms.iter().find(|t| t.term == "sus").unwrap();
    assert_eq!(
        (code.start, code.end, code.position),
        (prefix.start, prefix.end, prefix.position)
    );
}

/// `&text[start..end]` is what the user wrote, whatever its width.
#[test]
fn offsets_map_back_to_the_original_text() {
    let cases: &[(&str, &str, &str)] = &[
        ("ﾏｼﾆﾝｸﾞｾﾝﾀｰによる加工", "マシニングセンタ", "ﾏｼﾆﾝｸﾞｾﾝﾀｰ"),
        ("ﾏｼﾆﾝｸﾞｾﾝﾀｰによる加工", "加工", "加工"),
        (
            "マシニングセンターで加工",
            "マシニングセンタ",
            "マシニングセンター",
        ),
        ("５軸ＭＣでＳＵＳ３０４を加工", "5軸", "５軸"),
        ("５軸ＭＣでＳＵＳ３０４を加工", "mc", "ＭＣ"),
        ("５軸ＭＣでＳＵＳ３０４を加工", "5軸mc", "５軸ＭＣ"),
        ("５軸ＭＣでＳＵＳ３０４を加工", "sus304", "ＳＵＳ３０４"),
        ("５軸ＭＣでＳＵＳ３０４を加工", "sus", "ＳＵＳ３０４"),
        ("５軸ＭＣでＳＵＳ３０４を加工", "加工", "加工"),
        ("ﾌﾟﾚｽ加工の見積", "プレス", "ﾌﾟﾚｽ"),
        ("ﾌﾟﾚｽ加工の見積", "プレス加工", "ﾌﾟﾚｽ加工"),
        ("ﾌﾟﾚｽ加工の見積", "見積", "見積"),
        // a combining semi-voiced mark composes with its base
        ("フ\u{309A}レス加工", "プレス", "フ\u{309A}レス"),
        ("ｱﾙﾏｲﾄ処理", "アルマイト", "ｱﾙﾏｲﾄ"),
        ("ｱﾙﾏｲﾄ処理", "アルマイト処理", "ｱﾙﾏｲﾄ処理"),
        ("ｻｰﾊﾞｰの保守", "サーバ", "ｻｰﾊﾞｰ"),
        ("ｺﾝﾋﾟｭｰﾀｰ制御", "コンピュータ", "ｺﾝﾋﾟｭｰﾀｰ"),
        ("JIS Q 9100に準拠", "jisq9100", "JIS Q 9100"),
        ("ＩＳＯ　９００１取得", "iso9001", "ＩＳＯ　９００１"),
        ("Φ０．１の穴", "φ0.1", "Φ０．１"),
        ("Ｗｅｂシステム", "webシステム", "Ｗｅｂシステム"),
        ("🔧ＳＵＳ３０４加工🔩", "sus304", "ＳＵＳ３０４"),
        ("🔧ＳＵＳ３０４加工🔩", "加工", "加工"),
        ("ＰＯＭ・ＰＥＥＫ", "peek", "ＰＥＥＫ"),
        ("使った", "使う", "使っ"),
    ];
    let mut failures = Vec::new();
    for &(text, term, written) in cases {
        let terms = analyzer().analyze(text);
        let found: Vec<&str> = terms
            .iter()
            .filter(|t| t.term == term)
            .map(|t| &text[t.start..t.end])
            .collect();
        if !found.contains(&written) {
            failures.push(format!(
                "{text:?}: {term} should cover {written:?}, covers {found:?} (all: {terms:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// For every row of the table: a code's or a compound's span, normalized,
/// spells the term (a grade prefix spells the start of it).
#[test]
fn spans_spell_their_terms() {
    let mut failures = Vec::new();
    for row in SENTENCES {
        for t in analyzer().analyze(row.text) {
            let slice = &row.text[t.start..t.end];
            let spelled = normalize_key(slice).replace(' ', "");
            let ok = match t.kind {
                TermKind::Code => spelled == t.term || spelled.starts_with(&t.term),
                TermKind::Compound => spelled == t.term,
                // a verb or adjective is in base form; a noun is as written
                TermKind::Word => {
                    spelled == t.term
                        || t.term
                            .chars()
                            .last()
                            .is_some_and(|c| matches!(c, '\u{3041}'..='\u{309F}'))
                }
            };
            if !ok {
                failures.push(format!("{:?}: {t:?} spans {slice:?}", row.text));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Width, case and long-vowel variants analyze to the same terms.
#[test]
fn variants_analyze_alike() {
    let groups: &[&[&str]] = &[
        &["ＭＣ５軸", "MC5軸", "mc5軸", "ＭＣ5軸"],
        &["５軸加工", "5軸加工"],
        &[
            "マシニングセンター",
            "マシニングセンタ",
            "ﾏｼﾆﾝｸﾞｾﾝﾀｰ",
            "ﾏｼﾆﾝｸﾞｾﾝﾀ",
        ],
        &["ＳＵＳ３０４", "SUS304", "sus304", "SUS 304", "ＳＵＳ 304"],
        &["ﾌﾟﾚｽ加工", "プレス加工", "フ\u{309A}レス加工"],
        &["コンピューター", "コンピュータ", "ｺﾝﾋﾟｭｰﾀｰ"],
        &["サーバーの保守", "サーバの保守", "ｻｰﾊﾞｰの保守"],
        &[
            "ISO9001",
            "ISO 9001",
            "ＩＳＯ９００１",
            "iso9001",
            "ＩＳＯ　９００１",
        ],
        &["JISQ9100", "JIS Q 9100", "ＪＩＳ Ｑ ９１００", "jisq9100"],
        &["Φ0.1", "φ0.1", "φ０．１", "Φ０．１"],
        &["ｱﾙﾏｲﾄ処理", "アルマイト処理"],
        &["ＮＣ旋盤", "NC旋盤", "nc旋盤"],
        &[
            "Ｗｅｂシステム",
            "WEBシステム",
            "webシステム",
            "Webシステム",
        ],
        &["Ａ５０５２", "A5052", "a5052"],
        &["レーザー加工", "レーザ加工", "ﾚｰｻﾞｰ加工"],
        &["プリンター", "プリンタ"],
        &["ユーザー", "ユーザ"],
        &["ワイヤーカット", "ﾜｲﾔｰｶｯﾄ"],
    ];
    let mut failures = Vec::new();
    for group in groups {
        let first = terms_of(group[0]);
        assert!(!first.is_empty(), "{:?} yields no terms", group[0]);
        for v in &group[1..] {
            let other = terms_of(v);
            if other != first {
                failures.push(format!("{:?} → {first:?} but {v:?} → {other:?}", group[0]));
            }
        }
    }
    // two-mora words keep their ー: キー is not キ
    assert_eq!(terms_of("キー"), ["キー"]);
    assert_ne!(terms_of("キー"), terms_of("キ"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn synonyms_expand_index_terms() {
    let a = analyzer();
    let syn = a.synonyms();
    assert!(!syn.is_empty());
    let expand = |phrase: &str| -> Vec<String> {
        syn.expand(&index_term(a, phrase))
            .map(str::to_owned)
            .collect()
    };
    let it = |phrase: &str| index_term(a, phrase);

    // マシニングセンタ|MC|マシニング|MC機
    assert_eq!(it("MC"), "mc");
    assert_eq!(it("ＭＣ"), "mc");
    assert_eq!(it("マシニングセンター"), it("マシニングセンタ"));
    assert!(
        expand("MC").contains(&it("マシニングセンタ")),
        "{:?}",
        expand("MC")
    );
    assert!(expand("マシニングセンター").contains(&"mc".to_owned()));
    assert_eq!(syn.canonical("mc"), Some("マシニングセンタ"));

    // NC旋盤|CNC旋盤|数値制御旋盤|NCレース
    assert_eq!(it("NC旋盤"), "nc旋盤");
    assert_eq!(it("ＣＮＣ旋盤"), "cnc旋盤");
    assert!(expand("NC旋盤").contains(&"cnc旋盤".to_owned()));
    assert!(expand("CNC旋盤").contains(&"nc旋盤".to_owned()));

    // ステンレス|SUS|ステン|ステンレス鋼|ステンレススチール
    assert_eq!(it("SUS"), "sus");
    assert!(expand("SUS").contains(&"ステンレス".to_owned()));
    assert!(expand("ステンレス").contains(&"sus".to_owned()));
    // a grade brings its prefix, and the prefix its synonyms
    let sus304: Vec<String> = terms_of("ＳＵＳ３０４");
    assert!(sus304.contains(&"sus".to_owned()));
    assert!(syn.expand("sus").any(|t| t == "ステンレス"));

    // ワイヤ放電加工|ワイヤカット|ワイヤーカット|WEDM|...
    assert!(expand("ワイヤーカット").contains(&"ワイヤ放電加工".to_owned()));
    assert!(expand("wedm").contains(&"ワイヤーカット".to_owned()));

    // user-dictionary spellings meet: 射出成形 ↔ 射出成型, 焼入れ ↔ 焼き入れ
    assert!(expand("射出成型").contains(&"射出成形".to_owned()));
    assert!(expand("焼き入れ").contains(&"焼入れ".to_owned()));

    // width and long vowels do not matter to the lookup
    assert_eq!(expand("ﾜｲﾔｰｶｯﾄ"), expand("ワイヤーカット"));

    // a term outside every group expands to nothing, and never to itself
    assert_eq!(syn.expand("加工").count(), 0);
    assert!(syn.expand("mc").all(|t| t != "mc"));
}

// ------------------------------------------------------------------- fuzzing

/// SplitMix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn in_range(&mut self, lo: u32, hi: u32) -> char {
        loop {
            let c = lo + (self.next() % u64::from(hi - lo + 1)) as u32;
            if let Some(c) = char::from_u32(c) {
                return c;
            }
        }
    }
}

/// Fragments that exercise the analyzer's own rules.
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    "ＳＵＳ３０４", "sus 304", "ISO 9001:2015", "JIS Q 9100", "jis q ", "iso ", "φ0.1", "Φ",
    "5軸", "ＭＣ５軸", "軸", "ﾏｼﾆﾝｸﾞｾﾝﾀｰ", "ﾞ", "ﾟ", "ー", "ーー", "ｰ", "ア", "カー", "キー",
    "精密部品", "の", "を", "、", "。", " ", "　", ".", "-", "/", "a-", "1/", "0.", "㈱", "①", "㌀",
    "ﷺ", "ﬁ", "İ", "K", "Ω", "ẞ", "\u{0345}", "\u{0301}", "\u{3099}", "\u{309A}", "\u{200B}",
    "\u{200D}", "\u{FEFF}", "\u{FE0F}", "\u{2028}", "\u{FFFD}", "\u{FFFF}", "\u{10FFFF}",
    "👨\u{200D}👩\u{200D}👧", "🇯🇵", "👍🏽", "Oリング", "MCナイロン", "3次元測定機", "X線",
];

#[rustfmt::skip]
fn random_char(rng: &mut Rng) -> char {
    match rng.below(14) {
        0 => rng.in_range(0x00, 0x1F),         // C0 controls
        1 => rng.in_range(0x7F, 0x9F),         // DEL, C1 controls
        2 => rng.in_range(0x20, 0x7E),         // ASCII
        3 => rng.in_range(0x3041, 0x309F),     // hiragana, voicing marks
        4 => rng.in_range(0x30A0, 0x30FF),     // katakana, ー
        5 => rng.in_range(0xFF01, 0xFF9F),     // full-width ASCII, half-width kana
        6 => rng.in_range(0x4E00, 0x9FFF),     // kanji
        7 => rng.in_range(0x0300, 0x036F),     // combining marks
        8 => rng.in_range(0x1F300, 0x1FAFF),   // emoji
        9 => rng.in_range(0x3200, 0x33FF),     // enclosed / squared compatibility
        10 => rng.in_range(0xE000, 0xF8FF),    // private use
        11 => rng.in_range(0xFB00, 0xFDFF),    // ligatures, Arabic presentation forms
        12 => rng.in_range(0x0080, 0x2FFF),    // anything else in the BMP's lower half
        _ => rng.in_range(0x10000, 0x10FFFF),  // astral (surrogates are not chars)
    }
}

fn random_text(rng: &mut Rng, max_chars: usize) -> String {
    let n = rng.below(max_chars + 1);
    let mut s = String::new();
    let mut chars = 0;
    while chars < n {
        if rng.below(4) == 0 {
            let f = FRAGMENTS[rng.below(FRAGMENTS.len())];
            s.push_str(f);
            chars += f.chars().count();
        } else {
            s.push(random_char(rng));
            chars += 1;
        }
    }
    s
}

/// Offsets in range and on char boundaries; terms non-empty; same output twice.
fn check_invariants(text: &str) {
    let a = analyzer();
    let terms: Vec<Term> = a.analyze(text);
    for t in &terms {
        assert!(
            t.start <= t.end && t.end <= text.len(),
            "offsets {}..{} out of 0..{} for {:?} in {:?}",
            t.start,
            t.end,
            text.len(),
            t.term,
            text.chars().take(200).collect::<String>()
        );
        assert!(
            text.is_char_boundary(t.start) && text.is_char_boundary(t.end),
            "offsets {}..{} not on char boundaries for {:?} in {:?}",
            t.start,
            t.end,
            t.term,
            text.chars().take(200).collect::<String>()
        );
        assert!(!t.term.is_empty(), "empty term in {text:?}");
    }
    let again = a.analyze(text);
    assert_eq!(terms, again, "analysis is not deterministic for {text:?}");
}

#[test]
fn fuzz_offsets_and_determinism() {
    check_invariants("");
    for f in FRAGMENTS {
        check_invariants(f);
    }
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for _ in 0..3000 {
        let text = random_text(&mut rng, 40);
        check_invariants(&text);
    }
    for _ in 0..100 {
        let text = random_text(&mut rng, 2000);
        check_invariants(&text);
    }
}

#[test]
fn fuzz_long_texts() {
    const N: usize = 100_000;
    let mut rng = Rng(0xDEAD_BEEF_0000_0042);
    let mut random = String::new();
    for _ in 0..N {
        random.push(random_char(&mut rng));
    }
    let repeat = |s: &str| s.repeat(N / s.chars().count());
    let texts = [
        random,
        repeat("ＳＵＳ３０４の精密部品を５軸ＭＣで加工。"),
        repeat("ア"),
        repeat("ー"),
        repeat("あ"),
        repeat("a"),
        repeat("a."),
        repeat("iso "),
        format!("a{}", "\u{0301}".repeat(N - 1)),
        repeat("ﾊﾟ"),
        repeat("🇯🇵"),
    ];
    for text in &texts {
        assert!(text.chars().count() >= N - 20);
        let t = std::time::Instant::now();
        check_invariants(text);
        eprintln!(
            "{:?}…: {} chars in {:?}",
            text.chars().take(6).collect::<String>(),
            text.chars().count(),
            t.elapsed()
        );
    }
}

/// Every member of every synonym group should be reachable: the index term
/// the synonym table stores for it must be a term the analyzer produces for
/// that same text, else the group can never match it. Today 160+ members
/// are unreachable (suffixes 用/化/機/材/鋼/箱/料 break compounds, ASCII-
/// and digit-led words are swallowed, IPADIC misreads ドローン, パッキン, …).
#[test]
#[ignore = "analyzer gap: many synonyms.tsv members have an index term the analyzer never \
            produces (see the report printed by this test)"]
fn known_gap_synonym_members_are_reachable() {
    let text = std::fs::read_to_string(fixtures::dict_dir().join("synonyms.tsv"))
        .expect("read synonyms.tsv");
    let mut dead = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for member in line.split('|').map(str::trim) {
            let it = index_term(analyzer(), member);
            let terms = terms_of(member);
            if !terms.contains(&it) {
                dead.push(format!("{member} → index term {it:?}, analyzed {terms:?}"));
            }
        }
    }
    assert!(
        dead.is_empty(),
        "{} unreachable synonym members:\n{}",
        dead.len(),
        dead.join("\n")
    );
}

/// Analysis time should grow linearly with the text. Today a text with many
/// ASCII code spans is quadratic: `analyze_normalized` re-scans every code
/// span emitted so far (`codes[..ci].iter().any(..)`) for every token.
#[test]
#[ignore = "analyzer gap: quadratic time on code-heavy text (codes[..ci] re-scanned per token)"]
fn known_gap_code_heavy_text_is_linear() {
    let time = |n: usize| {
        let text = "a b ".repeat(n / 4);
        (0..2)
            .map(|_| {
                let t = std::time::Instant::now();
                let k = analyzer().analyze(&text).len();
                assert!(k > 0);
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let small = time(20_000);
    let large = time(80_000);
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
    eprintln!(
        "20k chars {small:?}, 80k chars {large:?}, ratio {ratio:.1} (linear ≈ 4, quadratic ≈ 16)"
    );
    assert!(ratio < 8.0, "4× the text took {ratio:.1}× the time");
}
