//! A need's hard constraints, resolved once per need so the check per
//! candidate is a few integer comparisons.
//!
//! Retrieval runs this check on every document that scores above the
//! current cut, which for a need limited to one city is most of the
//! corpus: parsing prefecture codes or canonicalizing certification names
//! there (what a check straight from the `Need` does) was a fifth of a
//! match.

use crate::analysis::scope::ScopeKind;
use crate::index::records::{cert_bits, CompanyFeatures, FilterKey};
use crate::index::view::SlotIndex;
use crate::model::{GeoPoint, Need, EARTH_RADIUS_KM};
use crate::taxonomy::Taxonomy;

/// Region and certification requirements of one need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Constraints {
    /// Canonical names of the certifications a candidate must hold.
    certifications: Vec<String>,
    /// Municipality codes (without check digit) a candidate must be in, if any.
    municipalities: Vec<u32>,
    /// Prefectures a candidate must be in; `Some(empty)` when the need
    /// named prefectures but none is a valid code (nothing qualifies).
    prefectures: Option<Vec<u8>>,
    /// The origin and radius a candidate must lie within.
    within: Option<(GeoPoint, f64)>,
    /// [`cert_bits`] of `certifications`.
    cert_bits: u64,
}

impl Constraints {
    /// `origin`: where distances are measured from (the owner, or the
    /// need's first municipality); a radius without an origin is ignored.
    pub(crate) fn new(need: &Need, origin: Option<GeoPoint>, tax: &Taxonomy) -> Constraints {
        let mut c = Constraints {
            certifications: need
                .certifications_required
                .iter()
                .map(|x| tax.canonical_certification(x))
                .collect(),
            ..Constraints::default()
        };
        if let Some(r) = &need.region {
            c.municipalities = r.municipality_codes.iter().map(|m| m.base()).collect();
            if !r.prefecture_codes.is_empty() {
                c.prefectures = Some(
                    r.prefecture_codes
                        .iter()
                        .filter_map(|p| p.parse::<u8>().ok())
                        .collect(),
                );
            }
            c.within = r.max_distance_km.zip(origin).map(|(km, o)| (o, km));
        }
        if c.within.is_none() {
            c.within = radius_in_text(&need.text)
                .zip(origin)
                .map(|(km, o)| (o, km));
        }
        c.cert_bits = cert_bits(&c.certifications);
        c
    }

    /// Whether the need constrains nothing (every company qualifies).
    pub(crate) fn is_empty(&self) -> bool {
        self.certifications.is_empty()
            && self.municipalities.is_empty()
            && self.prefectures.is_none()
            && self.within.is_none()
    }

    /// A superset of the slots that can meet the constraints, from the
    /// view's slot index: the smallest of the lists each region or
    /// certification constraint selects (ascending), and whether that list
    /// already proves the certifications (the holders of every required
    /// one), so [`Constraints::allows`] need not read the features for
    /// them. `None` when no such constraint narrows the search (a radius
    /// alone, or nothing).
    pub(crate) fn candidate_slots(&self, ix: &SlotIndex) -> Option<(Vec<u32>, bool)> {
        let mut lists: Vec<(Vec<u32>, bool)> = Vec::new();
        if !self.municipalities.is_empty() {
            let l = union(self.municipalities.iter().map(|&m| ix.municipality(m)));
            lists.push((l, false));
        }
        if let Some(p) = &self.prefectures {
            lists.push((union(p.iter().map(|&p| ix.prefecture(p))), false));
        }
        if !self.certifications.is_empty() {
            let holders = self.certifications.iter().map(|c| ix.holders(c));
            lists.push((intersection(holders), true));
        }
        lists.into_iter().min_by_key(|(l, _)| l.len())
    }

