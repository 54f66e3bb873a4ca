//! Integrity of the engine's state (issue #12): failed writes are never
//! acknowledged and lost, one writer per data folder, a snapshot is loaded
//! only for the exact commit it describes, and a portal's scores do not
//! depend on restricted companies.

mod common;

use common::*;
use matcher_core::matching::MatchOptions;
use matcher_core::model::{Company, Visibility};
use matcher_core::Engine;
use matcher_core::{EngineError, Role};

fn restricted(id: &str, name: &str, capabilities: &str) -> Company {
    let mut c = company(id, name, capabilities);
    c.visibility = Visibility::Restricted;
    c
}

const RARE: &str = "ハフニウム合金のワイヤ放電加工と微細穴あけ";

fn public_corpus() -> Vec<Company> {
    let mut v: Vec<Company> = fixture_companies().into_iter().take(40).collect();
    v.push(company("zz-pub-1", "公開ハフニウム工業", RARE));
    v.push(company(
        "zz-pub-2",
        "公開精密",
        "ハフニウム合金の切削。ワイヤ放電加工機を保有。",
    ));
    v
}

/// Every portal-visible score of a search and of a match, as bits.
fn portal_scores(e: &Engine) -> (Vec<(String, u32)>, Vec<(String, u32)>) {
    let r = search(e, &req("ハフニウム ワイヤ放電加工"), Role::Public);
    let s = r
        .hits
        .iter()
        .map(|h| (h.id.clone(), h.score.to_bits()))
        .collect();
    let need = serde_json::from_value(serde_json::json!({
        "id": "zz-need", "kind": "subcontracting",
        "title": "ハフニウム合金の放電加工", "text": "ハフニウム合金のワイヤ放電加工ができる会社を探しています。"
    }))
    .unwrap();
    let m = e
        .matcher()
        .match_need(
            &need,
            Role::Public,
            &MatchOptions {
                top_k: 20,
                explain: false,
                ..Default::default()
            },
        )
        .unwrap();
    let ms = m
        .matches
        .iter()
        .map(|m| (m.company_id.clone(), m.score.to_bits()))
        .collect();
    (s, ms)
}

#[test]
fn portal_scores_do_not_move_with_restricted_companies() {
    let e = memory_engine(public_corpus());
    let before = portal_scores(&e);
    assert!(before.0.len() >= 2 && before.1.len() >= 2, "{before:?}");
    let coordinator_before = search(&e, &req("ハフニウム ワイヤ放電加工"), Role::Coordinator);

    // Restricted companies using the rare words come and go.
    let secret: Vec<Company> = (0..6)
        .map(|i| {
            restricted(
                &format!("zz-secret-{i}"),
                &format!("秘匿ハフニウム{i}"),
                &format!("{RARE}。ハフニウム合金の研削も{i}件。"),
            )
        })
        .collect();
    e.upsert_companies(secret[..3].to_vec()).unwrap();
    assert_eq!(portal_scores(&e), before, "after adding 3 restricted");
    e.upsert_companies(secret[3..].to_vec()).unwrap();
    assert_eq!(portal_scores(&e), before, "after adding 6 restricted");
    // The same for a coordinator does move: the check above can fail.
    let coordinator_after = search(&e, &req("ハフニウム ワイヤ放電加工"), Role::Coordinator);
    let score_of = |r: &matcher_core::index::SearchResponse, id: &str| {
        r.hits.iter().find(|h| h.id == id).map(|h| h.score)
    };
    assert_ne!(
        score_of(&coordinator_before, "zz-pub-1"),
        score_of(&coordinator_after, "zz-pub-1")
    );
    for c in &secret[..4] {
        assert!(e.delete_company(c.id.as_str()).unwrap());
    }
    assert_eq!(portal_scores(&e), before, "after deleting 4 restricted");
    // A restricted company made public counts from then on.
    let mut turned = secret[4].clone();
    turned.visibility = Visibility::Public;
    e.upsert_companies(vec![turned]).unwrap();
    assert_ne!(portal_scores(&e).0, before.0, "a public company does count");
}

