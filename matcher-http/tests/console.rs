//! The coordinator console in a real headless browser (Debian's chromium
//! driven through chromedriver by fantoccini) against a real server on
//! 127.0.0.1 with a data folder on disk.
//!
//! The walk a coordinator makes: a portal key is refused at the login;
//! log in; search; open a company; a need form with errors named in
//! Japanese; create the need; see candidates with evidence; shortlist one;
//! move it 提案 → 連絡 → 面談 → 成約; see the KPI deal count go up; download
//! the KPI CSV in Shift_JIS and in UTF-8 with BOM and check both; read a
//! restricted profile and see the read in the admin's audit page.
//!
//! Screenshots of the main pages go to `target/tmp/console-screenshots/`
//! (test artifacts, not committed). `scripts/setup.sh` installs chromium;
//! without it this test fails unless `MATCHER_SKIP_BROWSER_TESTS=1`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use matcher_http::http::{auth::hash_key, serve_until, ServeConfig};
use serde_json::json;
use tokio::sync::oneshot;

const ADMIN: &str = "console-test-admin-key";
const COORD: &str = "console-test-coordinator-key";
const PORTAL: &str = "console-test-portal-key";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn chromedriver() -> (Driver, u16) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (installed by scripts/setup.sh)");
    let d = Driver(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (d, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port} within 10 s");
}

async fn browser(port: u16, profile: &Path, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1280,1100", "--lang=ja",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
                "intl.accept_languages": "ja"
            }
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session")
        .tap_timeouts()
        .await
}

trait TapTimeouts {
    async fn tap_timeouts(self) -> Client;
}

impl TapTimeouts for Client {
    /// Elements of a page still loading are waited for (up to 10 s).
    async fn tap_timeouts(self) -> Client {
        let t = fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(60)),
            Some(Duration::from_secs(10)),
        );
        self.update_timeouts(t).await.expect("timeouts");
        self
    }
}

async fn start_server(data: &Path) -> (SocketAddr, oneshot::Sender<()>) {
    std::fs::create_dir_all(data).unwrap();
    let keys = data.join("keys.tsv");
    std::fs::write(
        &keys,
        format!(
            "ops\tadmin\t{}\ntama-center\tcoordinator\t{}\ncity-portal\tportal\t{}\n",
            hash_key(ADMIN),
            hash_key(COORD),
            hash_key(PORTAL)
        ),
    )
    .unwrap();
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        fixtures_dir: matcher_core::fixtures::fixtures_dir(),
        key_file: Some(keys),
        cors_origins: vec![],
        match_config: None,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready_tx, ready) = oneshot::channel();
    tokio::spawn(async move {
        let _ = serve_until(
            config,
            async move {
                let _ = stopped.await;
            },
            Some(ready_tx),
        )
        .await;
    });
    let addr = tokio::time::timeout(Duration::from_secs(180), ready)
        .await
        .expect("server ready in time")
        .expect("server started")
        .addr;
    (addr, stop)
}

fn shots_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Click what navigates, and wait (bounded) until the new page replaced
/// the old one, so that nothing below reads the old page.
async fn click_away(c: &Client, target: Element) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    target.click().await.unwrap();
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page did not change within 10 s of the click");
}

async fn click(c: &Client, css: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    click_away(c, e).await;
}

async fn login(c: &Client, base: &str, key: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    fill(c, "input#key", key).await;
    click(c, "form button[type=submit]").await;
}

/// The deals of this month's total row on the KPI page (0 without one).
async fn deals_this_month(c: &Client, base: &str) -> u32 {
    c.goto(&format!("{base}/console/kpi")).await.unwrap();
    let d = matcher_core::outcomes::kpi::CivilDate::jst(matcher_core::journal::now_unix());
    let css = format!(
        "tr.total[data-period='{:04}-{:02}'] td.deals",
        d.year, d.month
    );
    match c.find(Locator::Css(&css)).await {
        Ok(e) => e.text().await.unwrap().trim().parse().unwrap(),
        Err(_) => 0,
    }
}