    /// Whether a company meets every constraint: region codes from its
    /// packed `key`, distance and certifications from its `features`,
    /// fetched only when the need has such constraints and the key passed.
    #[cfg(test)]
    pub(crate) fn allows<'a>(
        &self,
        key: &FilterKey,
        features: impl FnOnce() -> Option<&'a CompanyFeatures>,
    ) -> bool {
        self.allows_given(key, false, features)
    }

    /// [`Constraints::allows`] where `certs_known` says the company is
    /// already known to hold every required certification.
    pub(crate) fn allows_given<'a>(
        &self,
        key: &FilterKey,
        certs_known: bool,
        features: impl FnOnce() -> Option<&'a CompanyFeatures>,
    ) -> bool {
        if !self.municipalities.is_empty() && !self.municipalities.contains(&key.municipality) {
            return false;
        }
        if let Some(p) = &self.prefectures {
            if !p.contains(&((key.municipality / 1000) as u8)) {
                return false;
            }
        }
        if key.certs & self.cert_bits != self.cert_bits {
            return false;
        }
        let mut exact_distance = false;
        if let Some((origin, km)) = self.within {
            let Some((lat, lon)) = key.location else {
                return false;
            };
            // The haversine distance is at least R·|Δφ|: most of a need's
            // region rejects here, without trigonometry.
            if EARTH_RADIUS_KM * (lat as f64 - origin.lat).abs().to_radians() > km + 0.05 {
                return false;
            }
            let d = GeoPoint {
                lat: lat as f64,
                lon: lon as f64,
            }
            .distance_km(origin);
            if d > km + 0.01 {
                return false;
            }
            exact_distance = d >= km - 0.01;
        }
        let check_certs = !certs_known && !self.certifications.is_empty();
        if !exact_distance && !check_certs {
            return true;
        }
        let Some(f) = features() else {
            return false;
        };
        if let (true, Some((origin, km))) = (exact_distance, self.within) {
            match f.location {
                Some(l) if l.distance_km(origin) <= km => {}
                _ => return false,
            }
        }
        !check_certs
            || self
                .certifications
                .iter()
                .all(|c| f.certifications.contains(c))
    }
}

/// The slots in every one of some ascending slot lists (ascending).
fn intersection<'a>(mut lists: impl Iterator<Item = &'a [u32]>) -> Vec<u32> {
    let Some(first) = lists.next() else {
        return Vec::new();
    };
    let mut out = first.to_vec();
    for l in lists {
        out.retain(|s| l.binary_search(s).is_ok());
    }
    out
}

/// A radius the need's text states as a limit (当社から40km圏内の会社,
/// 工場から30キロ以内でお願いしたい): the smallest such, in km. For needs
/// written as free text only, whose form has no `max_distance_km`; a
/// structured radius wins. Only a number with a unit (km, キロ, キロメートル)
/// followed by a limit word (圏内, 以内, 以下, まで, 範囲) counts: 20km程度
/// is an estimate, 車で1時間以内 no distance, and a radius in a
/// nice-to-have (…が望ましい, できれば…) or an exclusion is no limit.
pub(crate) fn radius_in_text(text: &str) -> Option<f64> {
    const UNITS: [&str; 3] = ["キロメートル", "キロ", "km"];
    const LIMITS: [&str; 5] = ["圏内", "以内", "以下", "まで", "範囲"];
    let norm = crate::analysis::normalize(text);
    let t = norm.text.as_str();
    let scopes = crate::analysis::scope::need_scopes(text, false);
    let mut best: Option<f64> = None;
    let mut from = 0;
    while let Some((at, unit)) = UNITS
        .iter()
        .filter_map(|u| t[from..].find(u).map(|p| (from + p, *u)))
        .min_by_key(|&(p, u)| (p, std::cmp::Reverse(u.len())))
    {
        from = at + unit.len();
        let number_start = t[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| c.is_ascii_digit() || c == '.')
            .last()
            .map(|(i, _)| i);
        let Some(ns) = number_start else { continue };
        let Ok(km) = t[ns..at].parse::<f64>() else {
            continue;
        };
        let after: String = t[from..].chars().take(4).collect();
        let limit = LIMITS.iter().any(|l| after.contains(l));
        if !limit || km <= 0.0 || km > 500.0 {
            continue;
        }
        let (s, e) = norm.orig_span(ns, from);
        let scope = crate::analysis::scope::scope_at(&scopes, s, e);
        if matches!(scope, Some(ScopeKind::Optional | ScopeKind::Excluded)) {
            continue;
        }
        best = Some(best.map_or(km, |b: f64| b.min(km)));
    }
    best
}

