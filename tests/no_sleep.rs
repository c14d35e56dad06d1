//! The suite never sleeps to let time pass: tests drive a manual clock, or wait on the
//! event they need (a line a child prints, a row a sink receives, a thread's news).
//! This test reads every test file, and the test modules of every crate's sources, and
//! names each place that calls `sleep`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The test code of a file: all of it under `tests/`, else what follows `#[cfg(test)]`.
fn test_code(path: &Path, text: &str) -> Option<(usize, String)> {
    let in_tests = path.components().any(|c| c.as_os_str() == "tests");
    if in_tests {
        return Some((0, text.to_string()));
    }
    let at = text.find("#[cfg(test)]")?;
    Some((text[..at].lines().count(), text[at..].to_string()))
}

#[test]
fn no_test_sleeps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "tests",
        "src",
        "engine",
        "connectors",
        "generators",
        "formats",
        "benches",
        "examples",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "target"));
    assert!(files.len() > 100, "{} files", files.len());
    let call = ["sleep", "("].concat();
    let mut places = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let Some((first, code)) = test_code(file, &text) else {
            continue;
        };
        for (i, line) in code.lines().enumerate() {
            let code_part = line.split("//").next().unwrap_or("");
            if code_part.contains(&call) {
                let shown = file.strip_prefix(root).unwrap_or(file).display();
                places.push(format!("{shown}:{}: {}", first + i + 1, line.trim()));
            }
        }
    }
    assert!(
        places.is_empty(),
        "tests that sleep:\n{}",
        places.join("\n")
    );
}
