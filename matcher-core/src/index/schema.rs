//! The tantivy schemas of the two indexes (companies, needs) and the
//! conversion of records into documents.
//!
//! Text fields use the project's Japanese tokenizers; `grams` holds
//! character bigrams at low weight for recall; `concepts` holds concept ids
//! (with their ancestors) for paraphrase-proof candidate generation. The full
//! record is stored as JSON so it survives restarts; filters and facets are
//! answered from in-memory features (see `records.rs`), not from the index.
//! A company document also stores the evidence its explanations cite
//! (`evidence.rs`), computed from the same analysis as its indexed fields.

use std::sync::Arc;

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::tokenizer::TokenizerManager;
use tantivy::TantivyDocument;

use crate::analysis::analyzed::AnalyzedText;
use crate::analysis::bigram::{BigramTokenizer, BIGRAM_TOKENIZER_NAME};
use crate::analysis::tokenizer::{JapaneseTokenizer, PROFILE_TOKENIZER_NAME, TOKENIZER_NAME};
use crate::analysis::Analyzer;
use crate::concepts::{ConceptSet, Mention, MentionSource, Ontology};
use crate::index::evidence::StoredEvidence;
use crate::model::{Company, Need, Visibility};

fn text(tokenizer: &str, positions: bool) -> TextOptions {
    let record = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::WithFreqs
    };
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

/// A restricted document's copy of a scored field: document frequencies
/// only (no positions, no norms), for the portal's statistics
/// (`view::PublicStats`).
fn shadow(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    )
}

/// The restricted shadows of the scored company fields, in the order of
/// [`CompanyFields::shadows`].
#[derive(Debug, Clone, Copy)]
pub struct ShadowFields {
    /// Shadow of [`CompanyFields::name`].
    pub name: Field,
    /// Shadow of [`CompanyFields::reading`].
    pub reading: Field,
    /// Shadow of [`CompanyFields::capabilities`].
    pub capabilities: Field,
    /// Shadow of [`CompanyFields::products`].
    pub products: Field,
    /// Shadow of [`CompanyFields::equipment`].
    pub equipment: Field,
    /// Shadow of [`CompanyFields::grams`].
    pub grams: Field,
    /// Shadow of [`CompanyFields::concepts`].
    pub concepts: Field,
}

/// Fields of the company index.
#[derive(Debug, Clone, Copy)]
pub struct CompanyFields {
    /// The company id (exact, stored): what deletes and gets find.
    pub id: Field,
    /// The company's slot (fast, stored): from a document to its features.
    pub slot: Field,
    /// The full record as JSON (stored): gets, and rebuilding the features.
    pub record: Field,
    /// What explanations cite, encoded by `evidence::StoredEvidence` (stored only).
    pub evidence: Field,
    /// The name, analyzed.
    pub name: Field,
    /// The name's kana reading (as given, and as the analyzer reads the name), in
    /// bigrams: a search typed in kana.
    pub reading: Field,
    /// The capabilities text without refused work.
    pub capabilities: Field,
    /// The products text without refused work.
    pub products: Field,
    /// Equipment names, makers and models ([`equipment_text`]).
    pub equipment: Field,
    /// Character bigrams of the profile: recall for unknown words.
    pub grams: Field,
    /// Concept ids with their ancestors: the concept channel's terms.
    pub concepts: Field,
    /// 1 for a restricted company (fast): what the portal's statistics skip.
    pub restricted: Field,
    /// The scored fields again, filled for restricted companies only.
    pub shadow: ShadowFields,
}

impl CompanyFields {
    /// (scored field, its restricted shadow) pairs.
    pub fn shadows(&self) -> Vec<(Field, Field)> {
        let s = &self.shadow;
        vec![
            (self.name, s.name),
            (self.reading, s.reading),
            (self.capabilities, s.capabilities),
            (self.products, s.products),
            (self.equipment, s.equipment),
            (self.grams, s.grams),
            (self.concepts, s.concepts),
        ]
    }

