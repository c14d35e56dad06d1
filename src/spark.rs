//! Spark (placeholder)