/// The ascending union of ascending slot lists.
fn union<'a>(lists: impl Iterator<Item = &'a [u32]>) -> Vec<u32> {
    let mut all: Vec<u32> = lists.flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::records::FilterKey;

    fn need(region: serde_json::Value, certs: &[&str]) -> Need {
        serde_json::from_value(serde_json::json!({
            "id": "n1", "kind": "subcontracting", "title": "旋盤加工", "text": "旋盤加工の協力先を探しています",
            "region": region, "certifications_required": certs,
        }))
        .expect("need")
    }

    fn company(municipality: &str, lat: f64, certs: &[&str]) -> CompanyFeatures {
        serde_json::from_value(serde_json::json!({
            "id": "c1", "name": "テスト工業", "municipality": municipality,
            "location": {"lat": lat, "lon": 139.75}, "jsic": [], "certifications": certs,
            "equipment": [], "concepts": [], "updated_at": null, "employees": null,
            "visibility": "public"
        }))
        .expect("features")
    }

    fn key(f: &CompanyFeatures) -> FilterKey {
        FilterKey::of(f)
    }

    fn allows(c: &Constraints, f: &CompanyFeatures) -> bool {
        c.allows(&key(f), || Some(f))
    }

    #[test]
    fn region_codes_are_checked_on_the_key() {
        let tax = Taxonomy::default();
        let chiyoda = company("131016", 35.69, &[]);
        let yokohama = company("141003", 35.44, &[]);
        let c = Constraints::new(
            &need(serde_json::json!({"municipality_codes": ["131016"]}), &[]),
            None,
            &tax,
        );
        assert!(allows(&c, &chiyoda) && !allows(&c, &yokohama));
        let c = Constraints::new(
            &need(serde_json::json!({"prefecture_codes": ["14"]}), &[]),
            None,
            &tax,
        );
        assert!(!allows(&c, &chiyoda) && allows(&c, &yokohama));
        // a prefecture list with no valid code lets nothing through
        let c = Constraints::new(
            &need(serde_json::json!({"prefecture_codes": ["xx"]}), &[]),
            None,
            &tax,
        );
        assert!(!allows(&c, &chiyoda));
    }

    #[test]
    fn distance_is_exact_at_the_radius() {
        let tax = Taxonomy::default();
        let origin = GeoPoint {
            lat: 35.69,
            lon: 139.75,
        };
        let near = company("131016", 35.69 + 0.0899, &[]); // ≈ 10.0 km north
        let d = near.location.map(|l| l.distance_km(origin)).unwrap_or(0.0);
        let region = |km: f64| serde_json::json!({ "max_distance_km": km });
        let within = Constraints::new(&need(region(d), &[]), Some(origin), &tax);
        let short = Constraints::new(&need(region(d - 0.001), &[]), Some(origin), &tax);
        assert!(allows(&within, &near), "at exactly {d} km");
        assert!(!allows(&short, &near), "1 m short of {d} km");
        // without an origin the radius cannot apply
        let no_origin = Constraints::new(&need(region(1.0), &[]), None, &tax);
        assert!(allows(&no_origin, &near));
    }

    /// A limit stated in the text is a radius; an estimate, a time, a
    /// nice-to-have or a structured radius are not (or win).
    #[test]
    fn a_radius_stated_in_the_text_limits_the_region() {
        for (text, km) in [
            (
                "持ち込みで打合せしたいので、当社から40km圏内の会社を希望します。",
                Some(40.0),
            ),
            ("当社から６０キロ以内の企業に限ります。", Some(60.0)),
            (
                "当社のトラックで運ぶので、工場から30km以内でお願いしたいです",
                Some(30.0),
            ),
            ("打合せが多いので、車で30分圏内（20km程度）が理想です", None),
            (
                "お客様が困らないよう、近く（15km以内）の会社が望ましいです",
                None,
            ),
            ("車で1時間以内の会社を希望します。", None),
            ("最大3kmの長尺物を運びます。", None),
        ] {
            assert_eq!(radius_in_text(text), km, "{text}");
        }
        let tax = Taxonomy::default();
        let origin = GeoPoint {
            lat: 35.69,
            lon: 139.75,
        };
        let far = company("131016", 35.69 + 0.45, &[]); // ≈ 50 km north
        let mut n = need(serde_json::Value::Null, &[]);
        n.text = "当社から40km圏内の会社を希望します。".into();
        assert!(!allows(&Constraints::new(&n, Some(origin), &tax), &far));
        // a structured radius wins over the text's
        n.region =
            serde_json::from_value(serde_json::json!({ "max_distance_km": 60 })).expect("region");
        assert!(allows(&Constraints::new(&n, Some(origin), &tax), &far));
    }

    #[test]
    fn certifications_need_every_one_and_the_bloom_bits_only_reject() {
        let tax = Taxonomy::default();
        let both = company("131016", 35.69, &["ISO9001", "ISO14001"]);
        let one = company("131016", 35.69, &["ISO9001"]);
        let c = Constraints::new(
            &need(serde_json::Value::Null, &["iso9001", "iso14001"]),
            None,
            &tax,
        );
        assert!(allows(&c, &both));
        assert!(!allows(&c, &one));
        // the key alone never admits: features are read when the bits match
        assert!(!c.allows(&key(&both), || None));
    }
}