    /// The company index's schema and its fields.
    pub fn schema() -> (Schema, CompanyFields) {
        let mut b = Schema::builder();
        let f = CompanyFields {
            id: b.add_text_field("id", STRING | STORED),
            slot: b.add_u64_field("slot", FAST | STORED),
            record: b.add_text_field("record", STORED),
            evidence: b.add_bytes_field("evidence", STORED),
            name: b.add_text_field("name", text(TOKENIZER_NAME, true)),
            reading: b.add_text_field("reading", text(BIGRAM_TOKENIZER_NAME, false)),
            capabilities: b.add_text_field("capabilities", text(PROFILE_TOKENIZER_NAME, true)),
            products: b.add_text_field("products", text(PROFILE_TOKENIZER_NAME, true)),
            equipment: b.add_text_field("equipment", text(TOKENIZER_NAME, true)),
            grams: b.add_text_field("grams", text(BIGRAM_TOKENIZER_NAME, false)),
            concepts: b.add_text_field("concepts", STRING),
            restricted: b.add_u64_field("restricted", FAST),
            shadow: ShadowFields {
                name: b.add_text_field("r_name", shadow(TOKENIZER_NAME)),
                reading: b.add_text_field("r_reading", shadow(BIGRAM_TOKENIZER_NAME)),
                capabilities: b.add_text_field("r_capabilities", shadow(PROFILE_TOKENIZER_NAME)),
                products: b.add_text_field("r_products", shadow(PROFILE_TOKENIZER_NAME)),
                equipment: b.add_text_field("r_equipment", shadow(TOKENIZER_NAME)),
                grams: b.add_text_field("r_grams", shadow(BIGRAM_TOKENIZER_NAME)),
                concepts: b.add_text_field("r_concepts", shadow("raw")),
            },
        };
        (b.build(), f)
    }
}

/// Fields of the need index.
#[derive(Debug, Clone, Copy)]
pub struct NeedFields {
    /// The need id (exact, stored).
    pub id: Field,
    /// The need's slot (fast, stored).
    pub slot: Field,
    /// The full record as JSON (stored).
    pub record: Field,
    /// Title, text and wanted equipment, analyzed.
    pub text: Field,
    /// Character bigrams of the same.
    pub grams: Field,
    /// Concept ids the need evokes, with their ancestors.
    pub concepts: Field,
}

impl NeedFields {
    /// The need index's schema and its fields.
    pub fn schema() -> (Schema, NeedFields) {
        let mut b = Schema::builder();
        let f = NeedFields {
            id: b.add_text_field("id", STRING | STORED),
            slot: b.add_u64_field("slot", FAST | STORED),
            record: b.add_text_field("record", STORED),
            text: b.add_text_field("text", text(TOKENIZER_NAME, true)),
            grams: b.add_text_field("grams", text(BIGRAM_TOKENIZER_NAME, false)),
            concepts: b.add_text_field("concepts", STRING),
        };
        (b.build(), f)
    }
}

/// Register the project's tokenizers on an index's manager.
pub fn register_tokenizers(manager: &TokenizerManager, analyzer: &Arc<Analyzer>) {
    manager.register(TOKENIZER_NAME, JapaneseTokenizer::new(analyzer.clone()));
    manager.register(
        PROFILE_TOKENIZER_NAME,
        JapaneseTokenizer::profile(analyzer.clone()),
    );
    manager.register(BIGRAM_TOKENIZER_NAME, BigramTokenizer);
}

/// The equipment of a company as one text (name, maker, model, spec per line).
pub fn equipment_text(c: &Company) -> String {
    let mut s = String::new();
    for e in &c.equipment {
        for part in [
            Some(&e.name),
            e.maker.as_ref(),
            e.model.as_ref(),
            e.spec.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            s.push_str(part);
            s.push(' ');
        }
        s.push('\n');
    }
    s
}

/// The analysis a company document reuses: its capabilities, products and
/// equipment texts analyzed once (see [`AnalyzedText`]) for the indexed
/// fields, the concepts and the stored evidence; its concept mentions,
/// extracted once for the features and the evidence; and the kana reading
/// of its name.
pub struct CompanyAnalysis {
    /// The capabilities text, analyzed.
    pub capabilities: AnalyzedText,
    /// The products text, analyzed.
    pub products: Option<AnalyzedText>,
    /// [`equipment_text`] of the company.
    pub equipment_text: String,
    /// [`CompanyAnalysis::equipment_text`], analyzed.
    pub equipment: AnalyzedText,
    /// [`Ontology::company_mentions`].
    pub mentions: Vec<(MentionSource, Mention)>,
    /// The kana reading of the name.
    pub reading: String,
}

