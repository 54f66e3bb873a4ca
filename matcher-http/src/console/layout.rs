//! The page frame and small formatting helpers shared by the pages.

use matcher_core::outcomes::kpi::{CivilDate, JST_OFFSET_SECS};
use matcher_core::outcomes::Stage;
use maud::{html, Markup, DOCTYPE};

use super::session::User;

/// Which tab of the navigation is lit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Search,
    Needs,
    Kpi,
    Audit,
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " — matcher コンソール" }
        link rel="stylesheet" href="/console/assets/console.css";
        script src="/console/assets/console.js" defer {}
    }
}

/// A page without navigation (login, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head { (head(title)) }
            body { main.narrow { (body) } }
        }
    }
}

/// A console page for a logged-in user.
pub fn page(user: &User, tab: Tab, title: &str, body: Markup) -> Markup {
    let item = |t: Tab, href: &str, label: &str| {
        html! {
            a href=(href) class=@if t == tab { "active" } @else { "" } { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="ja" {
            head { (head(title)) }
            body {
                header.top {
                    span.brand { "matcher" }
                    nav {
                        (item(Tab::Search, "/console/search", "企業検索"))
                        (item(Tab::Needs, "/console/needs", "ニーズ"))
                        (item(Tab::Kpi, "/console/kpi", "成果・KPI"))
                        @if user.is_admin() {
                            (item(Tab::Audit, "/console/audit", "閲覧記録"))
                        }
                    }
                    span.who {
                        (user.caller.name) "（" (role_label(user)) "）"
                        form.inline method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button.link type="submit" { "ログアウト" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

fn role_label(user: &User) -> &'static str {
    if user.is_admin() {
        "管理者"
    } else {
        "コーディネーター"
    }
}

/// `2026-12-04 15:30` in Japan time.
pub fn time(unix: i64) -> String {
    let d = CivilDate::jst(unix);
    let secs = (unix + JST_OFFSET_SECS).rem_euclid(86_400);
    format!("{d} {:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// The CSRF field of a form.
pub fn csrf(user: &User) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf); }
}

/// A stage as a coloured label.
pub fn stage(s: Stage) -> Markup {
    html! { span class={"stage stage-" (s.as_str())} { (s.label()) } }
}

/// `text` with the byte ranges in `marks` wrapped in `<mark>` (ranges are
/// clipped to char boundaries; overlapping ones merged).
pub fn highlighted(text: &str, marks: &[(usize, usize)]) -> Markup {
    let mut ranges: Vec<(usize, usize)> = marks
        .iter()
        .filter(|(a, b)| a < b && *b <= text.len())
        .filter(|(a, b)| text.is_char_boundary(*a) && text.is_char_boundary(*b))
        .copied()
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut at = 0;
    html! {
        @for (a, b) in merged {
            (&text[at..a])
            mark { (&text[a..b]) }
            ({ at = b; "" })
        }
        (&text[at..])
    }
}

/// A score as a percentage-like number (0.734 → 73).
pub fn score(x: f32) -> String {
    format!("{:.0}", (x * 100.0).clamp(0.0, 999.0))
}

/// Codes or words typed into one field, split at spaces, commas and 、.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c == '、' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_wrap_ranges_and_escape_the_rest() {
        let t = "5軸マシニングセンタ<SUS304>";
        let m = highlighted(t, &[(0, 4), (1, 7), (100, 200)]).into_string();
        assert_eq!(m, "<mark>5軸マ</mark>シニングセンタ&lt;SUS304&gt;");
    }

    #[test]
    fn times_are_japan_time() {
        assert_eq!(time(0), "1970-01-01 09:00");
    }
}
