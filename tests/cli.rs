//! The `tidewater` command: help with examples, unknown flags rejected, bad values
//! refused with a non-zero exit, the demo's output.

use std::process::Command;

fn tidewater(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tidewater"))
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
        let (code, stdout, stderr) = tidewater(args);
        assert_ne!(code, 0, "{args:?} succeeded");
        assert!(stdout.is_empty(), "{args:?} printed {stdout}");
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
