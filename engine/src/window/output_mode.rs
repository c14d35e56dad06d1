//! Output modes with Spark Structured Streaming's meaning for window aggregates.

/// When window results are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputMode {
    /// Each window is emitted when the watermark passes its end. With allowed lateness
    /// (Flink semantics) its state is kept until `end + lateness` and a late record that
    /// updates it re-fires the updated result; without lateness each window is emitted
    /// exactly once, final.
    #[default]
    Append,
    /// At every trigger (each watermark advance), the windows whose result changed since
    /// the previous trigger, open or closed; state is dropped once `end + lateness` passes.
    Update,
    /// At every trigger, every window ever seen; state is never dropped and no record is
    /// late.
    Complete,
}
