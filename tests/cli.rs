//! The `tidewater` command: help with examples, unknown flags rejected, bad values
//! refused with a non-zero exit, the demo's output.

use assert_cmd::Command;

fn tidewater(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("tidewater")
        .expect("the binary is built")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_commands_and_examples_and_runs_nothing() {
    let (code, stdout, _) = tidewater(&["--help"]);
    assert_eq!(code, 0);
    for expected in ["demo", "spark-replay", "--events", "--keys", "Examples:"] {
        assert!(
            stdout.contains(expected),
            "`{expected}` missing from:\n{stdout}"
        );
    }
    assert!(!stdout.contains("window_start"), "help ran the demo");
}

#[test]
fn unknown_flags_and_bad_values_exit_non_zero_saying_why() {
    let cases: [(&[&str], &str); 4] = [
        (&["--evnts", "10"], "unexpected argument '--evnts'"),
        (
            &["demo", "--keys", "0"],
            "invalid value '0' for '--keys <KEYS>'",
        ),
        (
            &["demo", "--parallelism", "0"],
            "invalid value '0' for '--parallelism <PARALLELISM>'",
        ),
        (&["spark-replay", "/no/such/case"], "error: "),
    ];
    for (args, message) in cases {
        let failed = Command::cargo_bin("tidewater")
            .unwrap()
            .args(args)
            .assert()
            .failure()
            .stdout("");
        let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
        assert!(
            stderr.contains(message),
            "{args:?}: `{message}` missing from:\n{stderr}"
        );
    }
}

#[test]
fn the_demo_prints_one_json_line_per_key_and_window() {
    let (code, stdout, stderr) = tidewater(&[
        "demo",
        "--events",
        "300000",
        "--keys",
        "2",
        "--parallelism",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // W1 generates 100 000 events per event-second: 3 windows x 2 keys.
    assert_eq!(lines.len(), 6);
    let total: u64 = lines.iter().map(|l| l["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 300_000);
    assert!(stderr.starts_with("demo: 300000 events"), "{stderr}");
}

#[test]
fn generate_streams_simulators_past_their_bounded_run() {
    // One device reading a minute for an hour is 60 readings; --events asks for more.
    let table = [
        (
            vec![
                "iot.readings",
                "--param",
                "fleet_size=1",
                "--param",
                "duration_hours=1",
            ],
            500,
        ),
        (
            vec!["financial.transactions", "--param", "duration_hours=0.5"],
            2_000,
        ),
        (vec!["oplogs.logs", "--param", "duration_hours=0.1"], 3_000),
        (vec!["workflow.events", "--param", "entity_count=5"], 400),
    ];
    for (args, events) in table {
        let n = events.to_string();
        let mut all = vec!["generate"];
        all.extend(args.iter().copied());
        all.extend(["--events", n.as_str()]);
        let (code, out, err) = tidewater(&all);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(out.lines().count(), events, "{args:?}");
    }
}

#[test]
fn generate_writes_the_same_rows_for_the_same_seed_to_stdout_and_files() {
    let (code, first, _) = tidewater(&["generate", "nexmark", "--events", "50", "--seed", "7"]);
    assert_eq!(code, 0);
    assert_eq!(first.lines().count(), 50);
    let (_, again, _) = tidewater(&["generate", "nexmark", "--events", "50", "--seed", "7"]);
    assert_eq!(first, again);
    let (_, other, _) = tidewater(&["generate", "nexmark", "--events", "50", "--seed", "8"]);
    assert_ne!(first, other);
    let first_event: serde_json::Value =
        serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(first_event["person"]["id"], 1000, "{first_event}");

    let dir = tempfile::tempdir().unwrap();
    for (file, format) in [
        ("r.parquet", None),
        ("r.csv", None),
        ("r.out", Some("jsonl")),
    ] {
        let path = dir.path().join(file);
        let mut args = vec![
            "generate",
            "iot",
            "--events",
            "120",
            "--output",
            path.to_str().unwrap(),
        ];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let (code, _, err) = tidewater(&args);
        assert_eq!(code, 0, "{err}");
        let read_as = format.map_or_else(
            || path.extension().unwrap().to_str().unwrap().parse().unwrap(),
            |f| f.parse().unwrap(),
        );
        let rows = tidewater::formats::read_rows(&path, read_as).unwrap();
        assert_eq!(rows.len(), 120, "{file}");
        assert!(rows[0].get("device_id").is_some(), "{file}: {:?}", rows[0]);
    }
    let (code, _, err) = tidewater(&["generate", "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: unknown generator `nope`: nexmark, nexmark_bids,"),
        "{err}"
    );
    let (code, _, err) = tidewater(&["generate", "iot", "--param", "fleet_size"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("expected key=value, found `fleet_size`"),
        "{err}"
    );
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, err) = tidewater(&["completions", shell]);
        assert_eq!(code, 0, "{err}");
        for command in ["run", "validate", "generate", "demo", "spark-replay"] {
            assert!(script.contains(command), "{shell}: {command}");
        }
    }
    let (code, _, err) = tidewater(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}

#[test]
fn bench_prints_a_json_line_per_run_beside_the_source_alone() {
    let (code, stdout, stderr) = tidewater(&[
        "bench",
        "--query",
        "w1",
        "--events",
        "200000",
        "--repeat",
        "2",
        "--parallelism",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["query"], "w1");
        assert_eq!(l["run"], i);
        assert_eq!(l["parallelism"], 2);
        // 200 000 W1 events: 2 s of event time over 1 000 keys, a count per key per second.
        assert_eq!(
            (l["rows"].as_u64(), l["check"].as_str()),
            (Some(2_000), Some("pass"))
        );
        for field in [
            "events_per_sec",
            "source_events_per_sec",
            "source_ratio",
            "p99_ms",
        ] {
            assert!(l[field].as_f64().is_some_and(|v| v > 0.0), "{field}: {l}");
        }
        assert!(
            l["peak_rss_bytes"].as_u64().is_some_and(|b| b > 1_000_000),
            "{l}"
        );
    }
    let (code, stdout, _) = tidewater(&[
        "bench",
        "--query",
        "q7",
        "--events",
        "30000",
        "--variant",
        "beam",
    ]);
    assert_eq!(code, 0);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (line["query"].as_str(), line["variant"].as_str()),
        (Some("q7"), Some("beam"))
    );
    assert!(line["rows"].as_u64().is_some_and(|r| r > 0), "{line}");
    // Several queries and parallelisms, and a report a person opens: three charts drawn
    // inline (no network), a table, the runs as JSON lines.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let (code, stdout, stderr) = tidewater(&[
        "bench",
        "--query",
        "w1,q5",
        "--parallelism",
        "1,2",
        "--events",
        "100000",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 4);
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert_eq!(page.matches("<svg").count(), 3);
    for id in ["throughput", "latency", "over-time"] {
        assert!(page.contains(&format!("<div id=\"{id}\"><svg")), "{id}");
    }
    for run in ["w1 p1 #0", "w1 p2 #0", "q5 p1 #0", "q5 p2 #0"] {
        assert!(page.contains(run), "{run}");
    }
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "nothing from the network"
    );
    let runs = std::fs::read_to_string(report.join("runs.jsonl")).unwrap();
    assert_eq!(runs, stdout);
    // Paced: the line says the rate; the check still passes.
    let (code, stdout, stderr) = tidewater(&[
        "bench", "--query", "w1", "--events", "100000", "--rate", "400000",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (line["rate"].as_f64(), line["check"].as_str()),
        (Some(400_000.0), Some("pass"))
    );
    assert!(
        line["events_per_sec"].as_f64().unwrap() < 500_000.0,
        "paced: {line}"
    );
    // The search: seven paced probes; the answer is the fastest one that held the bound.
    let (code, stdout, stderr) = tidewater(&[
        "bench",
        "--query",
        "w1",
        "--find-max-rate",
        "--p99",
        "50ms",
        "--probe-seconds",
        "0.1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let found: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let probes = found["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 7);
    let held = probes
        .iter()
        .filter(|p| {
            p["p99_ms"].as_f64().unwrap() <= 50.0
                && p["events_per_sec"].as_f64().unwrap() >= 0.95 * p["rate"].as_f64().unwrap()
        })
        .map(|p| p["rate"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(
        found["max_sustainable_rate"].as_f64(),
        Some(held),
        "{found}"
    );
    let (code, _, stderr) = tidewater(&["bench", "--query", "w1", "--rate", "0"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("expected events per second (a positive number), found `0`"),
        "{stderr}"
    );
    let (code, _, stderr) = tidewater(&["bench", "--query", "q23"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("unknown query `q23`: expected w1, w2, w3 or one of q0-q22"),
        "{stderr}"
    );
}
