//! Highlights a JavaScript portal can use as they come: on a real server,
//! a profile whose text has characters outside the BMP (𠮷 U+20BB7, 𠀋
//! U+2000B) before the matched words, so UTF-8 bytes, UTF-16 code units
//! and code points all differ; slicing the snippet as JavaScript does
//! (`text.slice(a, b)`, UTF-16) with `highlights_utf16` must give the same
//! words as the byte offsets, and `formatted` is the escaped HTML.

mod common;

use common::*;
use serde_json::{json, Value};

const TEXT: &str = "𠮷野家と𠀋の<特注>向けにNC旋盤でシャフト&ピンを加工します。";

/// JavaScript's `s.slice(a, b)`: indices in UTF-16 code units.
fn js_slice(s: &str, a: usize, b: usize) -> String {
    let units: Vec<u16> = s.encode_utf16().collect();
    String::from_utf16(&units[a..b]).expect("a range on whole surrogate pairs")
}

fn pairs(v: &Value) -> Vec<(usize, usize)> {
    v.as_array()
        .expect("an array of ranges")
        .iter()
        .map(|p| {
            (
                p[0].as_u64().unwrap() as usize,
                p[1].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn snippet(s: &Server, path: &str, body: Option<Value>) -> Value {
    let r = match body {
        Some(b) => s.post(path, PORTAL, b).await,
        None => s.get(path, PORTAL).await,
    };
    let v = r.expect(200).json();
    let hit = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "hl-yoshinoya")
        .unwrap_or_else(|| panic!("the profile is a hit: {v}"))
        .clone();
    hit["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|sn| sn["field"] == "capabilities")
        .unwrap_or_else(|| panic!("a capabilities snippet: {hit}"))
        .clone()
}

#[tokio::test]
async fn utf16_offsets_slice_like_javascript_beyond_the_bmp() {
    let s = server().await;
    s.post(
        "/v1/companies",
        ADMIN,
        json!({
            "id": "hl-yoshinoya", "name": "𠮷野精機", "municipality_code": "131113",
            "industry_codes": ["24"], "capabilities": TEXT,
        }),
    )
    .await
    .expect(201);

    for (path, body) in [
        ("/v1/search?q=旋盤%20シャフト&formatted=true", None),
        (
            "/v1/search",
            Some(json!({"query": "旋盤 シャフト", "formatted": true})),
        ),
    ] {
        let sn = snippet(&s, path, body).await;
        let text = sn["text"].as_str().unwrap();
        assert!(text.contains('𠮷'), "the window starts before 𠮷: {text}");
        let bytes = pairs(&sn["highlights"]);
        let utf16 = pairs(&sn["highlights_utf16"]);
        let chars = pairs(&sn["highlights_chars"]);
        assert_eq!(bytes.len(), utf16.len());
        assert_eq!(bytes.len(), chars.len());
        let words: Vec<&str> = bytes.iter().map(|&(a, b)| &text[a..b]).collect();
        assert!(
            words.iter().any(|w| w.contains("旋盤")) && words.contains(&"シャフト"),
            "{words:?}"
        );
        for (i, w) in words.iter().enumerate() {
            let (a, b) = utf16[i];
            assert_eq!(js_slice(text, a, b), *w, "UTF-16 range {i}");
            let (a, b) = chars[i];
            let by_chars: String = text.chars().skip(a).take(b - a).collect();
            assert_eq!(by_chars, *w, "code point range {i}");
            // 𠮷 and 𠀋 come first: two UTF-16 units each, one code point.
            assert_eq!(utf16[i].0, chars[i].0 + 2, "range {i}");
        }
        // The fragment: the text escaped, <em> around exactly these words.
        let mut want = String::new();
        let mut pos = 0;
        for &(a, b) in &bytes {
            want.push_str(&escape(&text[pos..a]));
            want.push_str(&format!("<em>{}</em>", escape(&text[a..b])));
            pos = b;
        }
        want.push_str(&escape(&text[pos..]));
        assert_eq!(sn["formatted"].as_str(), Some(want.as_str()));
        assert!(want.contains("&lt;特注&gt;") && want.contains("&amp;"));
    }

    // Not asked for: no fragment, offsets still there.
    let sn = snippet(&s, "/v1/search?q=旋盤", None).await;
    assert!(sn.get("formatted").is_none(), "{sn}");
    assert!(!pairs(&sn["highlights_utf16"]).is_empty());
}
