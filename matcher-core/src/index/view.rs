//! One immutable, consistent view of the data: what a request sees from its
//! first line to its last.
//!
//! A [`View`] pairs the tantivy searchers of one commit with the in-memory
//! features (`Records`) of the same commit. A writer builds the next view
//! privately (a copy of the records, the new commit, a reloaded searcher)
//! and publishes it with one atomic pointer swap; a request loads the
//! current view once ([`crate::Engine::view`], or [`crate::Engine::matcher`]
//! which holds one) and passes it down. Nothing
//! below the request entry takes a lock or re-reads shared state, so a slot
//! always means the company that held it in *this* view: a concurrent
//! delete-and-reuse of the slot can't mix two companies into one answer, and
//! a privacy check made at the start of a request holds to its end.
//!
//! The view also carries the BM25 statistics a portal is scored with
//! (`PublicStats`): over public documents only, so a portal's scores do
//! not move when restricted companies come and go.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use super::postings::{Lend, MatchFields, MatchIndex, RoleStats};
use super::rankings::Rankings;
use super::records::Records;
use super::schema::CompanyFields;
use super::taat::NO_SLOT;
use crate::access::Role;
use crate::index::persist::CommitId;
use crate::model::{Company, Need};

/// A consistent view: searchers and features of one commit.
pub struct View {
    pub(crate) companies: Searcher,
    pub(crate) needs: Searcher,
    pub(crate) records: Arc<Records>,
    pub(crate) public: PublicStats,
    /// The commits of the two indexes (companies, needs) this view reads:
    /// what a features snapshot of it is bound to.
    pub(crate) commits: [CommitId; 2],
    /// Per company segment, the slot of each document ([`NO_SLOT`] for a
    /// deleted one): how term-at-a-time scoring addresses its accumulator.
    doc_slots: Arc<Vec<Vec<u32>>>,
    /// The inverse: the live document of each slot.
    slot_docs: Arc<Vec<Option<DocAddress>>>,
    /// The slots each role's retrieval must not return (see [`Hidden`]).
    hidden: Arc<Hidden>,
    /// Slots by region and certification, built on first use.
    slot_index: Arc<OnceLock<SlotIndex>>,
    /// The postings needs are matched on (see `postings.rs`), built on
    /// the first match of the view — so a bulk import's commits, which no
    /// match reads, decode nothing — from `lend` and the new segments.
    postings: Arc<OnceLock<MatchIndex>>,
    /// Decoded postings of segments this view holds, lent by the view it
    /// replaced, or the file saved with the snapshot.
    lend: Arc<Lend>,
    match_fields: MatchFields,
    /// The company index's fields: how a stored record is read.
    fields: CompanyFields,
    /// The portal's statistics for the matching fields.
    public_match: RoleStats,
    /// Rankings of stored needs computed on this view (see `rankings.rs`).
    rankings: Arc<Rankings>,
}

/// Live company slots grouped by what hard constraints select on, so a
/// need limited to a city, a prefecture or a certification checks only the
/// slots that can qualify, not every company. Built on the first
/// constrained need of a view (one pass over the filter keys), then shared
/// by every request on that view. Each list is ascending.
#[derive(Debug, Default)]
pub(crate) struct SlotIndex {
    by_municipality: HashMap<u32, Vec<u32>>,
    by_prefecture: HashMap<u8, Vec<u32>>,
    /// Canonical certification → the slots that hold it.
    by_certification: HashMap<String, Vec<u32>>,
}

impl SlotIndex {
    fn of(records: &Records) -> SlotIndex {
        let mut ix = SlotIndex::default();
        for (slot, key) in records.filter_keys.iter().enumerate() {
            if !key.live {
                continue;
            }
            let slot = slot as u32;
            for c in records
                .companies
                .get(slot)
                .iter()
                .flat_map(|f| &f.certifications)
            {
                ix.by_certification.entry(c.clone()).or_default().push(slot);
            }
            ix.by_municipality
                .entry(key.municipality)
                .or_default()
                .push(slot);
            ix.by_prefecture
                .entry((key.municipality / 1000) as u8)
                .or_default()
                .push(slot);
        }
        ix
    }