/// Wait (bounded) for a downloaded file whose name starts with `prefix`.
async fn downloaded(dir: &Path, prefix: &str) -> Vec<u8> {
    for _ in 0..100 {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(prefix) && name.ends_with(".csv") {
                    return std::fs::read(e.path()).unwrap();
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no download {prefix}*.csv in {} within 10 s", dir.display());
}

async fn select(form: &Element, name: &str, value: &str) {
    form.find(Locator::Css(&format!(
        "select[name={name}] option[value='{value}']"
    )))
    .await
    .unwrap_or_else(|e| panic!("no option {value} in {name}: {e}"))
    .click()
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_goes_from_search_to_a_deal_and_the_kpis_follow() {
    if std::env::var("MATCHER_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("MATCHER_SKIP_BROWSER_TESTS=1: browser test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let (addr, _stop) = start_server(&dir.path().join("data")).await;
    let base = format!("http://{addr}");
    let (_driver, port) = chromedriver().await;
    let c = browser(port, &dir.path().join("profile"), &downloads).await;

    // Not logged in: to the login page. A portal key is refused.
    c.goto(&format!("{base}/console/")).await.unwrap();
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/login"));
    login(&c, &base, PORTAL).await;
    let refused = text(&c, "#login-error").await;
    assert!(refused.contains("ポータル用のキー"), "{refused}");
    shot(&c, "login-refused").await;

    // A coordinator logs in and searches.
    login(&c, &base, COORD).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/console/search");
    fill(&c, "input[name=q]", "5軸 マシニング").await;
    click(&c, "form.search button[type=submit]").await;
    let total = text(&c, "#total").await;
    let n: usize = total.trim_end_matches(" 社").trim().parse().unwrap();
    assert!(n > 0, "search found nothing: {total}");
    let marks = c.find_all(Locator::Css("article.hit mark")).await.unwrap();
    assert!(!marks.is_empty(), "no highlighted terms in the hits");
    shot(&c, "search").await;

    // The first company's page: profile, equipment table, opportunities.
    click(&c, "article.hit a.company-link").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/console/companies/"));
    let page = text(&c, "main").await;
    for part in [
        "技術・強み",
        "保有設備",
        "情報の鮮度",
        "公開範囲",
        "応えられそうなニーズ",
    ] {
        assert!(page.contains(part), "company page lacks {part}");
    }
    shot(&c, "company").await;

    let deals_before = deals_this_month(&c, &base).await;

    // The need form names what is missing, in Japanese.
    c.goto(&format!("{base}/console/needs/new")).await.unwrap();
    click(&c, "button[value=save]").await;
    let errors = text(&c, "#form-errors").await;
    assert!(
        errors.contains("件名") && errors.contains("内容"),
        "{errors}"
    );
    fill(&c, "input[name=km]", "十キロ").await;
    fill(&c, "input[name=title]", "チタン部品の5軸加工").await;
    fill(
        &c,
        "textarea[name=text]",
        "医療機器向けのチタン製部品を5軸マシニングセンタで加工できる会社を探しています。月100個程度です。",
    )
    .await;
    click(&c, "button[value=save]").await;
    let errors = text(&c, "#form-errors").await;
    assert!(
        errors.contains("距離") && !errors.contains("件名"),
        "{errors}"
    );
    fill(&c, "input[name=km]", "").await;
    click(&c, "button[value=save]").await;
    let url = c.current_url().await.unwrap();
    assert!(url.path().starts_with("/console/needs/n-"), "{url}");
    let need_path = url.path().to_owned();

    // Candidates with evidence: a why, highlighted profile terms, concepts.
    let cands = c.find_all(Locator::Css("li.candidate")).await.unwrap();
    assert!(cands.len() >= 3, "{} candidates", cands.len());
    let why = text(&c, "li.candidate p.why").await;
    assert!(!why.trim().is_empty());
    assert!(!c
        .find_all(Locator::Css("li.candidate p.profile mark"))
        .await
        .unwrap()
        .is_empty());
    assert!(!c
        .find_all(Locator::Css("li.candidate li.concept"))
        .await
        .unwrap()
        .is_empty());
    // The first candidate's requirement checklist: each stated requirement
    // of the need, met (✓) or lacking (✗).
    let mut reqs = Vec::new();
    for e in c
        .find_all(Locator::Css("li.candidate:first-child li.requirement"))
        .await
        .unwrap()
    {
        reqs.push(e.text().await.unwrap());
    }
    assert!(reqs.iter().any(|r| r.contains("チタン")), "{reqs:?}");
    assert!(reqs.iter().any(|r| r.starts_with('✓')), "{reqs:?}");
    assert!(
        reqs.iter()
            .all(|r| r.starts_with('✓') || r.starts_with('✗')),
        "{reqs:?}"
    );
    shot(&c, "candidates").await;

    // Shortlist the first candidate, then move it to 成約 one stage at a time.
    let first = cands[0].attr("data-company").await.unwrap().unwrap();
    fill(
        &c,
        "li.candidate form.shortlist input[name=note]",
        "5軸とチタンの実績あり",
    )
    .await;
    click(&c, "li.candidate form.shortlist button.shortlist-add").await;
    let row_css = format!("table.shortlist tr[data-company='{first}']");
    assert_eq!(
        text(&c, &format!("{row_css} td.stage-cell")).await.trim(),
        "提案"
    );
    for (to, label) in [("contacted", "連絡"), ("meeting", "面談"), ("deal", "成約")] {
        let form = c
            .find(Locator::Css(&format!("{row_css} form.move")))
            .await
            .unwrap();
        select(&form, "to", to).await;
        let b = form.find(Locator::Css("button.move-submit")).await.unwrap();
        click_away(&c, b).await;
        let done = text(&c, "#action-done").await;
        assert!(done.contains(label), "{done}");
        assert_eq!(
            text(&c, &format!("{row_css} td.stage-cell")).await.trim(),
            label
        );
    }
    // A finished pair offers no further move.
    assert!(c
        .find_all(Locator::Css(&format!("{row_css} form.move")))
        .await
        .unwrap()
        .is_empty());
    shot(&c, "shortlist").await;

    // The KPI page counts the deal.
    assert_eq!(deals_this_month(&c, &base).await, deals_before + 1);
    shot(&c, "kpi").await;

    // The KPI table as Shift_JIS and as UTF-8 with BOM, as Excel reads them.
    // A download: the page stays.
    c.find(Locator::Css("a.kpi-csv-sjis"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let sjis = downloaded(&downloads, "kpi-sjis").await;
    assert!(std::str::from_utf8(&sjis).is_err(), "Shift_JIS, not UTF-8");
    let (t, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!bad);
    let mut lines = t.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("期間,期間名,集計,受付ニーズ,提案,連絡,面談,成約"));
    let total_row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(total_row[2], "全体");
    assert_eq!(
        total_row[7],
        (deals_before + 1).to_string(),
        "{total_row:?}"
    );
    c.goto(&format!(
        "{base}/console/kpi.csv?period=fiscal_year&by=all&enc=utf8"
    ))
    .await
    .unwrap();
    let utf8 = downloaded(&downloads, "kpi-utf8").await;
    assert_eq!(&utf8[..3], &[0xEF, 0xBB, 0xBF]);
    assert!(std::str::from_utf8(&utf8[3..]).unwrap().contains("年度"));

    // A restricted profile: marked, and the read is in the admin's audit.
    c.goto(&format!("{base}/console/companies/tk-003"))
        .await
        .unwrap();
    let notice = text(&c, "#restricted-notice").await;
    assert!(notice.contains("限定公開"), "{notice}");
    c.goto(&format!("{base}/console/audit")).await.unwrap();
    assert!(text(&c, "main").await.contains("閲覧記録は管理者だけ"));
    login(&c, &base, ADMIN).await;
    c.goto(&format!("{base}/console/audit")).await.unwrap();
    let audit = text(&c, "#audit-table").await;
    assert!(
        audit.contains("tk-003") && audit.contains("tama-center"),
        "{audit}"
    );
    shot(&c, "audit").await;

    // The shortlist survived as data: the REST view says the same.
    let need_id = need_path.trim_start_matches("/console/needs/");
    let r: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/v1/needs/{need_id}/shortlist"))
        .bearer_auth(COORD)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["items"][0]["stage"], "deal");
    assert_eq!(r["items"][0]["proposed_by"], "tama-center");
    assert_eq!(r["items"][0]["history"].as_array().unwrap().len(), 4);
    c.close().await.unwrap();
}
