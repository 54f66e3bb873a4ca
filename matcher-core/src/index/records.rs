//! In-memory features of every record, by dense slot.
//!
//! The index answers "which documents match these words"; everything else a
//! search or a match needs per company (where it is, its codes, its
//! certifications, its concepts, its freshness, who may see it) lives here,
//! compact and addressable by the `slot` fast field. A slot is stable for an
//! id across upserts; deleted slots are reused.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::analysis::normalize_key;
use crate::concepts::{ConceptSet, Ontology};
use crate::model::{
    Company, Date, GeoPoint, JsicCode, MunicipalityCode, Need, NeedStatus, RecordId, Visibility,
};
use crate::taxonomy::Taxonomy;

/// What matching and filtering need to know about a company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyFeatures {
    /// The company's id.
    pub id: RecordId,
    /// Its name, for answers without a stored-record fetch.
    pub name: String,
    /// Where it is registered.
    pub municipality: MunicipalityCode,
    /// The company's location, or its municipality's office when it has none.
    pub location: Option<GeoPoint>,
    /// Its JSIC codes.
    pub jsic: Vec<JsicCode>,
    /// Canonical certification names.
    pub certifications: Vec<String>,
    /// Normalized equipment names, makers and models.
    pub equipment: Vec<String>,
    /// The concepts its profile and equipment evoke, each at its strongest mention.
    pub concepts: ConceptSet,
    /// When the profile was last confirmed.
    pub updated_at: Option<Date>,
    /// Number of employees.
    pub employees: Option<u32>,
    /// Who may see it.
    pub visibility: Visibility,
}

impl CompanyFeatures {
    /// The features of `c`, extracting its concepts (indexing shares one
    /// analysis instead: [`CompanyFeatures::with_concepts`]).
    pub fn new(c: &Company, tax: &Taxonomy, ontology: &Ontology) -> CompanyFeatures {
        let caps = ontology.analyze(&c.capabilities, false);
        let products = c.products.as_ref().map(|p| ontology.analyze(p, false));
        let concepts = ontology.company_concepts(c, &caps, products.as_ref());
        Self::with_concepts(c, tax, concepts)
    }

    /// Features of a company whose concepts are already extracted: indexing
    /// extracts its mentions once, for these concepts and for the evidence
    /// stored with the document (see `schema::CompanyAnalysis`).
    pub fn with_concepts(c: &Company, tax: &Taxonomy, concepts: ConceptSet) -> CompanyFeatures {
        let mut equipment: Vec<String> = Vec::new();
        for e in &c.equipment {
            for part in [Some(&e.name), e.maker.as_ref(), e.model.as_ref()]
                .into_iter()
                .flatten()
            {
                equipment.push(normalize_key(part));
            }
        }
        CompanyFeatures {
            id: c.id.clone(),
            name: c.name.clone(),
            municipality: c.municipality_code,
            location: c.location.or_else(|| tax.office(c.municipality_code)),
            jsic: c.industry_codes.clone(),
            certifications: c
                .certifications
                .iter()
                .map(|x| tax.canonical_certification(x))
                .collect(),
            equipment,
            concepts,
            updated_at: c.updated_at,
            employees: c.employees,
            visibility: c.visibility,
        }
    }

    /// Not confirmed since `cutoff` (or never): flagged in answers.
    pub fn is_stale(&self, cutoff: Date) -> bool {
        self.updated_at.is_none_or(|d| d < cutoff)
    }
}

/// A need with its extracted concepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeedEntry {
    /// Kept as JSON text in the snapshot: `Need` omits empty optional
    /// fields (`skip_serializing_if`), which bincode, not self-describing,
    /// cannot read back.
    #[serde(with = "need_as_json")]
    pub need: Need,
    /// The concepts the need evokes, at the default scoping.
    pub concepts: ConceptSet,
}

mod need_as_json {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    use crate::model::Need;

    pub fn serialize<S: Serializer>(n: &Need, s: S) -> Result<S::Ok, S::Error> {
        let json = serde_json::to_string(n).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&json)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Need, D::Error> {
        let json = String::deserialize(d)?;
        serde_json::from_str(&json).map_err(D::Error::custom)
    }
}

impl NeedEntry {
    /// Still looking for partners.
    pub fn is_open(&self) -> bool {
        self.need.status == NeedStatus::Open
    }
}

