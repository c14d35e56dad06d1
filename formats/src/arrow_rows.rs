//! Rows to and from Arrow record batches: the one conversion the Parquet format and
//! the Delta Lake connector share.
//!
//! Rows hold booleans, 64-bit integers and floats, and strings. Reading maps every
//! Arrow type onto them without losing a value: integers of any width to `Int` (an
//! unsigned value beyond `i64` to `Float`), floats to `Float`, timestamps to RFC 3339
//! text in UTC at their full precision (`2024-01-01T00:00:00.123456Z`, which
//! [`parse_time`](tidewater_engine::time::parse_time) reads back), dates to
//! `YYYY-MM-DD`, decimals to their exact decimal text, and nested values (structs,
//! lists, maps) to JSON text, as [`Row::from_serde`] keeps nested values. Writing
//! gives each column the narrowest of `Int64`, `Float64`, `Boolean` and `Utf8` that
//! holds every value (see [`rows_to_batch`]).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type,
    Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema, TimeUnit};
use tidewater_engine::row::{DataType, Row, Value};

use super::columns::{column_types, field, text};
use super::RowBuilder;

/// The Arrow type a row column of `ty` is written as.
pub fn arrow_type(ty: DataType) -> ArrowType {
    match ty {
        DataType::Int => ArrowType::Int64,
        DataType::Float => ArrowType::Float64,
        DataType::Bool => ArrowType::Boolean,
        DataType::Str | DataType::Null => ArrowType::Utf8,
    }
}

/// The row type an Arrow column of `ty` is read as.
pub fn row_type(ty: &ArrowType) -> DataType {
    match ty {
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::Int32
        | ArrowType::Int64
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::UInt32 => DataType::Int,
        ArrowType::UInt64 | ArrowType::Float16 | ArrowType::Float32 | ArrowType::Float64 => {
            DataType::Float
        }
        ArrowType::Boolean => DataType::Bool,
        ArrowType::Null => DataType::Null,
        _ => DataType::Str,
    }
}

fn column(rows: &[Row], first: &Row, i: usize, name: &str, ty: DataType) -> ArrayRef {
    let values = rows
        .iter()
        .map(|r| field(r, first, i, name).unwrap_or(&Value::Null));
    match ty {
        DataType::Int => Arc::new(values.map(Value::as_i64).collect::<Int64Array>()),
        DataType::Float => Arc::new(values.map(Value::as_f64).collect::<Float64Array>()),
        DataType::Bool => Arc::new(
            values
                .map(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        DataType::Str | DataType::Null => Arc::new(values.map(text).collect::<StringArray>()),
    }
}

/// The rows as one record batch: the columns of the first row's schema, each of the
/// narrowest type holding all its values (ints widen to floats; a mix of other types,
/// or a column of nulls only, is text); every column nullable.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_formats::arrow_rows::{batch_rows, rows_to_batch};
///
/// let rows = vec![
///     Row::from_pairs([("id", Value::Int(1)), ("score", Value::Float(2.5))]),
///     Row::from_pairs([("id", Value::Int(2)), ("score", Value::Null)]),
/// ];
/// let batch = rows_to_batch(&rows).unwrap();
/// assert_eq!(batch.num_rows(), 2);
/// assert_eq!(batch_rows(&batch), rows);
/// ```
pub fn rows_to_batch(rows: &[Row]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let types = column_types(rows);
    let fields: Vec<Field> = types
        .iter()
        .map(|(name, ty)| Field::new(name, arrow_type(*ty), true))
        .collect();
    let schema = Arc::new(ArrowSchema::new(fields));
    let Some(first) = rows.first().filter(|_| !types.is_empty()) else {
        return Ok(RecordBatch::new_empty(schema));
    };
    let columns: Vec<ArrayRef> = types
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| column(rows, first, i, name, *ty))
        .collect();
    RecordBatch::try_new(schema, columns)
}

fn utc_text(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::Str(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    })
}

