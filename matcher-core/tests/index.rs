//! Index and search contracts (issue 4): upsert/delete by id, durability
//! (snapshot, rebuild, SIGKILL mid-import), readers during writes, search
//! behaviour (spelling variants, phrases, exclusions, bigrams, readings),
//! every filter and facet against a brute-force check, highlights, sorting,
//! paging, staleness, typed errors, and fuzzing.
//!
//! Run: `cargo test -p matcher-core --test index`

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use matcher_core::analysis::bigram::bigrams;
use matcher_core::analysis::normalize_key;
use matcher_core::generator::{Generator, GeneratorConfig};
use matcher_core::index::schema::equipment_text;
use matcher_core::index::search::{SearchError, MAX_OFFSET, MAX_PAGE_SIZE, MAX_QUERY_CHARS};
use matcher_core::index::{Filters, Hit, Near, Sort};
use matcher_core::model::{
    validate, Company, Date, Equipment, GeoPoint, MunicipalityCode, Visibility,
};
use matcher_core::{Engine, EngineError, Role, SearchRequest, SearchResponse};

use common::*;

// ---------------------------------------------------------------------------
// Corpus: the fixtures plus a few records that exercise code levels,
// locations, staleness and equipment makers the fixtures lack.

fn extras() -> Vec<Company> {
    let today = Date::today();
    let mut x1 = company(
        "x-class",
        "株式会社蒲田プレス",
        "アルミニウムのプレス加工と金型の保守。",
    );
    x1.industry_codes = vec!["2451".parse().unwrap()];
    x1.certifications = vec!["ISO9001".into(), "ISO14001".into()];
    x1.equipment = vec![Equipment {
        name: "5軸マシニングセンタ".into(),
        maker: Some("DMG森精機".into()),
        model: Some("DMU 50".into()),
        count: Some(1),
        spec: None,
    }];
    x1.employees = Some(12);
    x1.updated_at = Some(today.minus_months(25));
    x1.location = Some(GeoPoint {
        lat: 35.5620,
        lon: 139.7160,
    });

    let mut x2 = company(
        "x-group",
        "浪速金属工業株式会社",
        "鍛造品の機械加工と熱処理の手配。",
    );
    x2.industry_codes = vec!["245".parse().unwrap()];
    x2.municipality_code = "271004".parse().unwrap();
    x2.updated_at = None;
    x2.employees = None;

    let mut x3 = company(
        "x-section",
        "城南ものづくり協同組合",
        "組合員企業の共同受注と加工の取りまとめ。",
    );
    x3.industry_codes = vec!["E".parse().unwrap()];
    x3.visibility = Visibility::Restricted;
    x3.updated_at = Some(today.minus_months(23));
    x3.employees = Some(300);

    let mut x4 = company(
        "x-mold",
        "株式会社西東京モールド",
        "プラスチック射出成形用金型の設計製作と加工。",
    );
    x4.industry_codes = vec!["2691".parse().unwrap(), "18".parse().unwrap()];
    x4.municipality_code = "132292".parse().unwrap();
    x4.certifications = vec!["ISO9001".into()];
    x4.equipment = vec![Equipment {
        name: "立形マシニングセンター".into(),
        maker: Some("ＯＫＫ".into()),
        model: None,
        count: Some(2),
        spec: None,
    }];
    x4.employees = Some(50);
    vec![x1, x2, x3, x4]
}

fn corpus() -> &'static [Company] {
    static C: OnceLock<Vec<Company>> = OnceLock::new();
    C.get_or_init(|| {
        let tax = &ctx().taxonomy;
        let mut v = fixture_companies();
        for mut c in extras() {
            validate::company(&mut c, tax).expect("extra record is valid");
            v.push(c);
        }
        v
    })
}

/// One engine over the corpus, shared by the read-only tests.
fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| memory_engine(corpus().to_vec()))
}

fn by_id(id: &str) -> &'static Company {
    corpus()
        .iter()
        .find(|c| c.id.as_str() == id)
        .expect("corpus id")
}

fn ids_of(cs: impl IntoIterator<Item = &'static Company>) -> BTreeSet<String> {
    cs.into_iter().map(|c| c.id.to_string()).collect()
}

/// Everything of a company a text query can meet, normalized.
fn norm_text(c: &Company) -> String {
    normalize_key(&format!(
        "{}\n{}\n{}\n{}",
        c.name,
        c.capabilities,
        c.products.as_deref().unwrap_or(""),
        equipment_text(c)
    ))
}

/// A filter every company passes (all 47 prefectures).
fn everything() -> Filters {
    Filters {
        prefectures: (1..=47).map(|p| format!("{p:02}")).collect(),
        ..Default::default()
    }
}

fn visible(c: &Company, role: Role) -> bool {
    role != Role::Public || c.visibility == Visibility::Public
}

// ---------------------------------------------------------------------------
// Upsert, delete, re-import

#[test]
fn upsert_and_delete_by_id() {
    let a = company(
        "del-a",
        "株式会社アルファ精工",
        "チタン合金の旋盤加工を得意とします。",
    );
    let b = company(
        "del-b",
        "株式会社ベータ板金",
        "ステンレスの精密板金と溶接。",
    );
    let e = memory_engine(vec![a.clone(), b.clone()]);
    assert_eq!(e.counts().0, 2);
    assert_eq!(search(&e, &req("チタン"), Role::Public).total, 1);

    assert!(e.delete_company("del-a").unwrap());
    assert!(
        !e.delete_company("del-a").unwrap(),
        "a second delete finds nothing"
    );
    assert!(!e.delete_company("never-there").unwrap());
    assert!(!e.delete_company("not an id!").unwrap());
    assert_eq!(e.counts().0, 1);
    assert_eq!(e.company("del-a", Role::Admin).unwrap(), None);
    assert_eq!(e.company_ids(Role::Admin), ["del-b"]);
    assert_eq!(search(&e, &req("チタン"), Role::Admin).total, 0);
    let all = filter_req(Filters {
        prefectures: vec!["13".into()],
        ..Default::default()
    });
    assert_eq!(
        all_ids(&e, &all, Role::Admin),
        BTreeSet::from(["del-b".to_owned()])
    );

    // a new company takes the freed slot; nothing of the deleted one comes back
    let c = company("del-c", "株式会社ガンマ樹脂", "樹脂の射出成形。");
    e.upsert_companies(vec![c.clone()]).unwrap();
    assert_eq!(search(&e, &req("チタン"), Role::Admin).total, 0);
    let r = search(&e, &req("射出成形"), Role::Admin);
    assert_eq!(
        r.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["del-c"]
    );
    assert_eq!(r.hits[0].name, "株式会社ガンマ樹脂");
    assert_eq!(e.company("del-c", Role::Public).unwrap(), Some(c));
    // and the deleted id can come back
    e.upsert_companies(vec![a.clone()]).unwrap();
    assert_eq!(e.company("del-a", Role::Public).unwrap(), Some(a));
    assert_eq!(e.counts().0, 3);
}

#[test]
fn reimported_id_replaces_the_old_document() {
    let v1 = company("re-1", "株式会社旧名称", "アルマイト処理を専門とします。");
    let other = company("re-2", "株式会社別会社", "旋盤加工。");
    let e = memory_engine(vec![v1, other]);
    let mut v2 = company(
        "re-1",
        "株式会社新名称",
        "無電解ニッケルめっきを専門とします。",
    );
    v2.employees = Some(33);
    let s = e.upsert_companies(vec![v2.clone()]).unwrap();
    assert_eq!((s.created, s.updated), (0, 1));
    assert_eq!(e.counts().0, 2);
    assert_eq!(
        search(&e, &req("アルマイト"), Role::Public).total,
        0,
        "the old text is gone"
    );
    let r = search(&e, &req("無電解ニッケル"), Role::Public);
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].name, "株式会社新名称");
    assert_eq!(e.company("re-1", Role::Public).unwrap(), Some(v2));
    let everything = filter_req(Filters {
        prefectures: vec!["13".into()],
        ..Default::default()
    });
    let (total, hits) = all_hits(&e, &everything, Role::Public);
    assert_eq!(total, 2);
    assert_eq!(hits.iter().filter(|h| h.id == "re-1").count(), 1);

    // the same id twice in one batch: the later one wins, one document
    let w1 = company("re-3", "株式会社一号", "鋳造品の仕上げ。");
    let w2 = company("re-3", "株式会社二号", "ダイカスト品の仕上げ。");
    e.upsert_companies(vec![w1, w2.clone()]).unwrap();
    assert_eq!(e.counts().0, 3);
    let r = search(&e, &req("仕上げ"), Role::Public);
    assert_eq!(
        r.total,
        1,
        "{:?}",
        r.hits.iter().map(|h| &h.name).collect::<Vec<_>>()
    );
    assert_eq!(r.hits[0].name, "株式会社二号");
    assert_eq!(e.company("re-3", Role::Public).unwrap(), Some(w2));
}

