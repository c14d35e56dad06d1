//! A source fed by the program through a channel: push records and watermarks from a
//! test or another thread, then close it.

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::{Restart, Source, SourcePoll, SourceReader, WorkerInfo};
use crate::error::{EngineError, Result};
use crate::record::{Batch, Record};
use crate::time::{Timestamp, NO_TIMESTAMP};

enum ChannelMessage<T> {
    Batch(Batch<T>),
    Watermark(Timestamp),
}

/// A source whose records are pushed through a [`ChannelSender`]. Worker 0 reads it
/// (the other workers' readers finish at once), so the order pushed is the order read.
/// The source ends when every sender has been dropped or closed.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let (source, sender) = ChannelSource::new();
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(source).filter(|x: &i32| *x > 1).sink(out.clone());
/// let handle = p.start().unwrap();
/// sender.send_batch(vec![1, 2, 3]).unwrap();
/// sender.close();
/// assert!(handle.await_termination(Some(std::time::Duration::from_secs(10))));
/// assert_eq!(out.values(), vec![2, 3]);
/// ```
pub struct ChannelSource<T> {
    receiver: Receiver<ChannelMessage<T>>,
}

/// The pushing end of a [`ChannelSource`].
#[derive(Clone)]
pub struct ChannelSender<T> {
    sender: Sender<ChannelMessage<T>>,
}

impl<T: Send + 'static> ChannelSource<T> {
    /// A new channel source and its sender (unbounded).
    #[allow(clippy::new_ret_no_self)] // a constructor of a pair, like `mpsc::channel`
    pub fn new() -> (ChannelSource<T>, ChannelSender<T>) {
        let (sender, receiver) = crossbeam_channel::unbounded();
        (ChannelSource { receiver }, ChannelSender { sender })
    }
}

impl<T: Send + 'static> ChannelSender<T> {
    fn deliver(&self, msg: ChannelMessage<T>) -> Result<()> {
        self.sender.send(msg).map_err(|_| EngineError::Source {
            source_name: "channel_source".into(),
            message: "the pipeline reading this channel has stopped".into(),
        })
    }

    /// Sends one batch of values without event time.
    pub fn send_batch(&self, values: Vec<T>) -> Result<()> {
        self.deliver(ChannelMessage::Batch(
            values
                .into_iter()
                .map(|v| Record::new(NO_TIMESTAMP, v))
                .collect(),
        ))
    }

    /// Sends one batch of records with event time.
    pub fn send_records(&self, records: Vec<Record<T>>) -> Result<()> {
        self.deliver(ChannelMessage::Batch(records))
    }

    /// Sends a single value.
    pub fn send(&self, value: T) -> Result<()> {
        self.send_batch(vec![value])
    }

    /// Asserts a watermark from the source (used when no `with_watermark` follows).
    pub fn watermark(&self, watermark: Timestamp) -> Result<()> {
        self.deliver(ChannelMessage::Watermark(watermark))
    }

    /// Ends the input (dropping every sender does the same).
    pub fn close(self) {}
}

impl<T: Send + 'static> Source for ChannelSource<T> {
    type Item = T;
    type Reader = ChannelReader<T>;

    /// A restarted reader sees only what is sent after it starts.
    fn restart(&self) -> Restart {
        Restart::LiveOnly
    }

    fn name(&self) -> String {
        "channel_source".to_string()
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<ChannelReader<T>> {
        let receiver = (worker.index == 0).then(|| self.receiver.clone());
        Ok(ChannelReader { receiver })
    }
}

/// Worker 0's reader of a [`ChannelSource`].
pub struct ChannelReader<T> {
    receiver: Option<Receiver<ChannelMessage<T>>>,
}

impl<T: 'static> SourceReader for ChannelReader<T> {
    type Item = T;

    fn poll_batch(&mut self, out: &mut Batch<T>) -> Result<SourcePoll> {
        let Some(receiver) = &self.receiver else {
            return Ok(SourcePoll::Finished);
        };
        match receiver.try_recv() {
            Ok(ChannelMessage::Batch(mut batch)) => {
                out.append(&mut batch);
                Ok(SourcePoll::Ready)
            }
            Ok(ChannelMessage::Watermark(wm)) => Ok(SourcePoll::Watermark(wm)),
            Err(TryRecvError::Empty) => Ok(SourcePoll::Pending),
            Err(TryRecvError::Disconnected) => Ok(SourcePoll::Finished),
        }
    }
}