#[test]
fn a_failed_write_refuses_later_writes_instead_of_losing_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let e = Engine::open(&data, ctx()).unwrap();
    e.upsert_companies(vec![company("zz-a", "一社目", "精密板金加工")])
        .unwrap();
    // The index folder vanishes under the writer: the commit can't be written.
    std::fs::remove_dir_all(data.join("companies")).unwrap();
    let first = e.upsert_companies(vec![company("zz-b", "二社目", "溶接加工")]);
    assert!(first.is_err(), "the failed write must not succeed");
    // Every later write is refused loudly, with what to do.
    for i in 0..5 {
        let r = e.upsert_companies(vec![company(&format!("zz-c{i}"), "後続", "塗装")]);
        match r {
            Err(EngineError::WriterFailed { reason }) => assert!(!reason.is_empty()),
            other => panic!("write {i} after the failure: {other:?}"),
        }
    }
    let msg = e
        .delete_company("zz-a")
        .expect_err("deletes are writes too")
        .to_string();
    assert!(msg.contains("restart"), "{msg}");
    // Reads still answer from the last good view, which has no phantom.
    assert_eq!(e.counts().0, 1);
    assert!(e.company("zz-b", Role::Coordinator).unwrap().is_none());
    assert!(e.company("zz-a", Role::Coordinator).unwrap().is_some());
}

#[test]
fn a_second_writer_of_a_data_folder_is_refused_with_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let server = Engine::open(dir.path(), ctx()).unwrap();
    server.lock_for_writing().unwrap();
    // A second process (here: a second engine) may read, not write.
    let cli = Engine::open(dir.path(), ctx()).unwrap();
    let err = cli
        .upsert_companies(vec![company("zz-x", "横入り", "切削加工")])
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EngineError::Locked(_)), "{msg}");
    assert!(msg.contains(&std::process::id().to_string()), "{msg}");
    assert!(msg.contains("REST API"), "{msg}");
    // The holder still writes, and a write by a lazily-opened engine takes
    // the lock at its first write.
    server
        .upsert_companies(vec![company("zz-y", "本線", "切削加工")])
        .unwrap();
    drop(server);
    cli.upsert_companies(vec![company("zz-x", "横入り", "切削加工")])
        .unwrap();
    let third = Engine::open(dir.path(), ctx()).unwrap();
    assert!(matches!(
        third.delete_company("zz-x"),
        Err(EngineError::Locked(_))
    ));
}

#[test]
fn a_snapshot_that_lists_other_records_than_the_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        e.upsert_companies(fixture_companies().into_iter().take(10).collect())
            .unwrap();
        e.save_snapshot().unwrap();
    }
    // A snapshot at the index's exact commit, but with a phantom record
    // (what a lost write used to leave behind).
    let snap = dir.path().join("snapshot.bin");
    let at = matcher_core::index::persist::commits(&snap).unwrap();
    let ont = ctx().ontology.fingerprint();
    let mut records = matcher_core::index::persist::load(&snap, at, ont).unwrap();
    let phantom = fixture_companies().into_iter().nth(20).unwrap();
    let slot = records.companies.reserve(&phantom.id);
    let feats = matcher_core::index::records::CompanyFeatures::new(
        &phantom,
        &ctx().taxonomy,
        &ctx().ontology,
    );
    records.set_company(slot, feats, &ctx().ontology);
    matcher_core::index::persist::save(&snap, &records, at, ont).unwrap();

    let e = Engine::open(dir.path(), ctx()).unwrap();
    assert_eq!(e.counts().0, 10, "the phantom was loaded");
    assert!(e
        .company(phantom.id.as_str(), Role::Coordinator)
        .unwrap()
        .is_none());
}

