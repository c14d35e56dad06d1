//! Declarative pipelines: tauro's streaming node (`input`, `transforms`, `output`,
//! `streaming`) in YAML or JSON, validated with every problem named, and run with
//! `tidewater run FILE`.
//!
//! ```
//! use tidewater::declarative::{parse, RunOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("00000.jsonl"), "{\"key\":\"a\",\"value\":1.5,\"ts\":1000}\n{\"key\":\"a\",\"value\":2.5,\"ts\":2000}\n").unwrap();
//! let yaml = format!(r#"
//! name: counts
//! input:
//!   format: json
//!   path: {input}
//!   schema: {{key: string, value: double, ts: long}}
//!   watermark: {{column: ts, delay: "1 second"}}
//! transforms:
//!   - window: {{type: tumbling, column: ts, size: "10 seconds"}}
//!     group_by: [key]
//!     aggregations: ["count(*) AS n", "sum(value) AS total"]
//! output:
//!   format: json
//!   path: {output}
//! streaming:
//!   trigger: {{type: available_now}}
//! "#, input = dir.path().display(), output = dir.path().join("out").display());
//! let file = parse(&yaml, "counts.yaml", false).unwrap();
//! file.pipeline(RunOptions::default()).unwrap().run().unwrap();
//! let lines = tidewater::connectors::file::FileSink::published_lines(&dir.path().join("out")).unwrap();
//! assert_eq!(lines, vec![r#"{"key":"a","window_start":0,"window_end":10000,"n":2,"total":4.0}"#]);
//!
//! // Every problem at once, each with its path.
//! let bad = yaml
//!     .replace("size: \"10 seconds\"", "size: \"0 seconds\"")
//!     .replace("streaming:\n", "streaming:\n  output_mode: apend\n");
//! let e = parse(&bad, "counts.yaml", false).unwrap_err();
//! let problems: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
//! assert_eq!(problems, vec![
//!     "`transforms[0].window.size`: expected a positive interval, found `0 seconds`",
//!     "`streaming.output_mode`: expected one of append, update, complete (did you mean `append`?), found `apend`",
//! ]);
//! ```

mod aggregation;
mod build;
mod expr;
mod group;
mod manager;
mod model;
mod observe;
mod registry;
#[cfg(feature = "kafka")]
mod scale_out;
mod schema;
mod strict_value;
mod validate;

pub use aggregation::parse_aggregation;
pub use build::RunOptions;
pub use expr::Expression;
pub use group::{load_pipelines, parse_pipelines, PipelineGroup};
pub use manager::{ManagerError, PipelineManager, PipelineStatus, QueryManager, QueryProgress};
pub use model::{
    Input, Output, PipelineFile, Streaming, Transform, TriggerSpec, WatermarkSpec, WindowSpec,
};
pub use registry::TransformRegistry;
#[cfg(feature = "kafka")]
pub use scale_out::GroupRun;
pub use validate::{load, option_key, parse, PipelineFileErrors, Problem};