impl CompanyAnalysis {
    /// Analyze `c` once for everything indexing derives from its text.
    pub fn new(c: &Company, analyzer: &Analyzer, ontology: &Ontology) -> CompanyAnalysis {
        let capabilities = analyzer.analyze_text(&c.capabilities, false);
        let products = c.products.as_ref().map(|p| analyzer.analyze_text(p, false));
        let equipment_text = equipment_text(c);
        let equipment = analyzer.analyze_text(&equipment_text, false);
        let mentions = ontology.company_mentions(c, &capabilities, products.as_ref());
        CompanyAnalysis {
            capabilities,
            products,
            equipment_text,
            equipment,
            mentions,
            reading: analyzer.reading(&c.name),
        }
    }

    /// The company's concepts (what `Ontology::company_concepts` returns).
    pub fn concepts(&self) -> ConceptSet {
        ConceptSet::from_mentions(self.mentions.iter().map(|(_, m)| m))
    }
}

/// The tantivy document of company `c` in `slot`, from its one analysis.
pub fn company_doc(
    f: &CompanyFields,
    c: &Company,
    slot: u32,
    analysis: &CompanyAnalysis,
    concepts: &ConceptSet,
    ontology: &Ontology,
) -> TantivyDocument {
    let restricted = c.visibility != Visibility::Public;
    // Each scored value goes to its field and, for a restricted company, to
    // the field's shadow too (see `view::PublicStats`).
    let fields = |main: Field, s: Field| -> Vec<Field> {
        if restricted {
            vec![main, s]
        } else {
            vec![main]
        }
    };
    let sh = &f.shadow;
    let reading = analysis.reading.as_str();
    let mut d = TantivyDocument::default();
    d.add_text(f.id, c.id.as_str());
    d.add_u64(f.slot, slot as u64);
    d.add_u64(f.restricted, u64::from(restricted));
    d.add_text(f.record, serde_json::to_string(c).unwrap_or_default());
    // Empty if it cannot be encoded: explanations then analyze the record.
    let evidence = StoredEvidence::new(c, analysis, ontology.fingerprint());
    d.add_bytes(f.evidence, &evidence.encode().unwrap_or_default());
    for x in fields(f.name, sh.name) {
        d.add_text(x, &c.name);
    }
    let mut r = c.name_kana.clone().unwrap_or_default();
    r.push(' ');
    r.push_str(reading);
    for x in fields(f.reading, sh.reading) {
        d.add_text(x, &r);
    }
    // Already analyzed (scoped like the ja_profile tokenizer would).
    for x in fields(f.capabilities, sh.capabilities) {
        d.add_pre_tokenized_text(x, analysis.capabilities.pre_tokenized(&c.capabilities));
    }
    if let (Some(p), Some(a)) = (&c.products, &analysis.products) {
        for x in fields(f.products, sh.products) {
            d.add_pre_tokenized_text(x, a.pre_tokenized(p));
        }
    }
    // Already analyzed too: the same tokens the plain tokenizer would make.
    let eq = analysis.equipment_text.as_str();
    for x in fields(f.equipment, sh.equipment) {
        d.add_pre_tokenized_text(x, analysis.equipment.pre_tokenized_all(eq));
    }
    let mut grams = String::with_capacity(c.capabilities.len() + eq.len() + 64);
    grams.push_str(&c.name);
    grams.push('\n');
    grams.push_str(&c.capabilities);
    grams.push('\n');
    grams.push_str(c.products.as_deref().unwrap_or(""));
    grams.push('\n');
    grams.push_str(eq);
    for x in fields(f.grams, sh.grams) {
        d.add_text(x, &grams);
    }
    for id in ontology.index_terms(concepts) {
        for x in fields(f.concepts, sh.concepts) {
            d.add_text(x, &ontology.concept(id).id);
        }
    }
    d
}

/// The tantivy document of need `n` in `slot`.
pub fn need_doc(
    f: &NeedFields,
    n: &Need,
    slot: u32,
    concepts: &ConceptSet,
    ontology: &Ontology,
) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.id, n.id.as_str());
    d.add_u64(f.slot, slot as u64);
    d.add_text(f.record, serde_json::to_string(n).unwrap_or_default());
    let body = format!("{}\n{}\n{}", n.title, n.text, n.equipment.join(" "));
    d.add_text(f.text, &body);
    d.add_text(f.grams, &body);
    for id in ontology.index_terms(concepts) {
        d.add_text(f.concepts, &ontology.concept(id).id);
    }
    d
}
