//! The dashboard in a real browser: Debian's Chromium, headless, driven through
//! ChromeDriver by fantoccini (WebDriver). `scripts/install-chromium.sh` installs both
//! when they are missing, as the test broker installs itself; if that fails the test
//! fails saying why (it is never skipped).
//!
//! During a paced Nexmark run the page must draw the plan graph with every node, show
//! the rates moving, draw the charts, list windows that fired and explain one, and
//! the jobs page must list the pipeline. A screenshot is written to
//! `target/tmp/dashboard.png`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use tidewater::generators::core::{GeneratorSource, Pacing};
use tidewater::generators::nexmark::{Bid, NexmarkConfig, NexmarkGenerator};
use tidewater::prelude::*;

/// ChromeDriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start_driver() -> Driver {
    if !installed("chromedriver") || !installed("chromium") {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/install-chromium.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .expect("running the install script");
        assert!(
            out.status.success(),
            "{} failed: {}{}",
            script.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // It says so on its first lines once it listens.
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let started = lines
        .by_ref()
        .take(20)
        .map_while(Result::ok)
        .any(|l| l.contains("started successfully"));
    assert!(
        started,
        "chromedriver did not say it started on port {port}"
    );
    // Keep reading its output so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Driver { child, port }
}

/// Nexmark bids at 20 000 events/s, counted per auction group in 2 s windows.
fn pipeline(dir: &std::path::Path) -> Pipeline {
    let config = Config::default()
        .with_name("bids")
        .with_parallelism(2)
        .with_explain(true)
        .with_checkpointing(
            dir,
            Duration::from_millis(500),
            DeliveryGuarantee::AtLeastOnce,
        )
        .with_http("127.0.0.1:0");
    let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 3))
        .realtime(Pacing::rate(20_000.0));
    let mut p = Pipeline::new(config);
    tidewater::nexmark::bids(p.source(source))
        .with_watermark(Watermark::bounded("100 ms", |b: &Bid| b.date_time))
        .key_by(|b: &Bid| b.auction % 20)
        .window(TumblingWindow::of("2 seconds"))
        .late_records(MemorySink::new())
        .aggregate(Count)
        .sink(MemorySink::new());
    p
}

async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until `condition` (a JavaScript expression) holds in the page: the browser
/// re-checks it on each animation frame and answers once it does (the WebDriver script
/// timeout, 60 s, bounds the wait).
async fn wait_until(client: &fantoccini::Client, what: &str, condition: &str) {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         const check = () => {{ if ({condition}) done(true); else requestAnimationFrame(check); }};
         check();"
    );
    let held = client.execute_async(&script, vec![]).await;
    assert!(
        matches!(held, Ok(serde_json::Value::Bool(true))),
        "waiting for {what}: {held:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_running_pipeline_in_chromium() {
    let driver = start_driver();
    let dir = tempfile::tempdir().unwrap();
    let processor = pipeline(dir.path()).start().unwrap();
    let base = format!("http://{}", processor.http_addr().unwrap());
    let plan = processor.plan();
    let capabilities = serde_json::json!({
        "timeouts": {"script": 60_000},
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,2300"]
        }
    });
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session");
    client.goto(&format!("{base}/")).await.unwrap();

    // The plan: one SVG group per node, named as the processor's plan names them.
    wait_until(
        &client,
        "the plan graph",
        "document.querySelectorAll('#plan g.node').length > 0",
    )
    .await;
    let mut drawn = Vec::new();
    for node in client.find_all(Locator::Css("#plan g.node")).await.unwrap() {
        drawn.push(node.attr("data-node").await.unwrap().unwrap());
    }
    let planned: Vec<String> = plan.nodes.iter().map(|n| n.name.clone()).collect();
    assert_eq!(drawn, planned);
    let edges = client
        .find_all(Locator::Css("#plan path.edge"))
        .await
        .unwrap();
    assert_eq!(edges.len(), plan.edges.len());

    // Rates change as events arrive; the hash edge shows its rate and backpressure.
    wait_until(
        &client,
        "events/s",
        "document.getElementById('events-per-sec').textContent !== '0'",
    )
    .await;
    let first = text_of(&client, "#source-records").await;
    wait_until(
        &client,
        "the record count to move",
        &format!("document.getElementById('source-records').textContent !== {first:?}"),
    )
    .await;
    assert_ne!(text_of(&client, "#source-records").await, first);
    let hash = plan
        .edges
        .iter()
        .find(|e| e.partitioning == tidewater_engine::plan::Partitioning::Hash)
        .unwrap();
    let label = text_of(&client, &format!("#edge-label-{}-{}", hash.from, hash.to)).await;
    assert!(label.contains("/s hash · bp "), "{label}");
    assert_eq!(text_of(&client, "#status").await, "Running");
    assert_eq!(text_of(&client, "#parallelism").await, "2");
    // Four charts, one per panel, and a watermark reached.
    assert_eq!(
        client
            .find_all(Locator::Css(".charts .uplot"))
            .await
            .unwrap()
            .len(),
        4
    );
    assert_ne!(text_of(&client, "#watermark").await, "none");

    // A window fired; its explanation opens from the list.
    wait_until(
        &client,
        "a fired window",
        "document.querySelectorAll('#firings button').length > 0",
    )
    .await;
    client
        .find(Locator::Css("#firings button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(
        &client,
        "the explanation",
        "document.getElementById('explain-result').textContent.includes('fired (final result)')",
    )
    .await;
    let explained = text_of(&client, "#explain-result").await;
    assert!(explained.starts_with("window ["), "{explained}");
    assert!(explained.contains("in `window(tumbling)#"), "{explained}");
    let key = client
        .find(Locator::Id("explain-key"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let start = client
        .find(Locator::Id("explain-start"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let start: i64 = start.parse().unwrap();
    assert!(
        explained.contains(&format!("window [{start}, {})", start + 2_000)),
        "{explained}"
    );
    assert!(explained.contains(&format!("of key {key} ")), "{explained}");

    // The checkpoints table fills in.
    wait_until(
        &client,
        "a checkpoint",
        "document.getElementById('checkpoints').textContent.includes('completed')",
    )
    .await;

    let png = client.screenshot().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    std::fs::write(&shot, &png).unwrap();
    eprintln!("screenshot: {}", shot.display());

    // The jobs page lists the pipeline, running, and links to its dashboard.
    client.goto(&format!("{base}/jobs")).await.unwrap();
    wait_until(
        &client,
        "the jobs table",
        "document.querySelectorAll('#jobs tbody tr').length === 1",
    )
    .await;
    let row = text_of(&client, "#jobs tbody tr").await;
    assert!(row.starts_with("bids Running"), "{row}");
    client.close().await.unwrap();
    processor.stop(false);
    processor.await_termination(Some(Duration::from_secs(30)));
}