/// Slots of one record kind. Entries are shared (`Arc`) so that a writer's
/// copy of the records (the next view, see `view.rs`) costs a pointer per
/// slot, not a deep copy of every company.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slots<T> {
    /// By slot; `None` for a free slot.
    pub entries: Vec<Option<Arc<T>>>,
    /// The slot of each live record.
    pub by_id: HashMap<RecordId, u32>,
    free: Vec<u32>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            entries: Vec::new(),
            by_id: HashMap::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    /// The slot of `id`, reserving a new one if it has none.
    pub fn reserve(&mut self, id: &RecordId) -> u32 {
        if let Some(&s) = self.by_id.get(id) {
            return s;
        }
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.entries.push(None);
                (self.entries.len() - 1) as u32
            }
        };
        self.by_id.insert(id.clone(), s);
        s
    }

    /// Put `value` in `slot`, growing the table as needed.
    pub fn set(&mut self, slot: u32, value: T) {
        let i = slot as usize;
        if i >= self.entries.len() {
            self.entries.resize_with(i + 1, || None);
        }
        self.entries[i] = Some(Arc::new(value));
    }

    /// Free the slot of `id` for reuse; its old slot, if it had one.
    pub fn remove(&mut self, id: &RecordId) -> Option<u32> {
        let s = self.by_id.remove(id)?;
        self.entries[s as usize] = None;
        self.free.push(s);
        Some(s)
    }

    /// The record in `slot`, if live.
    pub fn get(&self, slot: u32) -> Option<&T> {
        self.entries.get(slot as usize).and_then(Option::as_deref)
    }

    /// The slot of `id`, if live.
    pub fn slot_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Live records.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// No live record.
    #[cfg_attr(not(feature = "testkit"), allow(dead_code))]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Live records with their slots, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_deref().map(|e| (i as u32, e)))
    }

    /// Keep `slot` for `id` with no entry: a stored document whose record
    /// could not be read back (see `Engine::rebuild_records`). Its id stays
    /// known, so the live records still count what the index holds, and an
    /// upsert of the id reuses the slot and replaces the document. Call
    /// after [`Slots::reindex`].
    pub fn hold(&mut self, slot: u32, id: RecordId) {
        let i = slot as usize;
        if i >= self.entries.len() {
            self.entries.resize_with(i + 1, || None);
        }
        self.free.retain(|&s| s != slot);
        self.by_id.insert(id, slot);
    }

    /// The ids held without an entry (see [`Slots::hold`]), with their slots.
    pub fn held(&self) -> impl Iterator<Item = (&RecordId, u32)> {
        self.by_id
            .iter()
            .filter(|(_, &s)| self.get(s).is_none())
            .map(|(id, &s)| (id, s))
    }

    /// Rebuild the free list and id map after a bulk load.
    pub fn reindex(&mut self, id: impl Fn(&T) -> RecordId) {
        self.by_id.clear();
        self.free.clear();
        for (i, e) in self.entries.iter().enumerate() {
            match e {
                Some(e) => {
                    self.by_id.insert(id(e), i as u32);
                }
                None => self.free.push(i as u32),
            }
        }
    }
}

/// Everything held in memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Records {
    /// Company features by slot.
    pub companies: Slots<CompanyFeatures>,
    /// Needs by slot.
    pub needs: Slots<NeedEntry>,
    /// Companies per concept (direct or via a narrower concept): how
    /// common a capability is, for IDF-style weighting.
    pub concept_df: Vec<u32>,
    /// The same over public companies only: what a portal's weights use,
    /// so that they do not move with restricted companies.
    pub concept_df_public: Vec<u32>,
    /// Live public companies.
    pub public_companies: usize,
    /// What retrieval filters on, per company slot, packed: a match checks
    /// it for tens of thousands of hits, and reading the full features for
    /// each was a cache miss per hit (a third of a match). Not persisted:
    /// rebuilt from `companies` on load.
    #[serde(skip)]
    pub filter_keys: Vec<FilterKey>,
}

/// The fields of a company that privacy and region filters need, in 32
/// bytes (two per cache line) instead of the features' 192.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FilterKey {
    /// False for an empty slot.
    pub live: bool,
    /// Who may see it: the first check of every retrieval.
    pub visibility: Visibility,
    /// [`MunicipalityCode::base`] (the code without its check digit).
    pub municipality: u32,
    /// The company's location (f32 is ~1 m here); distance filters read
    /// it and fall back to the full features only at the radius itself.
    pub location: Option<(f32, f32)>,
    /// One bit per canonical certification the company holds (a 64-bit
    /// Bloom filter, [`cert_bits`]): a need requiring certifications
    /// rejects most companies here without reading their features.
    pub certs: u64,
}

/// The Bloom bits of canonical certification names: a company lacking one
/// of the bits cannot hold the certification; having them all still needs
/// the exact check.
pub fn cert_bits<'a>(names: impl IntoIterator<Item = &'a String>) -> u64 {
    names
        .into_iter()
        .fold(0, |m, n| m | 1u64 << (crc32fast::hash(n.as_bytes()) % 64))
}

impl FilterKey {
    /// The key of a live company.
    pub fn of(f: &CompanyFeatures) -> FilterKey {
        FilterKey {
            live: true,
            visibility: f.visibility,
            municipality: f.municipality.base(),
            location: f.location.map(|l| (l.lat as f32, l.lon as f32)),
            certs: cert_bits(&f.certifications),
        }
    }
}