// ---------------------------------------------------------------------------
// Durability

/// What a reader can observe of an engine, for before/after comparisons.
#[derive(Debug, PartialEq)]
struct Observed {
    ids: Vec<String>,
    companies: Vec<Option<Company>>,
    needs: Vec<String>,
    searches: Vec<(usize, Vec<(String, String, u32, bool)>, String)>,
}

const PROBE_QUERIES: &[&str] = &[
    "マシニングセンター 5軸",
    "SUS304 溶接",
    "めっき 研磨",
    "はちおうじ",
    "\"精密部品\" -樹脂",
];

fn observe(e: &Engine) -> Observed {
    let ids = e.company_ids(Role::Coordinator);
    let companies = ids
        .iter()
        .map(|id| e.company(id, Role::Coordinator).unwrap())
        .collect();
    let needs = e
        .needs(Role::Coordinator)
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    let searches = PROBE_QUERIES
        .iter()
        .map(|q| {
            let mut r = req(q);
            r.highlight = false;
            let r = search(e, &r, Role::Coordinator);
            let hits = r
                .hits
                .iter()
                .map(|h| (h.id.clone(), h.name.clone(), h.score.to_bits(), h.stale))
                .collect();
            (r.total, hits, format!("{:?}", r.facets))
        })
        .collect();
    Observed {
        ids,
        companies,
        needs,
        searches,
    }
}

/// Compare piece by piece so a failure names what differs. Scores must be
/// bit-identical for the same index files; across two separately built
/// indexes (memory vs disk) tantivy may split documents into segments
/// differently, which moves float sums by an ULP or two, so there the
/// hits are compared by id with scores within 1e-5 (relative).
fn assert_same(a: &Observed, b: &Observed, what: &str) {
    assert_same_with(a, b, what, true)
}

fn assert_same_with(a: &Observed, b: &Observed, what: &str, exact: bool) {
    assert_eq!(a.ids, b.ids, "{what}: ids");
    for (x, y) in a.companies.iter().zip(&b.companies) {
        assert_eq!(x, y, "{what}: stored record");
    }
    assert_eq!(a.needs, b.needs, "{what}: needs");
    for ((q, x), y) in PROBE_QUERIES.iter().zip(&a.searches).zip(&b.searches) {
        assert_eq!(x.0, y.0, "{what}: total of {q}");
        if exact {
            assert_eq!(x.1, y.1, "{what}: hits of {q}");
        } else {
            let key = |v: &Vec<(String, String, u32, bool)>| {
                let mut m: Vec<(String, String, bool, f32)> = v
                    .iter()
                    .map(|h| (h.0.clone(), h.1.clone(), h.3, f32::from_bits(h.2)))
                    .collect();
                m.sort_by(|p, q| p.0.cmp(&q.0));
                m
            };
            let (kx, ky) = (key(&x.1), key(&y.1));
            assert_eq!(kx.len(), ky.len(), "{what}: hits of {q}");
            for (h, k) in kx.iter().zip(&ky) {
                assert_eq!((&h.0, &h.1, h.2), (&k.0, &k.1, k.2), "{what}: hits of {q}");
                assert!(
                    (h.3 - k.3).abs() <= 1e-5 * h.3.abs().max(1.0),
                    "{what}: score of {} for {q}",
                    h.0
                );
            }
        }
        assert_eq!(x.2, y.2, "{what}: facets of {q}");
    }
}

fn first_hit_name(e: &Engine, q: &str, id: &str) -> String {
    let (_, hits) = all_hits(e, &req(q), Role::Coordinator);
    hits.into_iter().find(|h| h.id == id).expect("hit").name
}

#[test]
fn reopen_uses_the_snapshot_or_rebuilds_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let companies: Vec<Company> = fixture_companies().into_iter().take(80).collect();
    let marked = companies[3].id.to_string();
    let marked_name = companies[3].name.clone();
    let before = {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        e.upsert_companies(companies.clone()).unwrap();
        e.upsert_needs(fixture_needs().into_iter().take(10).collect())
            .unwrap();
        e.save_snapshot().unwrap();
        observe(&e)
    };
    assert_eq!(before.ids.len(), 80);
    assert!(
        before.searches.iter().all(|s| s.0 > 0),
        "probe queries find something: {:?}",
        before.searches.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let snap = dir.path().join("snapshot.bin");
    assert!(snap.exists());

    // plain reopen
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        assert_same(&observe(&e), &before, "reopened");
    }

    // Prove the snapshot is what a reopen reads: rewrite it (same opstamps,
    // valid checksum) with one feature changed, and see the change.
    let stamps = matcher_core::index::persist::commits(&snap).unwrap();
    let ont = ctx().ontology.fingerprint();
    let mut records = matcher_core::index::persist::load(&snap, stamps, ont).unwrap();
    let slot = records.companies.slot_of(&marked).unwrap();
    std::sync::Arc::make_mut(records.companies.entries[slot as usize].as_mut().unwrap()).name =
        "スナップショット由来".into();
    matcher_core::index::persist::save(&snap, &records, stamps, ont).unwrap();
    let q = companies[3].name.clone();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        assert_eq!(
            first_hit_name(&e, &q, &marked),
            "スナップショット由来",
            "snapshot was not used"
        );
    }

    // corrupt payload → refused and rebuilt from the index
    let mut bad = std::fs::read(&snap).unwrap();
    let last = bad.len() - 10;
    bad[last] ^= 0x5a;
    std::fs::write(&snap, &bad).unwrap();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        assert_eq!(
            first_hit_name(&e, &q, &marked),
            marked_name,
            "rebuilt from the index"
        );
        assert_same(&observe(&e), &before, "reopened");
    }
    // truncated header → rebuilt
    std::fs::write(&snap, &bad[..20]).unwrap();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        assert_same(&observe(&e), &before, "reopened");
    }
    // deleted → rebuilt
    std::fs::remove_file(&snap).unwrap();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        assert_same(&observe(&e), &before, "reopened");
        // and a fresh snapshot from the rebuilt state is equivalent
        e.save_snapshot().unwrap();
    }
    let e = Engine::open(dir.path(), ctx()).unwrap();
    assert_same(&observe(&e), &before, "reopened");
}

/// The snapshot round-trips through `persist` whatever the records hold
/// (needs with and without their optional fields included).
#[test]
fn snapshot_round_trips_companies_and_needs() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), ctx()).unwrap();
    e.upsert_companies(fixture_companies().into_iter().take(20).collect())
        .unwrap();
    let snap = dir.path().join("snapshot.bin");
    let stamps = |p: &Path| matcher_core::index::persist::commits(p).unwrap();
    e.save_snapshot().unwrap();
    let r = matcher_core::index::persist::load(&snap, stamps(&snap), e.ctx.ontology.fingerprint())
        .expect("companies only");
    assert_eq!(r.companies.len(), 20);
    let needs = fixture_needs();
    assert!(needs
        .iter()
        .any(|n| n.company_id.is_none() || n.region.is_none()));
    e.upsert_needs(needs.clone()).unwrap();
    e.save_snapshot().unwrap();
    let r = matcher_core::index::persist::load(&snap, stamps(&snap), e.ctx.ontology.fingerprint())
        .expect("with needs");
    assert_eq!(r.needs.len(), needs.len());
    for n in &needs {
        let slot = r.needs.slot_of(n.id.as_str()).unwrap();
        assert_eq!(&r.needs.get(slot).unwrap().need, n);
    }
}

#[test]
fn writes_after_the_snapshot_make_it_stale_not_wrong() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        e.upsert_companies(vec![
            company("st-a", "株式会社エー", "アルマイト処理。"),
            company("st-b", "株式会社ビー", "旋盤加工。"),
        ])
        .unwrap();
        e.save_snapshot().unwrap();
        // not saved again: the snapshot no longer matches the index
        e.upsert_companies(vec![
            company("st-c", "株式会社シー", "レーザー溶接。"),
            company("st-b", "株式会社ビー改", "研削加工。"),
        ])
        .unwrap();
        assert!(e.delete_company("st-a").unwrap());
    }
    let e = Engine::open(dir.path(), ctx()).unwrap();
    assert_eq!(e.company_ids(Role::Admin), ["st-b", "st-c"]);
    assert_eq!(search(&e, &req("アルマイト"), Role::Admin).total, 0);
    assert_eq!(search(&e, &req("旋盤"), Role::Admin).total, 0);
    let r = search(&e, &req("研削"), Role::Admin);
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].name, "株式会社ビー改");
    let r = search(&e, &req("溶接"), Role::Admin);
    assert_eq!(
        r.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["st-c"]
    );
}

