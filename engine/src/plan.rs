//! The physical plan as a graph: every node a pipeline declared (sources, operators,
//! watermark assigners, windows, sinks, side outputs) and the edges between them, with
//! how records cross each edge. The dashboard draws it; metrics name its nodes.
//!
//! ```
//! use tidewater_engine::prelude::*;
//! use tidewater_engine::plan::Partitioning;
//! let mut p = Pipeline::new(Config::default().with_parallelism(2));
//! p.source(VecSource::new(vec![(1u8, 10_i64)]))
//!     .with_watermark(Watermark::monotonic(|e: &(u8, i64)| e.1))
//!     .key_by(|e: &(u8, i64)| e.0)
//!     .window(TumblingWindow::of("1 minute"))
//!     .count()
//!     .sink(MemorySink::new());
//! let graph = p.build().unwrap().plan();
//! let names: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
//! assert_eq!(names, ["vec_source#0", "with_watermark#1", "window(tumbling)#2", "memory_sink#3"]);
//! let hash: Vec<_> = graph.edges.iter().filter(|e| e.partitioning != Partitioning::Forward).collect();
//! assert_eq!((hash.len(), hash[0].from, hash[0].to), (1, 1, 2));
//! ```

use serde::Serialize;

use crate::metrics::NodeKind;

/// How records cross an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Partitioning {
    /// Same worker, a direct call (fused).
    Forward,
    /// Hashed by key to the worker that owns the key (a channel between workers).
    Hash,
    /// Pre-aggregated on each worker, partial accumulators hashed by key (two-phase
    /// window aggregation).
    HashPartials,
    /// A window's late records to its side output.
    Late,
    /// Records that could not be read, to a dead-letter output.
    DeadLetters,
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanNode {
    /// Stable id (order of construction); the metrics' node id.
    pub id: usize,
    /// Display name, e.g. `"window(tumbling)#3"`.
    pub name: String,
    /// Role of the node.
    pub kind: NodeKind,
}

/// One edge: records of node `from` flow into node `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEdge {
    /// Upstream node id.
    pub from: usize,
    /// Downstream node id.
    pub to: usize,
    /// How records cross.
    pub partitioning: Partitioning,
}

/// The physical plan of a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanGraph {
    /// The pipeline's name.
    pub pipeline: String,
    /// Worker threads running every node.
    pub parallelism: usize,
    /// Nodes in construction order.
    pub nodes: Vec<PlanNode>,
    /// Edges in construction order.
    pub edges: Vec<PlanEdge>,
}

impl PlanGraph {
    pub(crate) fn add_node(&mut self, id: usize, name: &str, kind: NodeKind) {
        self.nodes.push(PlanNode {
            id,
            name: name.to_string(),
            kind,
        });
    }

    pub(crate) fn link(&mut self, from: &[usize], to: usize, partitioning: Partitioning) {
        for &f in from {
            self.edges.push(PlanEdge {
                from: f,
                to,
                partitioning,
            });
        }
    }

    /// The plan as `config` runs it: at one worker no record crosses a channel, so
    /// hash edges are forward ones; windows aggregate in two phases only where the
    /// run allows it.
    pub(crate) fn physical(&self, config: &crate::config::Config) -> PlanGraph {
        let mut graph = self.clone();
        graph.pipeline = config.name.clone();
        graph.parallelism = config.parallelism;
        for e in &mut graph.edges {
            e.partitioning = match e.partitioning {
                Partitioning::Hash | Partitioning::HashPartials if config.parallelism == 1 => {
                    Partitioning::Forward
                }
                Partitioning::HashPartials if !config.local_aggregation_applies() => {
                    Partitioning::Hash
                }
                other => other,
            };
        }
        graph
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&PlanNode> {
        self.nodes.iter().find(|n| n.name == name)
    }
}
