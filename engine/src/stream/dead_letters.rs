//! `dead_letters(sink)`: splits a stream of decode results into good records and dead
//! letters.

use std::sync::Arc;

use super::Stream;
use crate::connector::Sink;
use crate::dead_letter::DeadLetter;
use crate::metrics::NodeKind;
use crate::runtime::build::Attach;
use crate::runtime::split::DeadLetterSplit;

impl<T: Send + 'static> Stream<Result<T, DeadLetter>> {
    /// Sends every `Err` (a record that could not be read) to `sink` and the good
    /// records on. The dead-letter sink is a sink like any other: it takes part in
    /// checkpoints and its delivery guarantee is checked with the pipeline's; its
    /// records are counted in [`Metrics::dead_letters`](crate::metrics::Metrics::dead_letters).
    ///
    /// ```
    /// use tidewater_engine::dead_letter::{DeadLetter, Origin};
    /// use tidewater_engine::prelude::*;
    /// let lines = vec!["1", "two", "3"];
    /// let (good, bad) = (MemorySink::new(), MemorySink::new());
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(lines))
    ///     .map(|s: &str| {
    ///         s.parse::<u32>().map_err(|e| {
    ///             let origin = Origin::Other { description: "the vector".into() };
    ///             DeadLetter::new(origin, e.to_string(), s.as_bytes().to_vec())
    ///         })
    ///     })
    ///     .dead_letters(bad.clone())
    ///     .sink(good.clone());
    /// let metrics = p.run().unwrap();
    /// assert_eq!(good.values(), vec![1, 3]);
    /// assert_eq!(bad.values()[0].error, "invalid digit found in string");
    /// assert_eq!(metrics.dead_letters, 1);
    /// ```
    pub fn dead_letters<S: Sink<DeadLetter>>(self, sink: S) -> Stream<T> {
        let label = format!("dead_letters:{}", sink.name());
        let planned = self.plan.sink(&label, sink, NodeKind::DeadLetters, true);
        self.plan.link(
            &self.from,
            planned.id,
            crate::plan::Partitioning::DeadLetters,
        );
        let upstream = self.attach;
        let attach: Attach<T> = Arc::new(move |ctx, good| {
            let dead = planned.build(ctx)?;
            upstream(ctx, Box::new(DeadLetterSplit::new(good, Box::new(dead))))
        });
        Stream {
            plan: self.plan,
            attach,
            event_time: self.event_time,
            from: self.from,
        }
    }
}