    /// Slots in municipality `code` (without check digit).
    pub(crate) fn municipality(&self, code: u32) -> &[u32] {
        self.by_municipality.get(&code).map_or(&[], Vec::as_slice)
    }

    /// Slots in prefecture `code` (1–47).
    pub(crate) fn prefecture(&self, code: u8) -> &[u32] {
        self.by_prefecture.get(&code).map_or(&[], Vec::as_slice)
    }

    /// Slots holding canonical certification `name`.
    pub(crate) fn holders(&self, name: &str) -> &[u32] {
        self.by_certification.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The company slots a role may not retrieve, listed once per view: empty
/// slots for everyone, and restricted companies for a portal. Retrieval
/// zeroes these in its accumulator instead of checking every slot's
/// visibility (`top_slots::Admit`).
#[derive(Debug, Default)]
struct Hidden {
    staff: Vec<u32>,
    portal: Vec<u32>,
}

impl Hidden {
    fn of(records: &Records) -> Hidden {
        let mut h = Hidden::default();
        for (slot, key) in records.filter_keys.iter().enumerate() {
            if !key.live {
                h.staff.push(slot as u32);
                h.portal.push(slot as u32);
            } else if !Role::Public.may_see(key.visibility) {
                h.portal.push(slot as u32);
            }
        }
        h
    }
}

impl View {
    /// The view of two searchers and the records of the same commits.
    /// `prev` lends matching postings of segments (immutable, so reusable)
    /// — the replaced view's [`View::lendable`], or those saved at the last
    /// snapshot — so that building this view's matching index decodes only
    /// segments new since.
    pub(crate) fn new(
        companies: Searcher,
        needs: Searcher,
        records: Arc<Records>,
        fields: &CompanyFields,
        commits: [CommitId; 2],
        prev: Lend,
    ) -> tantivy::Result<View> {
        let public = PublicStats::new(&companies, fields);
        let doc_slots = doc_slots(&companies);
        let slot_docs = Arc::new(slot_docs(&doc_slots));
        let doc_slots = Arc::new(doc_slots);
        let hidden = Arc::new(Hidden::of(&records));
        let match_fields = MatchFields::of(fields);
        let mut lend = prev;
        lend.segments.retain(|p| {
            companies
                .segment_readers()
                .iter()
                .any(|seg| p.describes(seg))
        });
        let lend = Arc::new(lend);
        let provider = PublicProvider {
            stats: &public,
            searcher: &companies,
        };
        let mut tokens = [0u64; 5];
        for (t, f) in tokens.iter_mut().zip(match_fields.scored()) {
            *t = provider.total_num_tokens(f)?;
        }
        let public_match = RoleStats {
            docs: public.docs,
            tokens,
        };
        Ok(View {
            companies,
            needs,
            records,
            public,
            commits,
            doc_slots,
            slot_docs,
            hidden,
            slot_index: Arc::default(),
            postings: Arc::default(),
            lend,
            match_fields,
            fields: *fields,
            public_match,
            rankings: Arc::default(),
        })
    }

    /// The matching postings of this view's company segments, built on
    /// first use. Two requests that both find it unbuilt both build it
    /// (the same postings); one is kept.
    pub(crate) fn postings(&self) -> tantivy::Result<&MatchIndex> {
        if let Some(ix) = self.postings.get() {
            return Ok(ix);
        }
        let ix = MatchIndex::build(&self.companies, self.match_fields, &self.lend)?;
        Ok(self.postings.get_or_init(|| ix))
    }

    /// Decoded postings the next view may reuse: this view's if built,
    /// else those it was lent.
    pub(crate) fn lendable(&self) -> Lend {
        match self.postings.get() {
            Some(ix) => Lend {
                segments: ix.segments().to_vec(),
                file: None,
            },
            None => (*self.lend).clone(),
        }
    }

    /// Postings in the matching index (deleted documents included) and the
    /// heap bytes they and their term tables hold: what matching keeps in
    /// memory beside tantivy's mapped files (the bench report prints it).
    /// Builds the index if no match has yet.
    pub fn matching_index_size(&self) -> tantivy::Result<(usize, usize)> {
        let ix = self.postings()?;
        Ok((ix.num_postings(), ix.heap_bytes()))
    }

    /// Rankings of this view's stored needs, memoized.
    pub(crate) fn rankings(&self) -> &Rankings {
        &self.rankings
    }

    /// The statistics `role` is matched with, for the matching fields of `ix`
    /// (this view's [`View::postings`]).
    pub(crate) fn match_stats(&self, role: Role, ix: &MatchIndex) -> RoleStats {
        match role {
            Role::Public => self.public_match,
            Role::Coordinator | Role::Admin => ix.staff_stats(),
        }
    }

    /// The live document that holds company `slot` in this view: how a
    /// stored record is fetched without a term query.
    pub(crate) fn doc_of(&self, slot: u32) -> Option<DocAddress> {
        self.slot_docs.get(slot as usize).copied().flatten()
    }

    /// The slot of each document of company segment `ord`.
    pub(crate) fn doc_slots(&self, ord: usize) -> &[u32] {
        self.doc_slots.get(ord).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The company slots `role` may not retrieve: empty slots, and for a
    /// portal every company that is not public.
    pub(crate) fn hidden_from(&self, role: Role) -> &[u32] {
        match role {
            Role::Public => &self.hidden.portal,
            Role::Coordinator | Role::Admin => &self.hidden.staff,
        }
    }

    /// Live slots by region and certification (built on first use).
    pub(crate) fn slot_index(&self) -> &SlotIndex {
        self.slot_index.get_or_init(|| SlotIndex::of(&self.records))
    }

    /// The BM25 statistics `role` is scored with (see [`PublicStats`]).
    pub(crate) fn statistics(&self, role: Role) -> Box<dyn Bm25StatisticsProvider + '_> {
        match role {
            Role::Public => Box::new(PublicProvider {
                stats: &self.public,
                searcher: &self.companies,
            }),
            Role::Coordinator | Role::Admin => Box::new(self.companies.clone()),
        }
    }

    /// This view with the needs index at a new commit.
    pub(crate) fn with_needs(
        &self,
        needs: Searcher,
        records: Arc<Records>,
        commits: [CommitId; 2],
    ) -> View {
        // The companies are those of this view: what is derived from them
        // (slot maps, hidden slots, slot index) is shared, not rebuilt.
        View {
            companies: self.companies.clone(),
            needs,
            records,
            public: self.public.clone(),
            commits,
            doc_slots: self.doc_slots.clone(),
            slot_docs: self.slot_docs.clone(),
            hidden: self.hidden.clone(),
            slot_index: self.slot_index.clone(),
            postings: self.postings.clone(),
            lend: self.lend.clone(),
            match_fields: self.match_fields,
            fields: self.fields,
            public_match: self.public_match,
            // Needs changed: their slots and texts may differ.
            rankings: Arc::default(),
        }
    }

    /// This view with other features of the same commits (a loaded snapshot).
    pub(crate) fn with_records(
        &self,
        records: Arc<Records>,
        fields: &CompanyFields,
    ) -> tantivy::Result<View> {
        View::new(
            self.companies.clone(),
            self.needs.clone(),
            records,
            fields,
            self.commits,
            self.lendable(),
        )
    }

    /// Number of companies (all roles) and needs in this view.
    pub fn counts(&self) -> (usize, usize) {
        (self.records.companies.len(), self.records.needs.len())
    }

    /// The company index's fields.
    pub(crate) fn company_fields(&self) -> CompanyFields {
        self.fields
    }

    /// The full record of company `id`, if `role` may see it: a restricted
    /// company is `None` for a portal, exactly as a missing one.
    pub fn company(&self, id: &str, role: Role) -> Result<Option<Company>, super::ReadError> {
        let rec = &self.records;
        let Some(slot) = rec.companies.slot_of(id) else {
            return Ok(None);
        };
        match rec.companies.get(slot) {
            Some(f) if role.may_see(f.visibility) => {}
            _ => return Ok(None),
        }
        Ok(self.stored_company(id)?)
    }

    /// The stored record of company `id`, whoever may see it: callers
    /// check the role first.
    pub(crate) fn stored_company(&self, id: &str) -> tantivy::Result<Option<Company>> {
        Ok(self
            .stored_doc(id)?
            .and_then(|d| super::record_of(&d, self.fields.record)))
    }

    /// The stored document of company `id` (its record and its evidence),
    /// whoever may see it: callers check the role first.
    pub(crate) fn stored_doc(&self, id: &str) -> tantivy::Result<Option<TantivyDocument>> {
        // Each live slot maps to its document: no term query.
        let Some(addr) = self
            .records
            .companies
            .slot_of(id)
            .and_then(|s| self.doc_of(s))
        else {
            return Ok(None);
        };
        Ok(Some(self.companies.doc(addr)?))
    }

    /// Need `id` as `role` may see it (see [`View::need_as_seen`]); `None`
    /// if there is no such need.
    pub fn need(&self, id: &str, role: Role) -> Option<Need> {
        let rec = &self.records;
        rec.needs
            .slot_of(id)
            .and_then(|s| rec.needs.get(s))
            .map(|e| self.need_as_seen(&e.need, role).into_owned())
    }

    /// Every need as `role` may see it, sorted by id.
    pub fn needs(&self, role: Role) -> Vec<Need> {
        let mut out: Vec<Need> = self
            .records
            .needs
            .iter()
            .map(|(_, e)| self.need_as_seen(&e.need, role).into_owned())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The ids of the companies `role` may see, sorted, for paging.
    pub fn company_ids(&self, role: Role) -> Vec<String> {
        let mut ids: Vec<String> = self
            .records
            .companies
            .iter()
            .filter(|(_, f)| role.may_see(f.visibility))
            .map(|(_, f)| f.id.to_string())
            .collect();
        ids.sort();
        ids
    }

    /// `need` as `role` may see it. An owner the role may not see is
    /// removed, so a need owned by a restricted company reads — and
    /// matches, mutual scores included — exactly like a need whose owner is
    /// unknown.
    pub fn need_as_seen<'n>(&self, need: &'n Need, role: Role) -> Cow<'n, Need> {
        let hidden = need.company_id.as_ref().is_some_and(|owner| {
            let rec = &self.records.companies;
            !rec.slot_of(owner.as_str())
                .and_then(|s| rec.get(s))
                .is_some_and(|f| role.may_see(f.visibility))
        });
        if hidden && role == Role::Public {
            let mut n = need.clone();
            n.company_id = None;
            Cow::Owned(n)
        } else {
            Cow::Borrowed(need)
        }
    }

    /// Run `query` over the companies with the BM25 statistics `role` is
    /// entitled to: everything for coordinators, public documents only for
    /// a portal.
    pub(crate) fn search_companies<C: tantivy::collector::Collector>(
        &self,
        role: Role,
        query: &dyn tantivy::query::Query,
        collector: &C,
    ) -> tantivy::Result<C::Fruit> {
        let stats = self.statistics(role);
        self.companies
            .search_with_statistics_provider(query, collector, stats.as_ref())
    }
}

/// The slot of every document of every segment; [`NO_SLOT`] where deleted.
fn doc_slots(searcher: &Searcher) -> Vec<Vec<u32>> {
    searcher
        .segment_readers()
        .iter()
        .map(|seg| {
            let Ok(slots) = seg.fast_fields().u64("slot") else {
                return Vec::new();
            };
            let alive = seg.alive_bitset();
            (0..seg.max_doc())
                .map(|doc| match slots.first(doc) {
                    Some(s) if alive.is_none_or(|a| a.is_alive(doc)) => s as u32,
                    _ => NO_SLOT,
                })
                .collect()
        })
        .collect()
}

/// The live document of each slot, from [`doc_slots`].
fn slot_docs(doc_slots: &[Vec<u32>]) -> Vec<Option<DocAddress>> {
    let mut out: Vec<Option<DocAddress>> = Vec::new();
    for (ord, docs) in doc_slots.iter().enumerate() {
        for (doc, &slot) in docs.iter().enumerate() {
            if slot == NO_SLOT {
                continue;
            }
            let i = slot as usize;
            if out.len() <= i {
                out.resize(i + 1, None);
            }
            out[i] = Some(DocAddress::new(ord as u32, doc as u32));
        }
    }
    out
}

/// BM25 statistics over the public company documents of one commit.
///
/// tantivy's own statistics count every document, so a portal's score for a
/// rare word would move with the number of restricted companies using it —
/// a side channel. The portal is scored with these instead:
/// - documents: the public documents (by the `restricted` fast field,
///   deleted-but-not-merged ones included, as tantivy counts them);
/// - tokens per field: the sum of the public documents' field norms;
/// - document frequency: the term's frequency minus its frequency in the
///   field's restricted shadow (`schema::CompanyFields::shadow`), which
///   holds the same tokens for restricted documents only.
///
/// Each is a function of the public documents alone. What remains shared
/// with restricted writes is tantivy's merge timing: a merge purges deleted
/// *public* documents from the counts, whatever write triggered it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PublicStats {
    docs: u64,
    tokens: HashMap<Field, u64>,
    shadow: HashMap<Field, Field>,
}

