//! Generation of the retail tables. Row `i` of a table comes from the RNG stream
//! `(seed ^ table salt, i)`; foreign keys are drawn among the parent table's ids, so
//! integrity holds by construction.

use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tidewater_engine::row::{DataType, Row, Schema, Value};

use super::Tables;
use crate::core::{event_rng, EventRng, GeneratorError};

/// Size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// 1 000 customers, 200 products, 10 stores, 5 000 orders.
    Small,
    /// Ten times small.
    Medium,
    /// A hundred times small.
    Large,
}

impl std::str::FromStr for Scale {
    type Err = GeneratorError;

    fn from_str(s: &str) -> Result<Self, GeneratorError> {
        match s {
            "small" => Ok(Scale::Small),
            "medium" => Ok(Scale::Medium),
            "large" => Ok(Scale::Large),
            other => Err(GeneratorError::InvalidParameter {
                field: "scale".into(),
                expected: "small, medium or large".into(),
                found: other.into(),
            }),
        }
    }
}

impl Scale {
    fn factor(&self) -> u64 {
        match self {
            Scale::Small => 1,
            Scale::Medium => 10,
            Scale::Large => 100,
        }
    }
}

const SEGMENTS: [&str; 3] = ["consumer", "small_business", "enterprise"];
const CATEGORIES: [&str; 6] = ["electronics", "grocery", "apparel", "home", "toys", "books"];
const CITIES: [(&str, &str); 8] = [
    ("Seattle", "WA"),
    ("Portland", "OR"),
    ("Boise", "ID"),
    ("Phoenix", "AZ"),
    ("Denver", "CO"),
    ("Austin", "TX"),
    ("Chicago", "IL"),
    ("Boston", "MA"),
];
const FIRST: [&str; 8] = ["Ann", "Bo", "Cy", "Di", "Ed", "Fay", "Gus", "Hal"];
const LAST: [&str; 8] = ["Li", "Ng", "Ortiz", "Park", "Quinn", "Ross", "Sato", "Tran"];
const STATUSES: [&str; 4] = ["completed", "completed", "completed", "cancelled"];
const REASONS: [&str; 4] = ["damaged", "wrong_item", "not_as_described", "changed_mind"];

/// Start of the domain's time span: 2024-01-01T00:00:00Z.
const EPOCH: i64 = 1_704_067_200_000;
const DAY_MS: i64 = 86_400_000;

/// The retail domain generator.
#[derive(Debug, Clone)]
pub struct RetailDomain {
    scale: Scale,
    seed: u64,
    key_skew: crate::core::KeySkew,
}

fn schema(fields: &[(&str, DataType)]) -> Arc<Schema> {
    Arc::new(Schema::new(fields.iter().map(|(n, t)| (n.to_string(), *t))))
}

