//! Dynamic rows (placeholder replaced below).