#[test]
fn a_data_folder_of_another_format_is_refused_with_what_to_do() {
    use matcher_core::engine::FORMAT_VERSION;
    let dir = tempfile::tempdir().unwrap();
    // A real folder of this format, then its version tampered with.
    Engine::open(dir.path(), ctx()).unwrap();
    let format = dir.path().join("FORMAT");
    assert_eq!(
        std::fs::read_to_string(&format).unwrap().trim(),
        format!("matcher-data {FORMAT_VERSION}")
    );
    let older = FORMAT_VERSION - 1;
    let newer = FORMAT_VERSION + 1;
    for (written, says) in [
        (
            format!("matcher-data {older}\n"),
            vec![format!("format {older}"), "older".into(), "import".into()],
        ),
        (
            format!("matcher-data {newer}\n"),
            vec![
                format!("format {newer}"),
                "newer".into(),
                "Run the newer matcher".into(),
            ],
        ),
        (
            "something else\n".to_owned(),
            vec![
                "\"something else\"".into(),
                "Is it a matcher data folder".into(),
            ],
        ),
    ] {
        std::fs::write(&format, &written).unwrap();
        let msg = match Engine::open(dir.path(), ctx()) {
            Err(e @ EngineError::Format { .. }) => e.to_string(),
            Err(other) => panic!("expected a format error, got {other}"),
            Ok(_) => panic!("expected a format error for {written:?}"),
        };
        assert!(
            msg.contains(&format!("reads format {FORMAT_VERSION}")),
            "names this build's version: {msg}"
        );
        for s in says {
            assert!(msg.contains(&s), "{s:?} missing from: {msg}");
        }
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
        // Refused before anything is touched.
        assert_eq!(std::fs::read_to_string(&format).unwrap(), written);
    }
}

const CHILD_ENV: &str = "MATCHER_TEST_KILL_CHILD_DIR";
/// Companies per upsert call (= per commit) in the child.
const CHILD_BATCH: usize = 25;

fn generated_id(i: usize) -> String {
    format!("g{:07}", i + 1)
}

/// The child of `sigkill_mid_import_keeps_committed_batches`: an endless
/// import of generated companies, one commit per batch, reporting each
/// commit on stdout. Does nothing unless started by that test.
#[test]
#[ignore = "helper: child process of sigkill_mid_import_keeps_committed_batches"]
fn kill_test_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let ctx = ctx();
    let engine = Engine::open(Path::new(&dir), ctx.clone()).expect("child opens the data folder");
    let g = Generator::new(
        &GeneratorConfig {
            companies: 1_000_000,
            needs: 0,
            seed: 42,
        },
        &ctx.taxonomy,
    );
    for batch in 0.. {
        let companies: Vec<Company> = (batch * CHILD_BATCH..(batch + 1) * CHILD_BATCH)
            .map(|i| {
                let mut c = g.company(i);
                assert_eq!(c.id.as_str(), generated_id(i));
                validate::company(&mut c, &ctx.taxonomy).expect("generated company is valid");
                c
            })
            .collect();
        engine.upsert_companies(companies).expect("upsert");
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "committed {}", (batch + 1) * CHILD_BATCH).unwrap();
        out.flush().unwrap();
    }
}

#[cfg(unix)]
#[test]
fn sigkill_mid_import_keeps_committed_batches() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "kill_test_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<usize>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("committed ") {
                if tx.send(n.trim().parse().unwrap()).is_err() {
                    break;
                }
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen = 0;
    while seen < 4 * CHILD_BATCH {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(n) => seen = n,
            Err(_) => {
                let _ = child.kill();
                panic!("the child did not commit 4 batches in time (last seen {seen})");
            }
        }
    }
    // land somewhere inside the next batch
    std::thread::sleep(Duration::from_millis(37));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    drop(rx);
    reader.join().unwrap();

    let e = Engine::open(dir.path(), ctx()).expect("reopen after SIGKILL");
    let n = e.counts().0;
    assert!(n >= seen, "every reported commit survives: {n} < {seen}");
    assert_eq!(n % CHILD_BATCH, 0, "only whole batches: {n}");
    let ids = e.company_ids(Role::Admin);
    let want: Vec<String> = (0..n).map(generated_id).collect();
    assert_eq!(ids, want, "exactly the first {n} generated companies");
    for id in want.iter().step_by(7).chain(want.last()) {
        let c = e
            .company(id, Role::Admin)
            .unwrap()
            .expect("retrievable by id");
        assert_eq!(c.id.as_str(), id);
    }
    assert_eq!(e.company(&generated_id(n), Role::Admin).unwrap(), None);
    // the index answers, by role, and can be written again
    assert_eq!(search(&e, &filter_req(everything()), Role::Admin).total, n);
    let public = want
        .iter()
        .filter(|id| e.company(id, Role::Admin).unwrap().unwrap().visibility == Visibility::Public)
        .count();
    assert_eq!(
        search(&e, &filter_req(everything()), Role::Public).total,
        public
    );
    e.upsert_companies(vec![company(
        "after-kill",
        "株式会社再開",
        "再開後の登録。",
    )])
    .unwrap();
    assert_eq!(e.counts().0, n + 1);
}

#[test]
fn readers_keep_answering_while_a_writer_imports() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), ctx()).unwrap();
    let pre: Vec<Company> = fixture_companies().into_iter().take(60).collect();
    e.upsert_companies(pre.clone()).unwrap();
    let g = Generator::new(
        &GeneratorConfig {
            companies: 10_000,
            needs: 0,
            seed: 9,
        },
        &ctx().taxonomy,
    );
    let batches: Vec<Vec<Company>> = (0..5)
        .map(|b| (b * 60..(b + 1) * 60).map(|i| g.company(i)).collect())
        .collect();
    let done = AtomicBool::new(false);
    let q = filter_req(everything());
    let start_total = search(&e, &q, Role::Admin).total;
    let (searches, totals) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut totals = Vec::new();
            let mut n = 0;
            while !done.load(Ordering::Acquire) || n < 3 {
                let r = e.search(&q, Role::Admin).expect("search during import");
                totals.push(r.total);
                let t = e
                    .search(&req("加工"), Role::Admin)
                    .expect("text search during import");
                assert!(t.total > 0);
                let c = e
                    .company(pre[n % pre.len()].id.as_str(), Role::Admin)
                    .expect("get");
                assert!(c.is_some(), "an existing company stays readable");
                n += 1;
            }
            (n, totals)
        });
        for b in batches {
            e.upsert_companies(b).unwrap();
        }
        done.store(true, Ordering::Release);
        reader.join().unwrap()
    });
    assert!(searches >= 3);
    assert!(
        totals.windows(2).all(|w| w[0] <= w[1]),
        "totals never go back: {totals:?}"
    );
    let end_total = search(&e, &q, Role::Admin).total;
    assert_eq!(start_total, 60);
    assert_eq!(end_total, 60 + 300);
    assert!(totals.iter().all(|t| (start_total..=end_total).contains(t)));
}

const STRESS_ENV: &str = "MATCHER_TEST_MATCHING_STRESS_CHILD";

/// The child of `matching_readers_and_writers_do_not_deadlock`: matching
/// (parallel, rayon) in two threads while a third thread upserts.
#[test]
#[ignore = "helper: child process of matching_readers_and_writers_do_not_deadlock"]
fn matching_stress_child() {
    if std::env::var_os(STRESS_ENV).is_none() {
        return;
    }
    let e = memory_engine(fixture_companies());
    e.upsert_needs(fixture_needs()).unwrap();
    let opts = matcher_core::matching::MatchOptions {
        top_k: 2,
        explain: false,
        ..Default::default()
    };
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|k| {
                let (e, opts) = (&e, &opts);
                s.spawn(move || {
                    for _ in 0..3 {
                        if k == 0 {
                            e.matcher()
                                .opportunities("tk-001", Role::Coordinator, opts)
                                .unwrap();
                        } else {
                            e.matcher()
                                .match_need_id("n-002", Role::Public, opts)
                                .unwrap();
                            e.matcher()
                                .opportunities("tk-002", Role::Public, opts)
                                .unwrap();
                        }
                    }
                })
            })
            .collect();
        let writer = s.spawn(|| {
            let mut i = 0;
            while !done.load(Ordering::Acquire) {
                let c = company(&format!("stress-{i}"), "株式会社負荷", "旋盤加工。");
                e.upsert_companies(vec![c]).unwrap();
                i += 1;
            }
        });
        for r in readers {
            r.join().unwrap();
        }
        done.store(true, Ordering::Release);
        writer.join().unwrap();
    });
    println!("stress done");
}

