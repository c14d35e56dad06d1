//! The exactly-once protocol's pure parts: what a pre-commit stores and how recovery
//! decides whether a stored transaction was committed.
//!
//! Each sink subtask owns a transactional id and a *marker*: a consumer-group offset
//! (group = the transactional id, partition 0 of the output topic) that each of its
//! transactions sets, inside the transaction, to that transaction's sequence number
//! (`send_offsets_to_transaction`, as Kafka Streams commits its input offsets). The
//! marker is therefore committed if and only if the records are: reading it tells how
//! many of the subtask's transactions took effect, whatever moment a crash hit.
//!
//! * At a barrier the subtask *seals* the records written since the previous one as an
//!   epoch with the next sequence number, and stores every sealed, uncommitted epoch in
//!   the checkpoint (the pre-commit).
//! * When the checkpoint is stored, each sealed epoch is published as one transaction:
//!   its records, then the marker = its sequence number, then commit.
//! * On recovery from a checkpoint, each epoch it stores whose sequence number is above
//!   the marker was never committed (a crash between "checkpoint stored" and "commit"):
//!   it is published now, in order, by the new producer (whose `init_transactions`
//!   fenced and aborted whatever the dead one left open). Epochs at or below the marker
//!   are skipped. Nothing is lost, nothing repeated.

use tidewater_engine::error::{EngineError, Result};

/// Format version of an encoded pre-commit.
const VERSION: u8 = 1;

/// One record ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Key bytes (partitioning).
    pub key: Option<Vec<u8>>,
    /// Value bytes.
    pub value: Vec<u8>,
}

/// The records of one checkpoint interval, sealed at its barrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    /// The subtask's transaction sequence number (the marker once committed).
    pub sequence: i64,
    /// The checkpoint whose barrier sealed it (for logs).
    pub checkpoint: u64,
    /// Its records in order.
    pub records: Vec<Encoded>,
}

/// Whether `epoch` still has to be published, given the marker read from the cluster
/// (`None`: this subtask never committed a transaction).
pub fn needs_publish(epoch: &Epoch, marker: Option<i64>) -> bool {
    marker.is_none_or(|m| epoch.sequence > m)
}

/// Encodes sealed epochs for a checkpoint.
pub fn encode(epochs: &[&Epoch]) -> Vec<u8> {
    let size: usize = epochs
        .iter()
        .flat_map(|e| &e.records)
        .map(|r| 9 + r.key.as_ref().map_or(0, Vec::len) + r.value.len())
        .sum();
    let mut out = Vec::with_capacity(5 + size + epochs.len() * 20);
    out.push(VERSION);
    out.extend_from_slice(&(epochs.len() as u32).to_le_bytes());
    for e in epochs {
        out.extend_from_slice(&e.sequence.to_le_bytes());
        out.extend_from_slice(&e.checkpoint.to_le_bytes());
        out.extend_from_slice(&(e.records.len() as u32).to_le_bytes());
        for r in &e.records {
            match &r.key {
                Some(k) => {
                    out.push(1);
                    out.extend_from_slice(&(k.len() as u32).to_le_bytes());
                    out.extend_from_slice(k);
                }
                None => out.push(0),
            }
            out.extend_from_slice(&(r.value.len() as u32).to_le_bytes());
            out.extend_from_slice(&r.value);
        }
    }
    out
}

/// Decodes what [`encode`] wrote; `sink` names the node in errors.
pub fn decode(sink: &str, bytes: &[u8]) -> Result<Vec<Epoch>> {
    let mut r = Reader { bytes, at: 0, sink };
    let version = r.take(1)?[0];
    if version != VERSION {
        return Err(r.error(format!("format version {version}, expected {VERSION}")));
    }
    let n = r.u32()?;
    let mut epochs = Vec::with_capacity(n.min(1024) as usize);
    for _ in 0..n {
        let sequence = i64::from_le_bytes(r.array()?);
        let checkpoint = u64::from_le_bytes(r.array()?);
        let count = r.u32()?;
        let mut records = Vec::with_capacity(count.min(1 << 16) as usize);
        for _ in 0..count {
            let key = match r.take(1)?[0] {
                0 => None,
                1 => {
                    let len = r.u32()? as usize;
                    Some(r.take(len)?.to_vec())
                }
                other => return Err(r.error(format!("key flag {other}"))),
            };
            let len = r.u32()? as usize;
            records.push(Encoded {
                key,
                value: r.take(len)?.to_vec(),
            });
        }
        epochs.push(Epoch {
            sequence,
            checkpoint,
            records,
        });
    }
    if r.at != bytes.len() {
        return Err(r.error(format!("{} bytes left over", bytes.len() - r.at)));
    }
    Ok(epochs)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    sink: &'a str,
}

impl<'a> Reader<'a> {
    fn error(&self, what: String) -> EngineError {
        EngineError::State {
            operator: self.sink.to_string(),
            message: format!(
                "pre-committed transactions are unreadable at byte {}: {what}",
                self.at
            ),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.error(format!(
                "needed {n} more bytes, {} left",
                self.bytes.len() - self.at
            )));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(sequence: i64, values: &[&str]) -> Epoch {
        Epoch {
            sequence,
            checkpoint: sequence as u64 + 100,
            records: values
                .iter()
                .enumerate()
                .map(|(i, v)| Encoded {
                    key: (i % 2 == 0).then(|| format!("k{i}").into_bytes()),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn epochs_round_trip() {
        let (a, b, empty) = (epoch(4, &["x", "yy", ""]), epoch(5, &["z"]), epoch(6, &[]));
        let bytes = encode(&[&a, &b, &empty]);
        assert_eq!(decode("out", &bytes).unwrap(), vec![a, b, empty]);
        assert_eq!(decode("out", &encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn damaged_bytes_are_an_error_naming_the_sink() {
        let bytes = encode(&[&epoch(1, &["abc"])]);
        // (bytes, message)
        let cases: [(Vec<u8>, &str); 3] = [
            (
                bytes[..bytes.len() - 1].to_vec(),
                "state of `out`: pre-committed transactions are unreadable at byte 36: needed 3 more bytes, 2 left",
            ),
            (
                [bytes.clone(), vec![0]].concat(),
                "state of `out`: pre-committed transactions are unreadable at byte 39: 1 bytes left over",
            ),
            (
                [&[9u8][..], &bytes[1..]].concat(),
                "state of `out`: pre-committed transactions are unreadable at byte 1: format version 9, expected 1",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(decode("out", &input).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn recovery_publishes_exactly_the_epochs_above_the_marker() {
        // (epoch sequence, marker, must publish)
        for (sequence, marker, expected) in [
            (1, None, true),
            (3, Some(2), true),
            (3, Some(3), false),
            (3, Some(7), false),
        ] {
            assert_eq!(
                needs_publish(&epoch(sequence, &[]), marker),
                expected,
                "{sequence} {marker:?}"
            );
        }
    }
}