impl PublicStats {
    fn new(searcher: &Searcher, fields: &CompanyFields) -> PublicStats {
        let mut stats = PublicStats {
            shadow: fields.shadows().into_iter().collect(),
            ..PublicStats::default()
        };
        for seg in searcher.segment_readers() {
            let restricted = seg.fast_fields().u64("restricted").ok();
            let norms: Vec<(Field, tantivy::fieldnorm::FieldNormReader)> = stats
                .shadow
                .keys()
                .filter_map(|&f| seg.get_fieldnorms_reader(f).ok().map(|r| (f, r)))
                .collect();
            for doc in 0..seg.max_doc() {
                let is_restricted = restricted
                    .as_ref()
                    .and_then(|c| c.first(doc))
                    .is_some_and(|v| v != 0);
                if is_restricted {
                    continue;
                }
                stats.docs += 1;
                for (f, r) in &norms {
                    *stats.tokens.entry(*f).or_default() += u64::from(r.fieldnorm(doc));
                }
            }
        }
        stats
    }
}

struct PublicProvider<'a> {
    stats: &'a PublicStats,
    searcher: &'a Searcher,
}

impl Bm25StatisticsProvider for PublicProvider<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        match self.stats.tokens.get(&field) {
            Some(&n) => Ok(n),
            // A field without a shadow is not scored for portals; fall back
            // to tantivy's count rather than fail.
            None => Bm25StatisticsProvider::total_num_tokens(self.searcher, field),
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.stats.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let all = self.searcher.doc_freq(term)?;
        let Some(&shadow) = self.stats.shadow.get(&term.field()) else {
            return Ok(all.min(self.stats.docs));
        };
        let value = term.value();
        let Some(text) = value.as_str() else {
            return Ok(all.min(self.stats.docs));
        };
        let restricted = self
            .searcher
            .doc_freq(&Term::from_field_text(shadow, text))?;
        Ok(all.saturating_sub(restricted).min(self.stats.docs))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{fixtures, Context, Engine};

