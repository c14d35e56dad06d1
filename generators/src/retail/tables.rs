//! Named tables of rows, in generation order.

use serde::{Deserialize, Serialize};
use tidewater_engine::row::Row;

/// Generated tables, in dependency order (parents before children).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tables {
    tables: Vec<(String, Vec<Row>)>,
}

/// A table's name and row count, for summaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    /// Table name.
    pub name: String,
    /// Rows.
    pub rows: usize,
}

impl Tables {
    /// Adds a table (replacing one of the same name).
    pub fn insert(&mut self, name: &str, rows: Vec<Row>) {
        match self.tables.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = rows,
            None => self.tables.push((name.to_string(), rows)),
        }
    }

    /// The rows of table `name`.
    /// The reference's singular names (`order`, `order_line`, `customer`) find the
    /// plural tables.
    pub fn table(&self, name: &str) -> Option<&[Row]> {
        let plural = format!("{name}s");
        self.tables
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| self.tables.iter().find(|(n, _)| *n == plural))
            .map(|(_, rows)| rows.as_slice())
    }

    /// Table names in generation order.
    pub fn names(&self) -> Vec<&str> {
        self.tables.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// (name, rows) pairs in generation order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Row])> {
        self.tables.iter().map(|(n, r)| (n.as_str(), r.as_slice()))
    }

    /// Name and size of every table.
    pub fn summary(&self) -> Vec<TableSummary> {
        self.iter()
            .map(|(name, rows)| TableSummary {
                name: name.to_string(),
                rows: rows.len(),
            })
            .collect()
    }
}