impl Records {
    /// Bring the features that rescoring reads for `slots` into the cache,
    /// before it reads them.
    ///
    /// Why: rescoring a candidate follows four pointers (its slot's entry,
    /// the features, their concept list, their JSIC codes), each a cache
    /// miss for a random company of 100k, and the scoring loop takes them
    /// one after another: `perf annotate` put 85 % of the concept
    /// similarity's samples on its first two loads. Here each stage's loads
    /// are independent of each other, so the processor overlaps their
    /// misses; the scoring that follows finds the lines in cache. Reads
    /// only, nothing is computed from them (`black_box` keeps them).
    pub fn warm_companies(&self, slots: &[u32]) {
        let mut touched = 0usize;
        // the entries: where each company's features are
        for &s in slots {
            touched ^= self
                .companies
                .get(s)
                .map_or(0, |f| std::ptr::from_ref(f) as usize);
        }
        // the features themselves
        for &s in slots {
            if let Some(f) = self.companies.get(s) {
                touched ^= f.concepts.0.len() ^ f.jsic.len() ^ f.equipment.len();
            }
        }
        // what they point to
        for &s in slots {
            if let Some(f) = self.companies.get(s) {
                touched ^= f.concepts.0.first().map_or(0, |c| usize::from(c.0));
                touched ^= f
                    .jsic
                    .first()
                    .and_then(|j| j.as_str().bytes().next())
                    .map_or(0, usize::from);
            }
        }
        std::hint::black_box(touched);
    }

    /// Put a company in its slot, keeping concept counts in step.
    pub fn set_company(&mut self, slot: u32, f: CompanyFeatures, ontology: &Ontology) {
        if let Some(old) = self.companies.get(slot) {
            let public = old.visibility == Visibility::Public;
            let terms = ontology.index_terms(&old.concepts);
            self.count_concepts(&terms, public, false);
            self.public_companies = self.public_companies.saturating_sub(usize::from(public));
        }
        let public = f.visibility == Visibility::Public;
        let terms = ontology.index_terms(&f.concepts);
        self.count_concepts(&terms, public, true);
        self.public_companies += usize::from(public);
        let i = slot as usize;
        if i >= self.filter_keys.len() {
            self.filter_keys.resize(i + 1, FilterKey::default());
        }
        self.filter_keys[i] = FilterKey::of(&f);
        self.companies.set(slot, f);
    }

    fn count_concepts(&mut self, terms: &[crate::concepts::ConceptId], public: bool, add: bool) {
        let lists: &mut [&mut Vec<u32>] = if public {
            &mut [&mut self.concept_df, &mut self.concept_df_public]
        } else {
            &mut [&mut self.concept_df]
        };
        for df in lists.iter_mut() {
            for &c in terms {
                let i = c as usize;
                if i >= df.len() {
                    df.resize(i + 1, 0);
                }
                df[i] = if add {
                    df[i] + 1
                } else {
                    df[i].saturating_sub(1)
                };
            }
        }
    }

    /// Rebuild [`Records::filter_keys`] (after loading a snapshot).
    pub fn rebuild_filter_keys(&mut self) {
        self.filter_keys = self
            .companies
            .entries
            .iter()
            .map(|e| e.as_deref().map(FilterKey::of).unwrap_or_default())
            .collect();
    }

    /// Remove a company, keeping concept counts in step.
    pub fn remove_company(&mut self, id: &RecordId, ontology: &Ontology) {
        if let Some(old) = self
            .companies
            .slot_of(id.as_str())
            .and_then(|s| self.companies.get(s))
        {
            let public = old.visibility == Visibility::Public;
            let terms = ontology.index_terms(&old.concepts);
            self.count_concepts(&terms, public, false);
            self.public_companies = self.public_companies.saturating_sub(usize::from(public));
        }
        if let Some(slot) = self.companies.remove(id) {
            if let Some(k) = self.filter_keys.get_mut(slot as usize) {
                *k = FilterKey::default();
            }
        }
    }

    /// Inverse document frequency of a concept among the companies `role`
    /// may see, ≥ 0.
    pub fn concept_idf(&self, c: crate::concepts::ConceptId, role: Role) -> f32 {
        let (n, df) = if role == Role::Public {
            (self.public_companies, &self.concept_df_public)
        } else {
            (self.companies.len(), &self.concept_df)
        };
        let df = df.get(c as usize).copied().unwrap_or(0) as f32;
        ((n as f32 + 1.0) / (df + 1.0)).ln().max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keys_are_much_smaller_than_features() {
        assert_eq!(std::mem::size_of::<FilterKey>(), 32);
        assert!(std::mem::size_of::<Option<CompanyFeatures>>() >= 4 * 32);
    }
}