/// Matching readers and a writer at once finish (run in a child process so
/// that a deadlock fails this test instead of hanging the test binary).
#[cfg(unix)]
#[test]
fn matching_readers_and_writers_do_not_deadlock() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "matching_stress_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STRESS_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            use std::io::Read;
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            assert!(
                status.success() && out.contains("stress done"),
                "{status:?}: {out}"
            );
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("matching and upserts deadlocked (child did not finish in 120 s)");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn in_memory_and_on_disk_engines_agree() {
    let dir = tempfile::tempdir().unwrap();
    let companies: Vec<Company> = corpus().iter().take(120).cloned().collect();
    let disk = Engine::open(dir.path(), ctx()).unwrap();
    disk.upsert_companies(companies.clone()).unwrap();
    let mem = memory_engine(companies);
    assert!(mem.data_dir().is_none());
    assert_eq!(mem.disk_size(), 0);
    assert!(disk.disk_size() > 0);
    assert_same_with(&observe(&mem), &observe(&disk), "memory vs disk", false);
    for q in PROBE_QUERIES {
        let a = search(&mem, &req(q), Role::Public);
        let b = search(&disk, &req(q), Role::Public);
        assert_eq!(a.total, b.total, "{q}");
        assert_eq!(a.facets, b.facets, "{q}");
        let snippets = |r: &SearchResponse| {
            let mut v: Vec<(String, Vec<matcher_core::index::snippet::Snippet>)> = r
                .hits
                .iter()
                .map(|h| (h.id.clone(), h.snippets.clone()))
                .collect();
            v.sort_by(|x, y| x.0.cmp(&y.0));
            v
        };
        assert_eq!(snippets(&a), snippets(&b), "{q}");
    }
}

// ---------------------------------------------------------------------------
// Search behaviour

/// A query written with マシニングセンター, ＭＣ or ５軸 finds what was
/// written マシニングセンタ, MC or 5軸 (checked over the whole corpus).
#[test]
fn spelling_variants_meet_in_the_fixtures() {
    let e = engine();
    let has_mc = |t: &str| {
        let b = t.as_bytes();
        t.match_indices("mc").any(|(i, _)| {
            let before = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            let after = b.get(i + 2).is_none_or(|c| !c.is_ascii_lowercase());
            before && after
        })
    };
    let has_5axis = |t: &str| {
        t.match_indices("5軸")
            .any(|(i, _)| i == 0 || !matches!(t.as_bytes()[i - 1], b'0'..=b'9' | b'.'))
    };
    let mc_centre: BTreeSet<String> = ids_of(
        corpus()
            .iter()
            .filter(|c| norm_text(c).contains("マシニングセンタ")),
    );
    let mc: BTreeSet<String> = ids_of(corpus().iter().filter(|c| has_mc(&norm_text(c))));
    let axis5: BTreeSet<String> = ids_of(corpus().iter().filter(|c| has_5axis(&norm_text(c))));
    assert!(mc_centre.len() >= 20 && mc.len() >= 5 && axis5.len() >= 5);

    let found = |q: &str| all_ids(e, &req(q), Role::Coordinator);
    for (q, want) in [
        ("マシニングセンター", &mc_centre),
        ("ﾏｼﾆﾝｸﾞｾﾝﾀｰ", &mc_centre),
        ("ＭＣ", &mc),
        ("ＭＣ", &mc_centre),
        ("５軸", &axis5),
    ] {
        let got = found(q);
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(missing.is_empty(), "{q} misses {missing:?}");
    }
}

/// The same on small records, both directions, with a control record.
#[test]
fn spelling_variants_meet_on_small_records() {
    let e = memory_engine(vec![
        company(
            "sv-long",
            "株式会社長音",
            "立形マシニングセンターで部品を削ります。",
        ),
        company("sv-mc", "株式会社略称", "ＭＣ3台で量産対応。"),
        company("sv-half", "株式会社半角", "ﾏｼﾆﾝｸﾞｾﾝﾀｰによる試作。"),
        company("sv-5ax", "株式会社五軸", "同時５軸加工機でインペラを加工。"),
        company("sv-none", "株式会社対照", "樹脂の射出成形と組立。"),
    ]);
    let ids = |q: &str| all_ids(&e, &req(q), Role::Public);
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    for q in ["マシニングセンタ", "マシニングセンター", "MC", "ｍｃ"] {
        assert_eq!(ids(q), set(&["sv-long", "sv-mc", "sv-half"]), "{q}");
    }
    assert_eq!(ids("5軸"), set(&["sv-5ax"]));
    assert_eq!(ids("５軸"), set(&["sv-5ax"]));
}

#[test]
fn exact_phrase_in_quotes() {
    let e = memory_engine(vec![
        company("ph-1", "株式会社一", "アルミの精密部品加工を行います。"),
        company("ph-2", "株式会社二", "精密な試作と部品の検査を行います。"),
        company("ph-3", "株式会社三", "樹脂部品の精密加工。"),
    ]);
    let ids = |q: &str| all_ids(&e, &req(q), Role::Public);
    assert_eq!(ids("\"精密部品\""), BTreeSet::from(["ph-1".to_owned()]));
    assert_eq!(ids("「精密部品」"), BTreeSet::from(["ph-1".to_owned()]));
    assert_eq!(
        ids("精密 部品").len(),
        3,
        "without quotes the words need not be adjacent"
    );
    assert!(ids("\"部品精密\"").is_empty(), "order matters in a phrase");
}

/// `-word` removes exactly the records containing the word, relative to
/// the same query without it (brute force over the corpus).
#[test]
fn exclusion_with_a_leading_minus() {
    let e = engine();
    let a = &ctx().analyzer;
    let contains_term = |c: &Company, term: &str| {
        let mut terms = a.analyze(&c.name);
        terms.extend(a.analyze_scoped(&c.capabilities, false));
        terms.extend(a.analyze_scoped(c.products.as_deref().unwrap_or(""), false));
        terms.extend(a.analyze(&equipment_text(c)));
        terms.iter().any(|t| t.term == term)
    };
    for (q, x) in [("加工", "溶接"), ("部品 試作", "樹脂"), ("検査", "測定")] {
        let base = all_ids(e, &req(q), Role::Coordinator);
        let with_x: BTreeSet<String> = ids_of(corpus().iter().filter(|c| contains_term(c, x)));
        let want: BTreeSet<String> = base.difference(&with_x).cloned().collect();
        assert!(
            want.len() < base.len(),
            "{q} -{x}: the exclusion must matter"
        );
        assert!(!want.is_empty());
        for minus in ["-", "－"] {
            let got = all_ids(e, &req(&format!("{q} {minus}{x}")), Role::Coordinator);
            assert_eq!(got, want, "{q} {minus}{x}");
        }
    }
    // exclusion alone: everything but
    let got = all_ids(e, &req("-溶接"), Role::Coordinator);
    let want = ids_of(corpus().iter().filter(|c| !contains_term(c, "溶接")));
    assert_eq!(got, want);
}

#[test]
fn bigrams_match_parts_of_compounds_but_not_single_characters() {
    let a = &ctx().analyzer;
    // the premise: the analyzer keeps these compounds as single words
    for w in ["関西国際空港", "羽田空港"] {
        let t: Vec<String> = a.analyze(w).into_iter().map(|t| t.term).collect();
        assert_eq!(t, [w], "premise: {w} is one word");
    }
    let e = memory_engine(vec![
        company("bg-kix", "株式会社関西", "関西国際空港の保守部品を製作。"),
        company("bg-hnd", "株式会社羽田", "羽田空港の近くで整備治具を製作。"),
        company("bg-five", "株式会社五台", "NC旋盤を5台保有し量産に対応。"),
        company("bg-none", "株式会社南北", "樹脂の射出成形。"),
    ]);
    let ids = |q: &str| all_ids(&e, &req(q), Role::Public);
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(ids("空港"), set(&["bg-kix", "bg-hnd"]));
    assert_eq!(ids("国際空港"), set(&["bg-kix"]), "most bigrams must match");
    assert!(
        ids("港").is_empty(),
        "one kanji does not match inside a compound"
    );
    assert!(ids("空").is_empty());
    assert!(
        !ids("５軸").contains("bg-five"),
        "a lone digit (5台) must not match 5軸"
    );
}

