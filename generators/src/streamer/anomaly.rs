//! Pluggable anomaly injectors and their registry.

use crate::core::GeneratorErrors;
use std::sync::Arc;

use rand::Rng;
use tidewater_engine::row::{Row, Value};

use crate::core::{check_probability, EventRng, GeneratorError};

/// Changes a row (or multiplies it) to simulate bad data.
pub trait AnomalyInjector: Send + Sync {
    /// Name written into `_spindle_anomaly`.
    fn name(&self) -> &str;
    /// The rows to emit in place of `row`.
    fn inject(&self, row: Row, rng: &mut EventRng) -> Vec<Row>;
}

/// Replaces a field by a single new value, keeping the schema.
fn with_field(row: &Row, field: &str, value: Value) -> Row {
    row.with_fields([(field, value)])
}

/// Multiplies a numeric field by a factor.
#[derive(Debug, Clone)]
pub struct Outlier {
    field: String,
    factor: f64,
}

impl Outlier {
    /// Outliers of `field`, `factor` times the real value.
    pub fn new(field: &str, factor: f64) -> Self {
        Outlier {
            field: field.to_string(),
            factor,
        }
    }
}

impl AnomalyInjector for Outlier {
    fn name(&self) -> &str {
        "outlier"
    }

    fn inject(&self, row: Row, _rng: &mut EventRng) -> Vec<Row> {
        match row.get(&self.field).and_then(Value::as_f64) {
            Some(v) => vec![with_field(&row, &self.field, Value::Float(v * self.factor))],
            None => vec![row],
        }
    }
}

/// Sets a field to null.
#[derive(Debug, Clone)]
pub struct NullField {
    field: String,
}

impl NullField {
    /// Nulls in `field`.
    pub fn new(field: &str) -> Self {
        NullField {
            field: field.to_string(),
        }
    }
}

impl AnomalyInjector for NullField {
    fn name(&self) -> &str {
        "null"
    }

    fn inject(&self, row: Row, _rng: &mut EventRng) -> Vec<Row> {
        vec![with_field(&row, &self.field, Value::Null)]
    }
}

/// Emits the row twice.
#[derive(Debug, Clone, Default)]
pub struct Duplicate;

impl AnomalyInjector for Duplicate {
    fn name(&self) -> &str {
        "duplicate"
    }

    fn inject(&self, row: Row, _rng: &mut EventRng) -> Vec<Row> {
        vec![row.clone(), row]
    }
}

/// Adds a field the schema does not have (schema drift).
#[derive(Debug, Clone)]
pub struct SchemaDrift {
    field: String,
}

impl SchemaDrift {
    /// Adds `field` with a random integer.
    pub fn new(field: &str) -> Self {
        SchemaDrift {
            field: field.to_string(),
        }
    }
}

impl AnomalyInjector for SchemaDrift {
    fn name(&self) -> &str {
        "schema_drift"
    }

    fn inject(&self, row: Row, rng: &mut EventRng) -> Vec<Row> {
        vec![with_field(
            &row,
            &self.field,
            Value::Int(rng.random_range(0..1_000)),
        )]
    }
}

/// Injectors with their per-row probabilities; the first that fires applies.
#[derive(Clone, Default)]
pub struct AnomalyRegistry {
    injectors: Vec<(f64, Arc<dyn AnomalyInjector>)>,
}

impl std::fmt::Debug for AnomalyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<(f64, &str)> = self.injectors.iter().map(|(p, i)| (*p, i.name())).collect();
        f.debug_struct("AnomalyRegistry")
            .field("injectors", &names)
            .finish()
    }
}

impl AnomalyRegistry {
    /// No anomalies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an injector firing with `probability` per row.
    pub fn with(mut self, probability: f64, injector: impl AnomalyInjector + 'static) -> Self {
        self.injectors.push((probability, Arc::new(injector)));
        self
    }

    /// Checks the probabilities.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let problems: Vec<GeneratorError> = self
            .injectors
            .iter()
            .enumerate()
            .filter_map(|(i, (p, inj))| {
                check_probability(&format!("anomalies[{i}] ({})", inj.name()), *p).err()
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.into())
        }
    }

    /// Applies the registry to one row: the rows to emit and the injector that fired.
    pub fn apply(&self, row: Row, rng: &mut EventRng) -> (Vec<Row>, Option<String>) {
        for (p, injector) in &self.injectors {
            if rng.random::<f64>() < *p {
                let name = injector.name().to_string();
                let rows = injector
                    .inject(row, rng)
                    .into_iter()
                    .map(|r| with_field(&r, "_spindle_anomaly", Value::from(name.as_str())))
                    .collect();
                return (rows, Some(name));
            }
        }
        (vec![row], None)
    }
}
