//! Event time read from a row field: checked before the watermark, so a row whose time
//! cannot be read fails the run naming the field and the value (`with_event_time`) or
//! becomes a dead letter (`read_event_time`), and is never counted as late.

use std::sync::Arc;

use super::Row;
use crate::dead_letter::{DeadLetter, Origin};
use crate::error::{EngineError, Result};
use crate::operator::Operator;
use crate::record::{Batch, Record};
use crate::time::{event_time_of, TimeUnit};

/// The time in `field` of `row`, or what is wrong with it.
pub(crate) fn field_time(
    row: &Row,
    field: &str,
    unit: TimeUnit,
) -> std::result::Result<i64, String> {
    match row.get(field) {
        Some(v) => event_time_of(v, unit).map_err(|e| format!("field `{field}`: {e}")),
        None => Err(format!(
            "field `{field}` is missing (the row has [{}])",
            row.schema().names().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Fails the run at the first row whose time cannot be read.
pub(crate) struct RequireEventTime {
    pub operator: String,
    pub field: Arc<str>,
    pub unit: TimeUnit,
}

impl Operator for RequireEventTime {
    type In = Row;
    type Out = Row;

    fn process_batch(&mut self, input: Batch<Row>, output: &mut Batch<Row>) -> Result<()> {
        for r in &input {
            if let Err(e) = field_time(&r.value, &self.field, self.unit) {
                return Err(EngineError::RowConversion(format!(
                    "`{}`: cannot read the event time: {e}",
                    self.operator
                )));
            }
        }
        output.extend(input);
        Ok(())
    }
}

/// Sends rows whose time cannot be read on as dead letters (the row as JSON).
pub(crate) struct ReadEventTime {
    pub field: Arc<str>,
    pub unit: TimeUnit,
}

impl Operator for ReadEventTime {
    type In = Row;
    type Out = std::result::Result<Row, DeadLetter>;

    fn process_batch(&mut self, input: Batch<Row>, output: &mut Batch<Self::Out>) -> Result<()> {
        output.extend(input.into_iter().map(|r| {
            let value = match field_time(&r.value, &self.field, self.unit) {
                Ok(_) => Ok(r.value),
                Err(error) => {
                    let origin = Origin::Other {
                        description: format!("event time in field `{}`", self.field),
                    };
                    let payload = serde_json::to_vec(&r.value).unwrap_or_default();
                    Err(DeadLetter::new(origin, error, payload))
                }
            };
            Record::new(r.ts, value)
        }));
        Ok(())
    }
}