#[test]
fn reading_search_with_kana_and_dictionary_readings() {
    let mut koujiya = company("rd-kana", "有限会社糀谷精機製作所", "シャフトの旋盤加工。");
    koujiya.name_kana = Some("コウジヤセイキセイサクショ".into());
    // no name_kana: the reading comes from the dictionary
    let omori = company("rd-dict", "大森精機株式会社", "治具の設計製作。");
    let mut kamata = company("rd-ctrl", "蒲田電子工業", "基板実装。");
    kamata.name_kana = Some("カマタデンシコウギョウ".into());
    let e = memory_engine(vec![koujiya, omori, kamata]);
    let ids = |q: &str| all_ids(&e, &req(q), Role::Public);
    let one = |id: &str| BTreeSet::from([id.to_owned()]);
    assert_eq!(ids("こうじやせいき"), one("rd-kana"));
    assert_eq!(ids("コウジヤセイキ"), one("rd-kana"));
    assert_eq!(ids("ｺｳｼﾞﾔｾｲｷ"), one("rd-kana"));
    assert_eq!(ids("おおもりせいき"), one("rd-dict"));
    assert_eq!(ids("オオモリ"), one("rd-dict"));
    assert_eq!(ids("かまたでんし"), one("rd-ctrl"));
}

// ---------------------------------------------------------------------------
// Filters and facets against brute force

/// The documented meaning of each filter, written independently.
fn brute_filter(c: &Company, f: &Filters) -> bool {
    let tax = &ctx().taxonomy;
    if !f.jsic.is_empty() {
        let mut wants: Vec<String> = Vec::new();
        for j in &f.jsic {
            if let Some(cl) = tax.cluster(j) {
                wants.extend(cl.codes.iter().map(|c| c.to_string()));
            } else if j.len() == 1 {
                wants.push(j.clone());
                wants.extend(
                    tax.jsic_entries()
                        .filter(|e| {
                            e.parent.as_deref() == Some(j.as_str()) && e.code.as_str().len() == 2
                        })
                        .map(|e| e.code.to_string()),
                );
            } else {
                wants.push(j.clone());
            }
        }
        if !c
            .industry_codes
            .iter()
            .any(|h| wants.iter().any(|w| h.as_str().starts_with(w.as_str())))
        {
            return false;
        }
    }
    if !f.municipalities.is_empty() && !f.municipalities.contains(&c.municipality_code) {
        return false;
    }
    if !f.prefectures.is_empty()
        && !f
            .prefectures
            .iter()
            .any(|p| p.parse::<u8>().ok() == Some(c.municipality_code.prefecture()))
    {
        return false;
    }
    if let Some(n) = &f.near {
        let centre = match n.municipality {
            Some(m) => tax.municipality(m).unwrap().office,
            None => GeoPoint {
                lat: n.lat.unwrap(),
                lon: n.lon.unwrap(),
            },
        };
        let at = c.location.or_else(|| tax.office(c.municipality_code));
        match at {
            Some(p) if haversine_km((p.lat, p.lon), (centre.lat, centre.lon)) <= n.km => {}
            _ => return false,
        }
    }
    let have: BTreeSet<String> = c
        .certifications
        .iter()
        .map(|x| tax.canonical_certification(x))
        .collect();
    if !f
        .certifications
        .iter()
        .all(|w| have.contains(&tax.canonical_certification(w)))
    {
        return false;
    }
    if let Some(term) = &f.equipment {
        let term = normalize_key(term);
        if !c.equipment.iter().any(|e| {
            [Some(&e.name), e.maker.as_ref(), e.model.as_ref()]
                .into_iter()
                .flatten()
                .any(|p| normalize_key(p).contains(&term))
        }) {
            return false;
        }
    }
    if let Some(min) = f.employees_min {
        if !c.employees.is_some_and(|n| n >= min) {
            return false;
        }
    }
    if let Some(max) = f.employees_max {
        if !c.employees.is_some_and(|n| n <= max) {
            return false;
        }
    }
    if let Some(since) = f.updated_since {
        if !c.updated_at.is_some_and(|d| d >= since) {
            return false;
        }
    }
    if f.exclude_stale
        && !c
            .updated_at
            .is_some_and(|d| d >= Date::today().minus_months(24))
    {
        return false;
    }
    if let Some(v) = f.visibility {
        if c.visibility != v {
            return false;
        }
    }
    true
}

fn muni(s: &str) -> MunicipalityCode {
    s.parse().unwrap()
}

fn filter_cases() -> Vec<(&'static str, Filters)> {
    let d = Filters::default;
    vec![
        (
            "jsic division",
            Filters {
                jsic: vec!["24".into()],
                ..d()
            },
        ),
        (
            "jsic group",
            Filters {
                jsic: vec!["245".into()],
                ..d()
            },
        ),
        (
            "jsic class",
            Filters {
                jsic: vec!["2451".into()],
                ..d()
            },
        ),
        (
            "jsic other class",
            Filters {
                jsic: vec!["2452".into()],
                ..d()
            },
        ),
        (
            "jsic section",
            Filters {
                jsic: vec!["E".into()],
                ..d()
            },
        ),
        (
            "jsic two",
            Filters {
                jsic: vec!["726".into(), "18".into()],
                ..d()
            },
        ),
        (
            "cluster",
            Filters {
                jsic: vec!["monozukuri_metal".into()],
                ..d()
            },
        ),
        (
            "cluster mold",
            Filters {
                jsic: vec!["mold_die".into()],
                ..d()
            },
        ),
        (
            "cluster soft",
            Filters {
                jsic: vec!["soft_monozukuri".into()],
                ..d()
            },
        ),
        (
            "municipality",
            Filters {
                municipalities: vec![muni("131113")],
                ..d()
            },
        ),
        (
            "municipality 5-digit",
            Filters {
                municipalities: vec![muni("13229"), muni("271004")],
                ..d()
            },
        ),
        (
            "prefecture",
            Filters {
                prefectures: vec!["13".into()],
                ..d()
            },
        ),
        (
            "prefecture osaka",
            Filters {
                prefectures: vec!["27".into()],
                ..d()
            },
        ),
        (
            "near point",
            Filters {
                near: Some(Near {
                    lat: Some(35.5614),
                    lon: Some(139.7161),
                    municipality: None,
                    km: 4.0,
                }),
                ..d()
            },
        ),
        (
            "near municipality",
            Filters {
                near: Some(Near {
                    lat: None,
                    lon: None,
                    municipality: Some(muni("132292")),
                    km: 12.5,
                }),
                ..d()
            },
        ),
        (
            "certifications all-of",
            Filters {
                certifications: vec!["ＩＳＯ９００１".into(), "ISO 14001:2015".into()],
                ..d()
            },
        ),
        (
            "certification one",
            Filters {
                certifications: vec!["プライバシーマーク".into()],
                ..d()
            },
        ),
        (
            "equipment name",
            Filters {
                equipment: Some("マシニングセンター".into()),
                ..d()
            },
        ),
        (
            "equipment maker",
            Filters {
                equipment: Some("ＤＭＧ".into()),
                ..d()
            },
        ),
        (
            "employees range",
            Filters {
                employees_min: Some(10),
                employees_max: Some(50),
                ..d()
            },
        ),
        (
            "employees min",
            Filters {
                employees_min: Some(100),
                ..d()
            },
        ),
        (
            "employees max",
            Filters {
                employees_max: Some(9),
                ..d()
            },
        ),
        (
            "updated since",
            Filters {
                updated_since: Some("2025-06-01".parse().unwrap()),
                ..d()
            },
        ),
        (
            "exclude stale",
            Filters {
                exclude_stale: true,
                ..d()
            },
        ),
        (
            "visibility restricted",
            Filters {
                visibility: Some(Visibility::Restricted),
                ..d()
            },
        ),
        (
            "visibility public",
            Filters {
                visibility: Some(Visibility::Public),
                ..d()
            },
        ),
        (
            "combined",
            Filters {
                jsic: vec!["machinery".into(), "24".into()],
                prefectures: vec!["13".into()],
                certifications: vec!["ISO9001".into()],
                employees_min: Some(5),
                exclude_stale: true,
                ..d()
            },
        ),
    ]
}