    /// Every live slot leads to the document of the company that holds it,
    /// also after deletes free slots and new companies reuse them: what a
    /// stored record or evidence is fetched by.
    #[test]
    fn each_slot_leads_to_its_own_document() {
        let dir = fixtures::fixtures_dir();
        let engine =
            Engine::in_memory(Arc::new(Context::load(&dir).expect("ctx"))).expect("engine");
        fixtures::load_into(&engine, &dir).expect("load");
        let ids: Vec<String> = {
            let v = engine.view();
            v.records
                .companies
                .iter()
                .map(|(_, f)| f.id.to_string())
                .collect()
        };
        let mut reused = fixtures::companies(&dir, &engine.ctx.taxonomy)
            .expect("companies")
            .records;
        reused.truncate(3);
        for (i, c) in reused.iter_mut().enumerate() {
            assert!(engine.delete_company(&ids[i * 7]).expect("delete"));
            c.id = format!("reuse-{i}").parse().expect("id");
        }
        engine.upsert_companies(reused).expect("upsert");
        let v = engine.view();
        let mut checked = 0;
        for (slot, f) in v.records.companies.iter() {
            let addr = v.doc_of(slot).expect("a live slot has a document");
            let doc = v
                .companies
                .doc::<tantivy::TantivyDocument>(addr)
                .expect("doc");
            let rec: crate::model::Company =
                super::super::record_of(&doc, engine.companies.fields.record).expect("record");
            assert_eq!(rec.id, f.id, "slot {slot}");
            checked += 1;
        }
        assert!(checked > 100, "{checked}");
        assert!(v.records.companies.slot_of(ids[0].as_str()).is_none());
        assert!(v.records.companies.slot_of("reuse-2").is_some());
    }
}
