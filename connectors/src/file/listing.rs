//! Which files of a folder are ready to read, in what order, and the Hive partition
//! columns their paths carry.
//!
//! A file is a candidate unless its name starts with `.` or `_` (hidden, markers such as
//! `_done`, `_SUCCESS`, `_manifest.json`) or ends like a file still being written
//! (`.tmp`, `.inprogress`, `._COPYING_`, `.crdownload`, `.part`), as Spark ignores
//! them. [`Ready`] adds a writer's completion rule: Spindle file drops write a `_done`
//! flag after a partition folder's files, and a `_manifest.json` naming them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::row::Value;

use super::partition::unescape;

/// When a folder's files may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    /// Every visible file, as soon as it is seen (Spark's file source): writers must
    /// write elsewhere and rename in.
    #[default]
    Visible,
    /// A folder's files once the folder holds a `_done` flag (Spindle, Hadoop's
    /// `_SUCCESS` convention).
    DoneFlag,
    /// The files a folder's `_manifest.json` lists (Spindle), once it exists.
    Manifest,
}

/// A file ready to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its path.
    pub path: PathBuf,
    /// Its path under the root, with `/` separators: its identity in positions.
    pub relative: String,
    /// Last modification time (epoch ms).
    pub modified_ms: i64,
    /// Columns every row of the file gets: Hive `key=value` folders, a Delta file's
    /// partition values.
    pub partition: Vec<(String, Value)>,
}

const TEMP_SUFFIXES: [&str; 5] = [".tmp", ".inprogress", "._COPYING_", ".crdownload", ".part"];

/// Whether a file name is one a reader skips.
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || TEMP_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Whether a path holds glob characters (`*`, `?`, `[`).
fn is_glob(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The files a glob (`/data/*/events-*.jsonl`, `/data/**/*.csv`) matches that are
/// ready under `rule`; relative paths start below the glob's first folder with a glob
/// character, so Hive folders after it still become columns.
fn list_glob(pattern: &Path, rule: Ready) -> Result<Vec<Listed>> {
    let text = pattern.to_string_lossy();
    let matcher = glob::Pattern::new(&text).map_err(|e| {
        EngineError::invalid(
            "file_source",
            "path",
            "a folder, a file or a glob",
            format!("`{text}`: {e}"),
        )
    })?;
    let base: PathBuf = pattern
        .components()
        .take_while(|c| !is_glob(Path::new(c.as_os_str())))
        .collect();
    let mut all = Vec::new();
    if base.is_dir() {
        walk(&base, &base, rule, &mut all)?;
    }
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    Ok(all
        .into_iter()
        .filter(|l| matcher.matches_path_with(&l.path, options))
        .collect())
}

/// Every file under `root` that is ready under `rule`, oldest first (then by name), or
/// `root` itself when it is a file, or the files a glob matches.
pub fn list(root: &Path, rule: Ready) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    if is_glob(root) && !root.exists() {
        out = list_glob(root, rule)?;
    } else {
        let meta = std::fs::metadata(root)
            .map_err(|e| EngineError::io(format!("reading {}", root.display()), e))?;
        if meta.is_file() {
            out.push(listed(root, root, &meta)?);
        } else {
            walk(root, root, rule, &mut out)?;
        }
    }
    out.sort_by(|a, b| (a.modified_ms, &a.relative).cmp(&(b.modified_ms, &b.relative)));
    Ok(out)
}

fn listed(root: &Path, path: &Path, meta: &std::fs::Metadata) -> Result<Listed> {
    let modified = meta
        .modified()
        .map_err(|e| EngineError::io(format!("reading the time of {}", path.display()), e))?;
    let modified_ms = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let relative = if relative.is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        relative
    };
    Ok(Listed {
        path: path.to_path_buf(),
        partition: partition_columns(&relative),
        relative,
        modified_ms,
    })
}

fn walk(root: &Path, dir: &Path, rule: Ready, out: &mut Vec<Listed>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| EngineError::io(format!("listing {}", dir.display()), e))?;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut names = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| EngineError::io(format!("listing {}", dir.display()), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        names.insert(name.clone());
        let Ok(meta) = entry.metadata() else {
            continue; // vanished between listing and looking: the next listing decides
        };
        if meta.is_dir() {
            if !name.starts_with('.') && !name.starts_with('_') {
                dirs.push(entry.path());
            }
        } else if !is_ignored(&name) {
            files.push((name, entry.path(), meta));
        }
    }
    let allowed: Option<BTreeSet<String>> = match rule {
        Ready::Visible => None,
        Ready::DoneFlag if names.contains("_done") || names.contains("_SUCCESS") => None,
        Ready::DoneFlag => Some(BTreeSet::new()),
        Ready::Manifest => Some(manifest_files(&dir.join("_manifest.json"))?),
    };
    for (name, path, meta) in files {
        if allowed.as_ref().is_none_or(|a| a.contains(&name)) {
            out.push(listed(root, &path, &meta)?);
        }
    }
    for d in dirs {
        walk(root, &d, rule, out)?;
    }
    Ok(())
}