#[test]
fn every_filter_matches_brute_force() {
    let e = engine();
    let text = all_ids(e, &req("加工"), Role::Coordinator);
    assert!(text.len() > 50);
    for (name, f) in filter_cases() {
        for role in [Role::Coordinator, Role::Public] {
            let want: BTreeSet<String> = ids_of(
                corpus()
                    .iter()
                    .filter(|c| visible(c, role) && brute_filter(c, &f)),
            );
            // near: leave out records within a metre of the boundary
            let fuzzy: BTreeSet<String> = match &f.near {
                None => BTreeSet::new(),
                Some(_) => {
                    let mut g = f.clone();
                    g.near.as_mut().unwrap().km += 0.001;
                    let outer = ids_of(corpus().iter().filter(|c| brute_filter(c, &g)));
                    g.near.as_mut().unwrap().km -= 0.002;
                    let inner = ids_of(corpus().iter().filter(|c| brute_filter(c, &g)));
                    outer.difference(&inner).cloned().collect()
                }
            };
            let got = all_ids(e, &filter_req(f.clone()), role);
            let d1: Vec<_> = got
                .symmetric_difference(&want)
                .filter(|x| !fuzzy.contains(*x))
                .collect();
            assert!(d1.is_empty(), "{name} ({role:?}): differs on {d1:?}");
            if role == Role::Coordinator
                && !name.starts_with("jsic other")
                && name != "employees min"
            {
                assert!(!want.is_empty(), "{name}: the case selects something");
                assert!(
                    want.len() < corpus().len(),
                    "{name}: the case filters something"
                );
            }
            // with a text query the filter intersects the text hits
            let mut r = req("加工");
            r.filters = f.clone();
            let got = all_ids(e, &r, role);
            let text_role: BTreeSet<String> = if role == Role::Coordinator {
                text.clone()
            } else {
                all_ids(e, &req("加工"), role)
            };
            let want2: BTreeSet<String> = text_role.intersection(&want).cloned().collect();
            let d2: Vec<_> = got
                .symmetric_difference(&want2)
                .filter(|x| !fuzzy.contains(*x))
                .collect();
            assert!(d2.is_empty(), "{name} + text ({role:?}): differs on {d2:?}");
        }
    }
}

fn brute_facets(ids: &BTreeSet<String>) -> [BTreeMap<String, usize>; 3] {
    let tax = &ctx().taxonomy;
    let mut div = BTreeMap::new();
    let mut mun = BTreeMap::new();
    let mut cert = BTreeMap::new();
    for id in ids {
        let c = by_id(id);
        let ds: BTreeSet<String> = c
            .industry_codes
            .iter()
            .filter(|j| j.as_str().len() >= 2)
            .map(|j| j.as_str()[..2].to_owned())
            .collect();
        for d in ds {
            *div.entry(d).or_default() += 1;
        }
        *mun.entry(c.municipality_code.to_string()).or_default() += 1;
        let cs: BTreeSet<String> = c
            .certifications
            .iter()
            .map(|x| tax.canonical_certification(x))
            .collect();
        for x in cs {
            *cert.entry(x).or_default() += 1;
        }
    }
    [div, mun, cert]
}

/// The facet list must be the brute-force counts, largest first (ties by
/// value), possibly cut to the top entries.
fn assert_facet(name: &str, got: &[matcher_core::index::Facet], want: &BTreeMap<String, usize>) {
    let mut w: Vec<(&String, &usize)> = want.iter().collect();
    w.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let got_pairs: Vec<(&String, &usize)> = got.iter().map(|f| (&f.value, &f.count)).collect();
    assert!(!got.is_empty() || want.is_empty(), "{name}: empty facet");
    assert!(
        got.len() <= w.len(),
        "{name}: more values than matching records have"
    );
    assert_eq!(got_pairs, w[..got.len()], "{name}");
    if got.len() < w.len() {
        assert!(
            got.len() >= 10,
            "{name}: cut to {} of {}",
            got.len(),
            w.len()
        );
    }
}

#[test]
fn facets_equal_brute_force_counts_over_all_matches() {
    let e = engine();
    let tax = &ctx().taxonomy;
    let cases = [
        req("加工"),
        req("検査 測定"),
        filter_req(Filters {
            jsic: vec!["monozukuri_metal".into()],
            ..Default::default()
        }),
        filter_req(Filters {
            prefectures: vec!["13".into()],
            ..Default::default()
        }),
    ];
    for r in cases {
        for role in [Role::Coordinator, Role::Public] {
            let ids = all_ids(e, &r, role);
            let mut page = r.clone();
            page.limit = 5;
            let resp = search(e, &page, role);
            assert_eq!(resp.total, ids.len());
            let facets = resp.facets.expect("facets asked for");
            let [div, mun, cert] = brute_facets(&ids);
            let label = format!("{:?} {role:?}", r.query);
            assert_facet(&format!("{label} jsic"), &facets.jsic_division, &div);
            assert_facet(&format!("{label} municipality"), &facets.municipality, &mun);
            assert_facet(
                &format!("{label} certification"),
                &facets.certification,
                &cert,
            );
            for f in &facets.jsic_division {
                assert_eq!(f.label, tax.jsic(&f.value).unwrap().name);
            }
            for f in &facets.municipality {
                assert_eq!(f.label, tax.municipality(muni(&f.value)).unwrap().name);
            }
        }
    }
    let mut r = req("加工");
    r.facets = false;
    assert!(search(e, &r, Role::Public).facets.is_none());
}

// ---------------------------------------------------------------------------
// Highlights, sorting, paging, staleness

fn query_terms(q: &str) -> HashSet<String> {
    let a = &ctx().analyzer;
    let mut out = HashSet::new();
    for t in a.analyze(q) {
        for s in a.synonyms().expand(&t.term) {
            out.insert(s.to_owned());
        }
        out.insert(t.term);
    }
    out
}

fn assert_valid_highlights(h: &Hit) {
    for s in &h.snippets {
        for &[a, b] in &s.highlights {
            assert!(
                a < b && b <= s.text.len(),
                "{}: range {a}..{b} in {:?}",
                h.id,
                s.text
            );
            assert!(
                s.text.is_char_boundary(a) && s.text.is_char_boundary(b),
                "{}: range {a}..{b} not on char boundaries",
                h.id
            );
        }
    }
}

#[test]
fn every_highlight_slices_to_a_query_term() {
    let e = engine();
    let a = &ctx().analyzer;
    let mut checked = 0;
    for q in [
        "マシニングセンター",
        "SUS304 溶接",
        "５軸 加工",
        "\"精密部品\"",
        "ＭＣ 試作",
        "ﾌﾟﾚｽ 金型",
    ] {
        let want = query_terms(q);
        let r = search(e, &req(q), Role::Coordinator);
        assert!(r.total > 0, "{q}");
        let mut with_snippets = 0;
        for h in &r.hits {
            assert_valid_highlights(h);
            let c = by_id(&h.id);
            if !h.snippets.is_empty() {
                with_snippets += 1;
            }
            for s in &h.snippets {
                let field = match s.field.as_str() {
                    "capabilities" => c.capabilities.clone(),
                    "products" => c.products.clone().unwrap_or_default(),
                    "equipment" => equipment_text(c),
                    other => panic!("unexpected snippet field {other}"),
                };
                assert!(
                    field.contains(&s.text),
                    "{}: snippet is a piece of {}",
                    h.id,
                    s.field
                );
                assert!(
                    !s.highlights.is_empty(),
                    "{}: a snippet has highlights",
                    h.id
                );
                for &[x, y] in &s.highlights {
                    let piece = &s.text[x..y];
                    let terms: Vec<String> = a.analyze(piece).into_iter().map(|t| t.term).collect();
                    assert!(
                        terms.iter().any(|t| want.contains(t)),
                        "{q}: highlight {piece:?} of {} analyzes to {terms:?}, none a query term",
                        h.id
                    );
                    checked += 1;
                }
            }
        }
        assert!(with_snippets > 0, "{q}: some hit has a snippet");
    }
    assert!(checked > 50);
    let mut r = req("溶接");
    r.highlight = false;
    assert!(search(e, &r, Role::Public)
        .hits
        .iter()
        .all(|h| h.snippets.is_empty()));
}

#[test]
fn sort_by_updated_at_is_ordered_newest_first() {
    let e = engine();
    for mut r in [
        filter_req(Filters {
            prefectures: vec!["13".into()],
            ..Default::default()
        }),
        req("加工"),
    ] {
        r.sort = Sort::UpdatedAt;
        let (_, hits) = all_hits(e, &r, Role::Coordinator);
        let mut want: Vec<(Option<Date>, String)> = hits
            .iter()
            .map(|h| (by_id(&h.id).updated_at, h.id.clone()))
            .collect();
        want.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let got: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
        let want_ids: Vec<String> = want.iter().map(|w| w.1.clone()).collect();
        assert_eq!(got, want_ids);
        for h in &hits {
            assert_eq!(h.updated_at, by_id(&h.id).updated_at.map(|d| d.to_string()));
        }
    }
}