/// Documents planted in the companies index of `dir` behind the engine's
/// back, as a build with another model (or a damaged disk) could leave
/// them: (id, slot, stored record JSON).
fn plant_stored_records(dir: &std::path::Path, docs: &[(&str, u64, &str)]) {
    use matcher_core::index::schema::{register_tokenizers, CompanyFields};
    let index = tantivy::Index::open_in_dir(dir.join("companies")).unwrap();
    register_tokenizers(index.tokenizers(), &ctx().analyzer);
    let (_, f) = CompanyFields::schema();
    let mut w: tantivy::IndexWriter = index.writer(20_000_000).unwrap();
    for (id, slot, record) in docs {
        let mut d = tantivy::TantivyDocument::default();
        d.add_text(f.id, id);
        d.add_u64(f.slot, *slot);
        d.add_text(f.record, record);
        w.add_document(d).unwrap();
    }
    w.commit().unwrap();
}

/// A stored record that no longer reads (broken JSON; a field this build's
/// model refuses) is reported by the rebuild — its id, slot and serde's
/// reason — not dropped: it stays out of search and reads, keeps its id
/// so that writes go on (memory still counts what the index holds), and a
/// valid upsert of the same id replaces it.
#[test]
fn a_rebuild_reports_stored_records_it_cannot_read_back() {
    use matcher_core::engine::RecordKind;
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<Company> = fixture_companies().into_iter().take(3).collect();
    {
        let e = Engine::open(dir.path(), ctx()).unwrap();
        e.upsert_companies(good.clone()).unwrap();
        e.upsert_needs(fixture_needs().into_iter().take(2).collect())
            .unwrap();
        e.save_snapshot().unwrap();
    }
    let mut old = serde_json::to_value(&good[0]).unwrap();
    old["id"] = "zz-old".into();
    old["fax"] = "03-0000-0000".into();
    plant_stored_records(
        dir.path(),
        &[
            ("zz-torn", 40, r#"{"id":"zz-torn","name":"途中で切れ"#),
            ("zz-old", 41, &old.to_string()),
        ],
    );

    // Opening finds the snapshot stale and rebuilds; so does an explicit rebuild.
    let e = Engine::open(dir.path(), ctx()).unwrap();
    let summary = e.rebuild_records().unwrap();
    assert_eq!((summary.companies, summary.needs), (3, 2), "{summary:?}");
    let mut bad = summary.unreadable.clone();
    bad.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(bad.len(), 2, "{summary:?}");
    assert_eq!(bad[0].kind, RecordKind::Company);
    assert_eq!(
        (bad[0].id.as_deref(), bad[0].slot),
        (Some("zz-old"), Some(41))
    );
    assert!(
        bad[0].reason.contains("unknown field `fax`"),
        "{}",
        bad[0].reason
    );
    assert_eq!(
        (bad[1].id.as_deref(), bad[1].slot),
        (Some("zz-torn"), Some(40))
    );
    assert!(bad[1].reason.contains("EOF"), "{}", bad[1].reason);

    // Out of reads and search, counted with the index.
    assert!(e.company("zz-torn", Role::Coordinator).unwrap().is_none());
    assert!(!e
        .company_ids(Role::Coordinator)
        .contains(&"zz-old".to_owned()));
    assert_eq!(e.counts(), (5, 2));
    // A snapshot keeps them held (and its next start logs them).
    e.save_snapshot().unwrap();
    let reopened = Engine::open(dir.path(), ctx()).unwrap();
    assert_eq!(reopened.counts(), (5, 2));
    assert!(reopened
        .company("zz-old", Role::Coordinator)
        .unwrap()
        .is_none());
    drop(reopened);
    // Writes go on, and an upsert of a held id replaces its document.
    e.upsert_companies(fixture_companies().into_iter().skip(3).take(1).collect())
        .unwrap();
    let mut fixed: Company = good[1].clone();
    fixed.id = "zz-old".parse().unwrap();
    let w = e.upsert_companies(vec![fixed.clone()]).unwrap();
    assert_eq!((w.created, w.updated), (0, 1), "replaced, not added");
    assert_eq!(e.company("zz-old", Role::Coordinator).unwrap(), Some(fixed));
    assert!(e.delete_company("zz-torn").unwrap());
    let again = e.rebuild_records().unwrap();
    assert!(again.unreadable.is_empty(), "{again:?}");
    assert_eq!((again.companies, again.needs), (5, 2));
}
