//! Field names and types of rows.

use serde::{Deserialize, Serialize};

use super::Value;

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// Booleans.
    Bool,
    /// 64-bit integers.
    Int,
    /// 64-bit floats.
    Float,
    /// Strings.
    Str,
    /// Unknown (only nulls seen).
    Null,
}

impl DataType {
    /// The type of a value.
    pub fn of(value: &Value) -> DataType {
        match value {
            Value::Null => DataType::Null,
            Value::Bool(_) => DataType::Bool,
            Value::Int(_) => DataType::Int,
            Value::Float(_) => DataType::Float,
            Value::Str(_) => DataType::Str,
        }
    }
}

/// One named, typed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Field type.
    pub data_type: DataType,
}

/// The ordered fields of a row.
///
/// ```
/// use tidewater_engine::row::{DataType, Schema};
/// let schema = Schema::new([("user", DataType::Str), ("amount", DataType::Float)]);
/// assert_eq!(schema.index_of("amount"), Some(1));
/// assert_eq!(schema.names().collect::<Vec<_>>(), vec!["user", "amount"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Fields in order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// A schema from (name, type) pairs.
    pub fn new<S: Into<String>>(fields: impl IntoIterator<Item = (S, DataType)>) -> Self {
        Schema {
            fields: fields
                .into_iter()
                .map(|(name, data_type)| Field {
                    name: name.into(),
                    data_type,
                })
                .collect(),
        }
    }

    /// Position of the field called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Field names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True if there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}
