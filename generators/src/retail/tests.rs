//! Retail domain: sizes, determinism, referential integrity.

use std::collections::{HashMap, HashSet};

use tidewater_engine::row::Value;

use super::*;

fn ids(tables: &Tables, table: &str, field: &str) -> HashSet<i64> {
    tables
        .table(table)
        .unwrap()
        .iter()
        .map(|r| r.get(field).and_then(Value::as_i64).unwrap())
        .collect()
}

#[test]
fn every_foreign_key_points_at_an_existing_row_and_totals_add_up() {
    let t = RetailDomain::new(Scale::Small, 42).generate();
    let (customers, products, stores, orders) = (
        ids(&t, "customers", "customer_id"),
        ids(&t, "products", "product_id"),
        ids(&t, "stores", "store_id"),
        ids(&t, "orders", "order_id"),
    );
    assert_eq!(
        (customers.len(), products.len(), stores.len(), orders.len()),
        (1_000, 200, 10, 5_000)
    );
    for o in t.table("orders").unwrap() {
        assert!(customers.contains(&o.get("customer_id").and_then(Value::as_i64).unwrap()));
        assert!(stores.contains(&o.get("store_id").and_then(Value::as_i64).unwrap()));
    }
    let mut totals: HashMap<i64, f64> = HashMap::new();
    for l in t.table("order_lines").unwrap() {
        let order = l.get("order_id").and_then(Value::as_i64).unwrap();
        assert!(orders.contains(&order));
        assert!(products.contains(&l.get("product_id").and_then(Value::as_i64).unwrap()));
        let q = l.get("quantity").and_then(Value::as_f64).unwrap();
        *totals.entry(order).or_default() +=
            q * l.get("unit_price").and_then(Value::as_f64).unwrap();
    }
    for o in t.table("orders").unwrap() {
        let total = o.get("total").and_then(Value::as_f64).unwrap();
        let id = o.get("order_id").and_then(Value::as_i64).unwrap();
        assert!(
            (total - totals[&id]).abs() < 0.005,
            "order {id}: {total} vs {}",
            totals[&id]
        );
    }
    for r in t.table("returns").unwrap() {
        assert!(orders.contains(&r.get("order_id").and_then(Value::as_i64).unwrap()));
    }
}

#[test]
fn scale_presets_multiply_the_sizes_and_seeds_are_deterministic() {
    let small = RetailDomain::new(Scale::Small, 1).generate();
    let medium = RetailDomain::new(Scale::Medium, 1).generate();
    assert_eq!(
        medium.table("customers").unwrap().len(),
        10 * small.table("customers").unwrap().len()
    );
    assert_eq!(small, RetailDomain::new(Scale::Small, 1).generate());
    assert_ne!(small, RetailDomain::new(Scale::Small, 2).generate());
    assert!("huge".parse::<Scale>().is_err());
}