/// The file names a manifest lists (none while it does not exist).
fn manifest_files(path: &Path) -> Result<BTreeSet<String>> {
    #[derive(Deserialize)]
    struct Manifest {
        files: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        name: String,
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                EngineError::external(format!("reading the manifest {}", path.display()), e)
            })?;
            Ok(m.files.into_iter().map(|f| f.name).collect())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(EngineError::io(format!("reading {}", path.display()), e)),
    }
}

/// The Hive partition columns of a relative path (`dt=2024-01-01/h=3/x.csv` gives
/// `dt` = "2024-01-01" and `h` = 3): integers become `Int`, `__HIVE_DEFAULT_PARTITION__`
/// null, the rest strings.
///
/// ```
/// use tidewater_connectors::file::partition_columns;
/// use tidewater_engine::row::Value;
/// assert_eq!(
///     partition_columns("dt=2024-01-01/h=3/part-0.csv"),
///     vec![("dt".to_string(), Value::from("2024-01-01")), ("h".to_string(), Value::Int(3))]
/// );
/// ```
pub fn partition_columns(relative: &str) -> Vec<(String, Value)> {
    let mut parts: Vec<&str> = relative.split('/').collect();
    parts.pop(); // the file name
    parts
        .into_iter()
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (unescape(k), partition_value(&unescape(v))))
        .collect()
}

/// A partition value (a Hive folder's, a Delta file's) as a column value: integers
/// are `Int`, Hive's default-partition marker is null, anything else is text.
pub fn partition_value(text: &str) -> Value {
    if text == "__HIVE_DEFAULT_PARTITION__" {
        Value::Null
    } else if let Ok(n) = text.parse::<i64>() {
        Value::Int(n)
    } else {
        Value::Str(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_files_in_progress_and_markers_are_ignored() {
        // (name, ignored)
        for (name, ignored) in [
            ("part-0.csv", false),
            ("data.jsonl", false),
            (".part-0.csv.crc", true),
            ("_SUCCESS", true),
            ("_manifest.json", true),
            ("x.csv.tmp", true),
            ("x.csv._COPYING_", true),
            ("x.parquet.inprogress", true),
        ] {
            assert_eq!(is_ignored(name), ignored, "{name}");
        }
    }

    #[test]
    fn a_glob_selects_files_and_keeps_hive_columns() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "dt=1/a.jsonl",
            "dt=1/b.csv",
            "dt=2/c.jsonl",
            "dt=2/deep/d.jsonl",
            "e.jsonl",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}\n").unwrap();
        }
        type Case = (&'static str, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            ("*/*.jsonl", vec!["dt=1/a.jsonl", "dt=2/c.jsonl"]),
            ("dt=*/*.csv", vec!["dt=1/b.csv"]),
            (
                "**/*.jsonl",
                vec![
                    "dt=1/a.jsonl",
                    "dt=2/c.jsonl",
                    "dt=2/deep/d.jsonl",
                    "e.jsonl",
                ],
            ),
            ("dt=2/*", vec!["c.jsonl"]),
        ];
        for (glob, expected) in cases {
            let mut got: Vec<String> = list(&dir.path().join(glob), Ready::Visible)
                .unwrap()
                .into_iter()
                .map(|l| l.relative)
                .collect();
            got.sort();
            assert_eq!(got, expected, "{glob}");
        }
        let hive = list(&dir.path().join("*/a.jsonl"), Ready::Visible).unwrap();
        assert_eq!(hive[0].partition, vec![("dt".to_string(), Value::Int(1))]);
    }

    #[test]
    fn hive_folders_become_columns() {
        // (relative path, columns)
        let cases: Vec<(&str, Vec<(&str, Value)>)> = vec![
            ("a.csv", vec![]),
            (
                "dt=2024-01-01/a.csv",
                vec![("dt", Value::from("2024-01-01"))],
            ),
            (
                "y=2024/m=07/a.csv",
                vec![("y", Value::Int(2024)), ("m", Value::Int(7))],
            ),
            (
                "plain/k=__HIVE_DEFAULT_PARTITION__/a.csv",
                vec![("k", Value::Null)],
            ),
            ("=x/a.csv", vec![]),
        ];
        for (path, want) in cases {
            let want: Vec<(String, Value)> =
                want.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            assert_eq!(partition_columns(path), want, "{path}");
        }
    }

    #[test]
    fn folders_are_read_by_the_writers_rule() {
        let dir = tempfile::tempdir().unwrap();
        let write = |p: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        };
        for p in [
            "dt=1/a.csv",
            "dt=1/_done",
            "dt=2/b.csv",
            "dt=3/c.csv",
            "dt=3/d.csv",
            "dt=3/.d.csv.crc",
        ] {
            write(p);
        }
        std::fs::write(
            dir.path().join("dt=3/_manifest.json"),
            br#"{"files":[{"name":"c.csv"}]}"#,
        )
        .unwrap();
        let names = |rule| {
            let mut v: Vec<String> = list(dir.path(), rule)
                .unwrap()
                .into_iter()
                .map(|l| l.relative)
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            names(Ready::Visible),
            vec!["dt=1/a.csv", "dt=2/b.csv", "dt=3/c.csv", "dt=3/d.csv"]
        );
        assert_eq!(names(Ready::DoneFlag), vec!["dt=1/a.csv"]);
        assert_eq!(names(Ready::Manifest), vec!["dt=3/c.csv"]);
    }
}