#[test]
fn paging_is_stable_and_ties_break_by_id() {
    let e = engine();
    for q in [
        req("加工 部品"),
        filter_req(Filters {
            prefectures: vec!["13".into()],
            ..Default::default()
        }),
    ] {
        let (total, all) = all_hits(e, &q, Role::Public);
        assert!(total > 40);
        // relevance order, ties by id
        for w in all.windows(2) {
            assert!(w[0].score >= w[1].score, "scores descend");
            if w[0].score == w[1].score {
                assert!(w[0].id < w[1].id, "tie {} / {} not by id", w[0].id, w[1].id);
            }
        }
        // small pages concatenate to the same list, twice
        for _ in 0..2 {
            let mut paged = Vec::new();
            let mut r = q.clone();
            r.limit = 7;
            while paged.len() < total {
                r.offset = paged.len();
                let p = search(e, &r, Role::Public);
                assert_eq!((p.total, p.offset, p.limit), (total, r.offset, 7));
                assert!(p.hits.len() <= 7);
                paged.extend(p.hits);
            }
            let a: Vec<(&str, u32)> = all
                .iter()
                .map(|h| (h.id.as_str(), h.score.to_bits()))
                .collect();
            let b: Vec<(&str, u32)> = paged
                .iter()
                .map(|h| (h.id.as_str(), h.score.to_bits()))
                .collect();
            assert_eq!(a, b);
        }
        let mut r = q.clone();
        r.offset = total + 3;
        let p = search(e, &r, Role::Public);
        assert!(p.hits.is_empty());
        assert_eq!(p.total, total);
    }
    // a filter-only query scores every hit the same: pure id order
    let (_, hits) = all_hits(
        e,
        &filter_req(Filters {
            prefectures: vec!["13".into()],
            ..Default::default()
        }),
        Role::Public,
    );
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[test]
fn stale_flag_for_profiles_older_than_24_months() {
    let today = Date::today();
    let mk = |id: &str, months: Option<u32>| {
        let mut c = company(id, &format!("株式会社{id}"), "鋳物の仕上げ加工。");
        c.updated_at = months.map(|m| today.minus_months(m));
        c
    };
    let e = memory_engine(vec![
        mk("age-25", Some(25)),
        mk("age-24", Some(24)),
        mk("age-23", Some(23)),
        mk("age-0", Some(0)),
        mk("age-none", None),
    ]);
    let (_, hits) = all_hits(&e, &req("鋳物"), Role::Public);
    let stale: BTreeMap<String, bool> = hits.iter().map(|h| (h.id.clone(), h.stale)).collect();
    assert!(stale["age-25"]);
    assert!(
        !stale["age-24"],
        "exactly 24 months is not older than 24 months"
    );
    assert!(!stale["age-23"]);
    assert!(!stale["age-0"]);
    // exclude_stale drops exactly the flagged ones
    let mut r = req("鋳物");
    r.filters.exclude_stale = true;
    let kept = all_ids(&e, &r, Role::Public);
    let unflagged: BTreeSet<String> = stale
        .iter()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i.clone())
        .collect();
    assert_eq!(kept, unflagged);
    // the corpus agrees with the flag too
    let (_, hits) = all_hits(
        engine(),
        &filter_req(Filters {
            prefectures: vec!["13".into()],
            ..Default::default()
        }),
        Role::Coordinator,
    );
    let cutoff = today.minus_months(24);
    for h in hits {
        if let Some(d) = by_id(&h.id).updated_at {
            assert_eq!(h.stale, d < cutoff, "{}", h.id);
        }
    }
}

// ---------------------------------------------------------------------------
// Bad input

#[test]
fn bad_requests_are_specific_typed_errors() {
    let e = engine();
    let r = Role::Public;
    assert_eq!(search_err(e, &req(""), r), SearchError::EmptyQuery);
    assert_eq!(search_err(e, &req("   　 "), r), SearchError::EmptyQuery);
    assert_eq!(search_err(e, &req("\"\""), r), SearchError::EmptyQuery);
    let long = "切削".repeat(MAX_QUERY_CHARS / 2 + 1);
    assert_eq!(
        search_err(e, &req(&long), r),
        SearchError::QueryTooLong {
            chars: MAX_QUERY_CHARS + 2
        }
    );
    assert!(
        e.search(&req(&"切".repeat(MAX_QUERY_CHARS)), r).is_ok(),
        "the limit itself is fine"
    );

    let with = |f: Filters| SearchRequest {
        query: "加工".into(),
        filters: f,
        ..Default::default()
    };
    for bad in ["00", "ZZ", "Z", "24A", "no_such_cluster", ""] {
        assert_eq!(
            search_err(
                e,
                &with(Filters {
                    jsic: vec![bad.into()],
                    ..Default::default()
                }),
                r
            ),
            SearchError::UnknownJsic(bad.into()),
            "{bad:?}"
        );
    }
    // a well-formed code with a valid check digit that is not in the table
    let base = 13_999u32;
    let code: MunicipalityCode = format!("{base:05}").parse().unwrap();
    assert!(ctx().taxonomy.municipality(code).is_none());
    assert_eq!(
        search_err(
            e,
            &with(Filters {
                municipalities: vec![code],
                ..Default::default()
            }),
            r
        ),
        SearchError::UnknownMunicipality(code.to_string())
    );
    let near = |lat, lon, m, km| Filters {
        near: Some(Near {
            lat,
            lon,
            municipality: m,
            km,
        }),
        ..Default::default()
    };
    assert_eq!(
        search_err(e, &with(near(None, None, Some(code), 5.0)), r),
        SearchError::UnknownMunicipality(code.to_string())
    );
    assert_eq!(
        search_err(e, &with(near(Some(35.5), Some(139.7), None, -3.0)), r),
        SearchError::BadDistance(-3.0)
    );
    assert_eq!(
        search_err(e, &with(near(Some(35.5), Some(139.7), None, 0.0)), r),
        SearchError::BadDistance(0.0)
    );
    assert!(matches!(
        search_err(e, &with(near(Some(35.5), Some(139.7), None, f64::NAN)), r),
        SearchError::BadDistance(x) if x.is_nan()
    ));
    assert_eq!(
        search_err(e, &with(near(Some(35.5), None, None, 3.0)), r),
        SearchError::BadNear
    );
    assert_eq!(
        search_err(
            e,
            &with(near(Some(35.5), Some(139.7), Some(muni("131113")), 3.0)),
            r
        ),
        SearchError::BadNear
    );
    for p in ["1", "48", "00", "東京"] {
        assert_eq!(
            search_err(
                e,
                &with(Filters {
                    prefectures: vec![p.into()],
                    ..Default::default()
                }),
                r
            ),
            SearchError::UnknownPrefecture(p.into())
        );
    }
    assert_eq!(
        search_err(
            e,
            &with(Filters {
                employees_min: Some(50),
                employees_max: Some(10),
                ..Default::default()
            }),
            r
        ),
        SearchError::BadRange(50, 10)
    );
    let page = |offset, limit| SearchRequest {
        query: "加工".into(),
        offset,
        limit,
        ..Default::default()
    };
    assert_eq!(
        search_err(e, &page(0, MAX_PAGE_SIZE + 1), r),
        SearchError::PageTooLarge(MAX_PAGE_SIZE + 1)
    );
    assert_eq!(search_err(e, &page(0, 0), r), SearchError::PageTooLarge(0));
    assert_eq!(
        search_err(e, &page(MAX_OFFSET + 1, 10), r),
        SearchError::OffsetTooLarge(MAX_OFFSET + 1)
    );
    assert!(e.search(&page(MAX_OFFSET, MAX_PAGE_SIZE), r).is_ok());
}

