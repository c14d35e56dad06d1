//! The retail domain: customers, products, stores, orders, order lines and returns, at
//! a scale preset, with referential integrity (every foreign key points at an existing
//! row, and order totals are the sum of their lines).
//!
//! ```
//! use tidewater_generators::retail::{RetailDomain, Scale};
//! let tables = RetailDomain::new(Scale::Small, 42).generate();
//! assert_eq!(tables.table("customers").unwrap().len(), 1_000);
//! assert_eq!(tables.names(), vec!["customers", "products", "stores", "orders", "order_lines", "returns"]);
//! ```

mod domain;
mod tables;

pub use domain::{RetailDomain, Scale};
pub use tables::Tables;

#[cfg(test)]
mod tests;