fn pick<T: Copy>(rng: &mut EventRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn money(cents: i64) -> Value {
    Value::Float(cents as f64 / 100.0)
}

impl RetailDomain {
    /// The domain at `scale` with `seed`.
    pub fn new(scale: Scale, seed: u64) -> Self {
        RetailDomain {
            scale,
            seed,
            key_skew: crate::core::KeySkew::uniform(),
        }
    }

    /// Which customers order and which products sell: uniform (the default) or Zipf
    /// with this exponent (a few customers order often, a few products sell most).
    pub fn with_key_skew(mut self, skew: crate::core::KeySkew) -> Self {
        self.key_skew = skew;
        self
    }

    fn rng(&self, table: u64, i: u64) -> EventRng {
        event_rng(self.seed ^ table.wrapping_mul(0xA24B_AED4_963E_E407), i)
    }

    /// Generates every table.
    pub fn generate(&self) -> Tables {
        let f = self.scale.factor();
        let (customers, products, stores, orders) = (1_000 * f, 200 * f, 10 * f, 5_000 * f);
        let mut tables = Tables::default();

        let s = schema(&[
            ("customer_id", DataType::Int),
            ("name", DataType::Str),
            ("email", DataType::Str),
            ("segment", DataType::Str),
            ("created_at", DataType::Int),
        ]);
        let rows = (0..customers)
            .map(|i| {
                let mut rng = self.rng(1, i);
                let (first, last) = (pick(&mut rng, &FIRST), pick(&mut rng, &LAST));
                Row::new(
                    s.clone(),
                    vec![
                        Value::Int(i as i64 + 1),
                        Value::from(format!("{first} {last}")),
                        Value::from(format!(
                            "{}.{}{}@example.com",
                            first.to_lowercase(),
                            last.to_lowercase(),
                            i + 1
                        )),
                        Value::from(pick(&mut rng, &SEGMENTS)),
                        Value::Int(EPOCH - rng.random_range(0..365 * DAY_MS)),
                    ],
                )
            })
            .collect();
        tables.insert("customers", rows);

        let s = schema(&[
            ("product_id", DataType::Int),
            ("name", DataType::Str),
            ("category", DataType::Str),
            ("price", DataType::Float),
        ]);
        let mut prices = Vec::with_capacity(products as usize);
        let mut rows = Vec::with_capacity(products as usize);
        for i in 0..products {
            let mut rng = self.rng(2, i);
            let price = rng.random_range(199..50_000i64);
            let category = pick(&mut rng, &CATEGORIES);
            prices.push(price);
            rows.push(Row::new(
                s.clone(),
                vec![
                    Value::Int(i as i64 + 1),
                    Value::from(format!("{category}-item-{}", i + 1)),
                    Value::from(category),
                    money(price),
                ],
            ));
        }
        tables.insert("products", rows);

        let s = schema(&[
            ("store_id", DataType::Int),
            ("city", DataType::Str),
            ("state", DataType::Str),
            ("opened_at", DataType::Int),
        ]);
        let rows = (0..stores)
            .map(|i| {
                let mut rng = self.rng(3, i);
                let (city, state) = pick(&mut rng, &CITIES);
                Row::new(
                    s.clone(),
                    vec![
                        Value::Int(i as i64 + 1),
                        Value::from(city),
                        Value::from(state),
                        Value::Int(EPOCH - rng.random_range(365 * DAY_MS..5 * 365 * DAY_MS)),
                    ],
                )
            })
            .collect();
        tables.insert("stores", rows);

        let order_s = schema(&[
            ("order_id", DataType::Int),
            ("customer_id", DataType::Int),
            ("store_id", DataType::Int),
            ("order_time", DataType::Int),
            ("status", DataType::Str),
            ("total", DataType::Float),
        ]);
        let line_s = schema(&[
            ("order_id", DataType::Int),
            ("line_no", DataType::Int),
            ("product_id", DataType::Int),
            ("quantity", DataType::Int),
            ("unit_price", DataType::Float),
        ]);
        let return_s = schema(&[
            ("return_id", DataType::Int),
            ("order_id", DataType::Int),
            ("product_id", DataType::Int),
            ("return_time", DataType::Int),
            ("reason", DataType::Str),
        ]);
        let (mut order_rows, mut line_rows, mut return_rows) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..orders {
            let mut rng = self.rng(4, i);
            let order_id = i as i64 + 1;
            // Orders spread over 90 days, in id order.
            let order_time =
                EPOCH + (i as i64 * 90 * DAY_MS) / orders as i64 + rng.random_range(0..60_000);
            let status = pick(&mut rng, &STATUSES);
            let lines = rng.random_range(1..=5);
            let mut total = 0i64;
            for line in 0..lines {
                let product = self.key_skew.pick(&mut rng, products);
                let quantity = rng.random_range(1..=4i64);
                total += prices[product as usize] * quantity;
                line_rows.push(Row::new(
                    line_s.clone(),
                    vec![
                        Value::Int(order_id),
                        Value::Int(line + 1),
                        Value::Int(product as i64 + 1),
                        Value::Int(quantity),
                        money(prices[product as usize]),
                    ],
                ));
                if status == "completed" && rng.random::<f64>() < 0.05 {
                    return_rows.push(Row::new(
                        return_s.clone(),
                        vec![
                            Value::Int(return_rows.len() as i64 + 1),
                            Value::Int(order_id),
                            Value::Int(product as i64 + 1),
                            Value::Int(order_time + rng.random_range(DAY_MS..30 * DAY_MS)),
                            Value::from(pick(&mut rng, &REASONS)),
                        ],
                    ));
                }
            }
            order_rows.push(Row::new(
                order_s.clone(),
                vec![
                    Value::Int(order_id),
                    Value::Int(self.key_skew.pick(&mut rng, customers) as i64 + 1),
                    Value::Int(rng.random_range(0..stores) as i64 + 1),
                    Value::Int(order_time),
                    Value::from(status),
                    money(total),
                ],
            ));
        }
        tables.insert("orders", order_rows);
        tables.insert("order_lines", line_rows);
        tables.insert("returns", return_rows);
        tables
    }
}