/// Nested values (structs, lists, maps) as JSON text, through arrow-json.
fn nested_json(array: &dyn Array, name: &str) -> Vec<Value> {
    let field = Field::new(name, array.data_type().clone(), true);
    let one = RecordBatch::try_new(
        Arc::new(ArrowSchema::new(vec![field])),
        vec![arrow_array::make_array(array.to_data())],
    );
    let mut out = Vec::with_capacity(array.len());
    let mut lines = Vec::new();
    let written = one.and_then(|b| {
        let mut w = arrow_json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow_json::writer::LineDelimited>(&mut lines);
        w.write(&b)?;
        w.finish()
    });
    if written.is_err() {
        return vec![Value::Null; array.len()];
    }
    for line in lines.split(|b| *b == b'\n').take(array.len()) {
        let cell = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
            .ok()
            .and_then(|mut m| m.remove(name));
        out.push(match cell {
            None | Some(serde_json::Value::Null) => Value::Null,
            Some(v) => Value::Str(v.to_string()),
        });
    }
    out
}

/// Every value of a column, as row values.
fn column_values(array: &dyn Array, name: &str) -> Vec<Value> {
    use arrow_array::temporal_conversions as tc;
    let n = array.len();
    let each = |f: &dyn Fn(usize) -> Value| -> Vec<Value> {
        (0..n)
            .map(|i| if array.is_null(i) { Value::Null } else { f(i) })
            .collect()
    };
    macro_rules! prim {
        ($t:ty, $conv:expr) => {{
            let a = array.as_primitive::<$t>();
            each(&|i| $conv(a.value(i)))
        }};
    }
    match array.data_type() {
        ArrowType::Null => vec![Value::Null; n],
        ArrowType::Boolean => {
            let a = array.as_boolean();
            each(&|i| Value::Bool(a.value(i)))
        }
        ArrowType::Int8 => prim!(Int8Type, |v| Value::Int(i64::from(v))),
        ArrowType::Int16 => prim!(Int16Type, |v| Value::Int(i64::from(v))),
        ArrowType::Int32 => prim!(Int32Type, |v| Value::Int(i64::from(v))),
        ArrowType::Int64 => prim!(Int64Type, Value::Int),
        ArrowType::UInt8 => prim!(UInt8Type, |v| Value::Int(i64::from(v))),
        ArrowType::UInt16 => prim!(UInt16Type, |v| Value::Int(i64::from(v))),
        ArrowType::UInt32 => prim!(UInt32Type, |v| Value::Int(i64::from(v))),
        ArrowType::UInt64 => prim!(UInt64Type, |v: u64| Value::Float(v as f64)),
        ArrowType::Float16 => prim!(Float16Type, |v| Value::Float(f64::from(f32::from(v)))),
        ArrowType::Float32 => prim!(Float32Type, |v| Value::Float(f64::from(v))),
        ArrowType::Float64 => prim!(Float64Type, Value::Float),
        ArrowType::Utf8 => {
            let a = array.as_string::<i32>();
            each(&|i| Value::Str(a.value(i).to_string()))
        }
        ArrowType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            each(&|i| Value::Str(a.value(i).to_string()))
        }
        ArrowType::Utf8View => {
            let a = array.as_string_view();
            each(&|i| Value::Str(a.value(i).to_string()))
        }
        ArrowType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => prim!(TimestampSecondType, |v| utc_text(
                tc::timestamp_s_to_datetime(v).map(|t| t.and_utc())
            )),
            TimeUnit::Millisecond => prim!(TimestampMillisecondType, |v| utc_text(
                tc::timestamp_ms_to_datetime(v).map(|t| t.and_utc())
            )),
            TimeUnit::Microsecond => prim!(TimestampMicrosecondType, |v| utc_text(
                tc::timestamp_us_to_datetime(v).map(|t| t.and_utc())
            )),
            TimeUnit::Nanosecond => prim!(TimestampNanosecondType, |v| utc_text(
                tc::timestamp_ns_to_datetime(v).map(|t| t.and_utc())
            )),
        },
        ArrowType::Date32 => prim!(Date32Type, |v| tc::date32_to_datetime(v)
            .map_or(Value::Null, |d| Value::Str(d.date().to_string()))),
        ArrowType::Date64 => prim!(Date64Type, |v| tc::date64_to_datetime(v)
            .map_or(Value::Null, |d| Value::Str(d.date().to_string()))),
        ArrowType::Decimal128(_, _) => {
            let a = array.as_primitive::<Decimal128Type>();
            each(&|i| Value::Str(a.value_as_string(i)))
        }
        ArrowType::Decimal256(_, _) => {
            let a = array.as_primitive::<Decimal256Type>();
            each(&|i| Value::Str(a.value_as_string(i)))
        }
        ArrowType::Struct(_)
        | ArrowType::List(_)
        | ArrowType::LargeList(_)
        | ArrowType::FixedSizeList(_, _)
        | ArrowType::Map(_, _) => nested_json(array, name),
        _ => match arrow_cast_text(array) {
            Some(values) => values,
            None => vec![Value::Null; n],
        },
    }
}