/// A query with nothing searchable in it (only stop words or symbols) is
/// an empty query, not "everything".
#[test]
fn a_query_without_searchable_words_is_empty() {
    let e = engine();
    for q in ["の", "-", "--", "、。", "\"の\"", "・"] {
        assert_eq!(
            search_err(e, &req(q), Role::Public),
            SearchError::EmptyQuery,
            "{q:?}"
        );
        // with a filter it is a filter-only search
        let mut r = req(q);
        r.filters.prefectures = vec!["27".into()];
        let f = filter_req(Filters {
            prefectures: vec!["27".into()],
            ..Default::default()
        });
        assert_eq!(
            all_ids(e, &r, Role::Public),
            all_ids(e, &f, Role::Public),
            "{q:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Fuzz

const PIECES: &[&str] = &[
    "\u{0}",
    "\u{1}",
    "\u{7}",
    "\t",
    "\n",
    "\r",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{200b}",
    "\u{200d}",
    "\u{202e}",
    "\u{feff}",
    "\u{fffd}",
    "\u{fffe}",
    "\u{10ffff}",
    "\u{e000}",
    "\u{301}",
    "\u{308}",
    "\u{3099}",
    "\u{309a}",
    "\u{ff9e}",
    "\u{ff9f}",
    "\u{20dd}",
    "👨\u{200d}👩\u{200d}👧",
    "🇯🇵",
    "\u{fe0f}",
    "😀",
    "𠮷",
    "〜",
    "ー",
    "ーー",
    "\"",
    "\"",
    "“",
    "”",
    "「",
    "」",
    "-",
    "－",
    " -",
    "- ",
    "　",
    " ",
    "'",
    "\\",
    "(",
    ")",
    "*",
    ":",
    "*:*",
    "ﾏｼﾆﾝｸﾞｾﾝﾀｰ",
    "ﾌﾟ",
    "ｶﾞ",
    "マシニングセンター",
    "ＭＣ",
    "５軸",
    "5軸",
    "mc5軸",
    "SUS304",
    "sus 304",
    "ISO 9001",
    "jis q",
    "φ",
    "Φ0.1",
    "0.",
    ".5",
    "1/",
    "/",
    "a-",
    "-a",
    "溶接",
    "加工",
    "の",
    "は",
    "空港",
    "関西国際空港",
    "あ",
    "ア",
    "ｱ",
    "ヴ",
    "ゔ",
    "㍿",
    "①",
    "ﬁ",
    "İ",
    "ß",
    "Ω",
    "ǅ",
    "\u{e0041}",
    "x",
    "Z",
    "9",
    "99999999999999999999",
];

fn fuzz_string(rng: &mut Rng, max_pieces: usize) -> String {
    let n = rng.below(max_pieces + 1);
    let mut s = String::new();
    for _ in 0..n {
        if rng.chance(15) {
            // any scalar value, including rare planes
            let c = loop {
                if let Some(c) = char::from_u32((rng.next() % 0x11_0000) as u32) {
                    break c;
                }
            };
            s.push(c);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

fn assert_terms_valid(text: &str) {
    for t in ctx().analyzer.analyze(text) {
        assert!(
            t.start <= t.end
                && t.end <= text.len()
                && text.is_char_boundary(t.start)
                && text.is_char_boundary(t.end),
            "term {:?} at {}..{} of {text:?}",
            t.term,
            t.start,
            t.end
        );
        assert!(!t.term.is_empty(), "empty term from {text:?}");
    }
    for b in bigrams(text) {
        assert!(
            b.offset_from <= b.offset_to
                && b.offset_to <= text.len()
                && text.is_char_boundary(b.offset_from)
                && text.is_char_boundary(b.offset_to),
            "bigram {:?} at {}..{} of {text:?}",
            b.text,
            b.offset_from,
            b.offset_to
        );
    }
}

fn assert_ok_or_typed(res: Result<SearchResponse, EngineError>, q: &str) {
    match res {
        Ok(r) => {
            assert!(r.hits.len() <= r.limit && r.hits.len() <= r.total);
            for h in &r.hits {
                assert_valid_highlights(h);
            }
        }
        Err(EngineError::Search(_)) => {}
        Err(other) => panic!("{q:?}: untyped error {other}"),
    }
}

#[test]
fn fuzzed_queries_and_texts_never_panic() {
    let e = engine();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for i in 0..400 {
        let q = fuzz_string(&mut rng, 14);
        assert_terms_valid(&q);
        let r = SearchRequest {
            query: q.clone(),
            limit: 5,
            highlight: i % 4 == 0,
            facets: i % 3 == 0,
            ..Default::default()
        };
        assert_ok_or_typed(e.search(&r, Role::Public), &q);
    }
    for special in [
        "-",
        "－",
        "\"",
        "\"\"\"",
        "-\"",
        "\"-",
        "- -",
        "-\"溶接",
        "\"溶接",
        "溶接\"",
        "\u{301}",
        "\u{3099}-",
        "\u{0}",
    ] {
        assert_terms_valid(special);
        assert_ok_or_typed(e.search(&req(special), Role::Public), special);
    }
    // 100k-character strings: typed error from search, valid offsets from the analyzer
    let mut rng = Rng(77);
    let mut big = String::new();
    while big.chars().count() < 100_000 {
        big.push_str(&fuzz_string(&mut rng, 40));
        big.push_str("マシニングセンターと溶接");
    }
    assert!(matches!(
        e.search(&req(&big), Role::Public),
        Err(EngineError::Search(SearchError::QueryTooLong { .. }))
    ));
    assert_terms_valid(&big);
    let dashes = "-".repeat(100_000);
    assert!(matches!(
        e.search(&req(&dashes), Role::Public),
        Err(EngineError::Search(SearchError::QueryTooLong {
            chars: 100_000
        }))
    ));
    assert_terms_valid(&"\u{301}".repeat(100_000));
    assert_terms_valid(&"ー".repeat(100_000));
}

/// Odd text in the records themselves: indexable, retrievable, searchable.
#[test]
fn fuzzed_records_index_and_search() {
    let mut rng = Rng(0xfeed_beef);
    let mut companies = Vec::new();
    while companies.len() < 30 {
        let name = fuzz_string(&mut rng, 8);
        let caps = fuzz_string(&mut rng, 60);
        // Only records that validate: an upsert refuses the others, as
        // the importer does (see `upserts_refuse_invalid_records`).
        if validate::is_blank(&name) || validate::is_blank(&caps) {
            continue;
        }
        let mut c = company(&format!("fz-{:02}", companies.len()), &name, &caps);
        c.products = Some(fuzz_string(&mut rng, 10));
        c.equipment = vec![Equipment {
            name: format!("旋盤{}", fuzz_string(&mut rng, 3)),
            maker: Some(fuzz_string(&mut rng, 3)),
            model: None,
            count: None,
            spec: Some(fuzz_string(&mut rng, 5)),
        }];
        companies.push(c);
    }
    // one record with the longest accepted text, a single ASCII run
    companies.push(company(
        "fz-long",
        "株式会社長文",
        &"a".repeat(validate::MAX_TEXT_BYTES),
    ));
    let e = memory_engine(companies.clone());
    assert_eq!(e.counts().0, companies.len());
    for c in &companies {
        assert_eq!(
            e.company(c.id.as_str(), Role::Public).unwrap().as_ref(),
            Some(c)
        );
    }
    for _ in 0..150 {
        let q = fuzz_string(&mut rng, 6);
        assert_ok_or_typed(e.search(&req(&q), Role::Public), &q);
    }
    for c in companies.iter().take(10) {
        assert_ok_or_typed(
            e.search(
                &req(&c.name.chars().take(200).collect::<String>()),
                Role::Public,
            ),
            &c.name,
        );
    }
}

/// An embedder cannot index a record the importer would refuse: an upsert
/// validates every record against the context's tables, names each
/// invalid one's id, field and reason, and writes nothing of the batch;
/// valid records come out normalized as the importer leaves them.
#[test]
fn upserts_refuse_invalid_records() {
    let e = memory_engine(Vec::new());
    let ok = company("v-ok", "大森研削工業", "円筒研削");
    let mut blank = company("v-blank", "\u{200B} ", "円筒研削");
    blank.employees = Some(12);
    let mut jsic = company("v-jsic", "蒲田板金", "曲げ加工");
    jsic.industry_codes = vec!["00".parse().expect("code shape")];
    let err = e
        .upsert_companies(vec![ok.clone(), blank, jsic])
        .expect_err("invalid records");
    let EngineError::Invalid(invalid) = &err else {
        panic!("{err:?}");
    };
    let got: Vec<(&str, &str)> = invalid
        .records
        .iter()
        .map(|r| (r.id.as_str(), r.field.as_str()))
        .collect();
    assert_eq!(got, [("v-blank", "name"), ("v-jsic", "industry_codes[0]")]);
    assert!(invalid.records.iter().all(|r| !r.reason.is_empty()));
    let msg = err.to_string();
    assert!(msg.contains("v-blank: name: must not be empty"), "{msg}");
    assert!(msg.contains("nothing was written"), "{msg}");
    assert_eq!(e.counts(), (0, 0), "nothing of the batch was written");

    let mut need = fixture_needs()[0].clone();
    need.title = String::new();
    let err = e.upsert_needs(vec![need]).expect_err("invalid need");
    assert!(
        matches!(&err, EngineError::Invalid(r) if r.records[0].field == "title"),
        "{err:?}"
    );

    // Valid records are stored as validation normalizes them.
    let mut certified = ok.clone();
    certified.certifications = vec!["iso9001".into(), "ISO 9001".into()];
    e.upsert_companies(vec![certified]).expect("valid");
    let stored = e
        .company("v-ok", Role::Coordinator)
        .unwrap()
        .expect("stored");
    let canonical = ctx().taxonomy.canonical_certification("iso9001");
    assert_eq!(stored.certifications, [canonical]);
}