/// Any other type (binary, intervals, times of day) as its Arrow display text.
fn arrow_cast_text(array: &dyn Array) -> Option<Vec<Value>> {
    let options = arrow_cast::display::FormatOptions::default();
    let formatter = arrow_cast::display::ArrayFormatter::try_new(array, &options).ok()?;
    Some(
        (0..array.len())
            .map(|i| {
                if array.is_null(i) {
                    Value::Null
                } else {
                    Value::Str(formatter.value(i).to_string())
                }
            })
            .collect(),
    )
}

/// The rows of a record batch (consecutive rows of the same types share a schema).
pub fn batch_rows(batch: &RecordBatch) -> Vec<Row> {
    let arrow_schema = batch.schema();
    let names: Vec<&String> = arrow_schema.fields().iter().map(|f| f.name()).collect();
    let mut rows = RowBuilder::default();
    let mut columns: Vec<std::vec::IntoIter<Value>> = batch
        .columns()
        .iter()
        .zip(arrow_schema.fields())
        .map(|(c, f)| column_values(c.as_ref(), f.name()).into_iter())
        .collect();
    (0..batch.num_rows())
        .map(|_| {
            let pairs = columns
                .iter_mut()
                .zip(&names)
                .map(|(c, name)| ((*name).clone(), c.next().unwrap_or(Value::Null)))
                .collect();
            rows.build(pairs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{
        Date32Array, Decimal128Array, Int32Array, StructArray, TimestampMicrosecondArray,
        UInt64Array,
    };

    use super::*;

    fn read(name: &str, array: ArrayRef) -> Vec<Value> {
        let batch = RecordBatch::try_new(
            Arc::new(ArrowSchema::new(vec![Field::new(
                name,
                array.data_type().clone(),
                true,
            )])),
            vec![array],
        )
        .unwrap();
        batch_rows(&batch)
            .into_iter()
            .map(|r| r.get(name).cloned().unwrap())
            .collect()
    }

    #[test]
    fn every_arrow_type_reads_without_losing_a_value() {
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("a");
        list.values().append_value("b");
        list.append(true);
        list.append(false);
        let structs = StructArray::from(vec![(
            Arc::new(Field::new("x", ArrowType::Int32, true)),
            Arc::new(Int32Array::from(vec![Some(1), None])) as ArrayRef,
        )]);
        type Case = (&'static str, ArrayRef, Vec<Value>);
        let cases: Vec<Case> = vec![
            (
                "i32",
                Arc::new(Int32Array::from(vec![Some(-7), None])),
                vec![Value::Int(-7), Value::Null],
            ),
            (
                "u64",
                Arc::new(UInt64Array::from(vec![u64::MAX])),
                vec![Value::Float(u64::MAX as f64)],
            ),
            (
                "ts",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![Some(1_704_067_200_123_456), None])
                        .with_timezone("UTC"),
                ),
                vec![Value::from("2024-01-01T00:00:00.123456Z"), Value::Null],
            ),
            (
                "day",
                Arc::new(Date32Array::from(vec![19_723])),
                vec![Value::from("2024-01-01")],
            ),
            (
                "price",
                Arc::new(
                    Decimal128Array::from(vec![Some(1_234_567), Some(-5)])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
                vec![Value::from("12345.67"), Value::from("-0.05")],
            ),
            (
                "tags",
                Arc::new(list.finish()),
                vec![Value::from(r#"["a","b"]"#), Value::Null],
            ),
            (
                "point",
                Arc::new(structs),
                vec![Value::from(r#"{"x":1}"#), Value::from(r#"{"x":null}"#)],
            ),
        ];
        for (name, array, expected) in cases {
            assert_eq!(read(name, array), expected, "{name}");
        }
    }
}
