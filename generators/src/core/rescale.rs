//! Splitting what a generator's readers have not read yet across another number of
//! readers (a checkpoint restored at another parallelism).
//!
//! Reader `w` of `p` reads the blocks `b` with `b % p == w`, in order; everything of its
//! blocks below its `next_index` is read (or was skipped as read by someone else). So
//! every index below the smallest `next_index` of all readers is read, and above it
//! only a few blocks per reader are: those become the new readers' `done` ranges,
//! skipped when reached. Held-back (late) events go to the reader that owns their
//! index now.

use super::{GeneratorError, GeneratorPosition};

/// The position of reader `worker` (index, parallelism) reading blocks of `block`
/// events, taking over from `parts` (every old reader's position, by old index).
pub(crate) fn rescaled(
    parts: &[GeneratorPosition],
    block: u64,
    total: u64,
    worker: (usize, usize),
) -> Result<GeneratorPosition, GeneratorError> {
    let first = parts
        .first()
        .ok_or_else(|| mismatch(worker, "no positions"))?;
    for (index, part) in parts.iter().enumerate() {
        if part.worker != (index, parts.len()) || part.block == 0 {
            return Err(mismatch(
                worker,
                &format!(
                    "position of reader {:?} with block {} at place {index} of {}",
                    part.worker,
                    part.block,
                    parts.len()
                ),
            ));
        }
        if (part.generator.as_str(), part.seed) != (first.generator.as_str(), first.seed) {
            return Err(mismatch(
                worker,
                &format!("{} seed {}", part.generator, part.seed),
            ));
        }
    }
    let floor = parts
        .iter()
        .map(|p| p.next_index.min(total))
        .min()
        .unwrap_or(0);
    let (index, parallelism) = worker;
    Ok(GeneratorPosition {
        generator: first.generator.clone(),
        seed: first.seed,
        worker,
        next_index: first_own(floor, block, worker),
        emitted: parts
            .iter()
            .filter(|p| p.worker.0 % parallelism == index)
            .map(|p| p.emitted)
            .sum(),
        held: {
            let mut held: Vec<(i64, u64)> = parts
                .iter()
                .flat_map(|p| p.held.iter().copied())
                .filter(|&(_, i)| owner(i, block, parallelism) == index)
                .collect();
            held.sort_unstable();
            held
        },
        frontier: parts.iter().map(|p| p.frontier).min().unwrap_or(i64::MIN),
        block,
        done: covered_above(parts, floor, total),
    })
}

/// The ranges above `floor` that some old reader has read, merged and sorted.
fn covered_above(parts: &[GeneratorPosition], floor: u64, total: u64) -> Vec<(u64, u64)> {
    let p = parts.len() as u64;
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for (w, part) in parts.iter().enumerate() {
        let next = part.next_index.min(total);
        let b = part.block;
        let mut start = floor / b * b;
        while start < next {
            let range = (start.max(floor), (start + b).min(next));
            if (start / b) % p == w as u64 && range.0 < range.1 {
                ranges.push(range);
            }
            start += b;
        }
        ranges.extend(
            part.done
                .iter()
                .filter(|&&(_, end)| end > floor)
                .map(|&(s, e)| (s.max(floor), e)),
        );
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The reader (of `parallelism`) whose blocks hold index `i`.
pub(crate) fn owner(i: u64, block: u64, parallelism: usize) -> usize {
    ((i / block) % parallelism as u64) as usize
}

/// The first index at or after `i` in one of `worker`'s blocks.
pub(crate) fn first_own(i: u64, block: u64, (index, parallelism): (usize, usize)) -> u64 {
    let b = i / block;
    let p = parallelism as u64;
    let ahead = (index as u64 + p - b % p) % p;
    if ahead == 0 {
        i
    } else {
        (b + ahead) * block
    }
}

fn mismatch(worker: (usize, usize), found: &str) -> GeneratorError {
    GeneratorError::PositionMismatch {
        generator: format!("reader {worker:?} taking over from the readers of a checkpoint"),
        found: found.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(worker: (usize, usize), next: u64, held: &[(i64, u64)]) -> GeneratorPosition {
        GeneratorPosition {
            generator: "g".into(),
            seed: 1,
            worker,
            next_index: next,
            emitted: next,
            held: held.to_vec(),
            frontier: 7,
            block: 10,
            done: Vec::new(),
        }
    }

    #[test]
    fn the_new_readers_skip_exactly_what_the_old_ones_read() {
        // Two readers of blocks of 10: reader 0 stands at 43 (read 0-9, 20-29, 40-42),
        // reader 1 at 71 (read 10-19, 30-39, 50-59, 70).
        let parts = [
            part((0, 2), 43, &[(100, 21)]),
            part((1, 2), 71, &[(90, 55)]),
        ];
        // (new reader, its first index, ranges it skips, late events it holds)
        type Case = ((usize, usize), u64, Vec<(u64, u64)>, Vec<(i64, u64)>);
        let cases: [Case; 4] = [
            (
                (0, 1),
                43,
                vec![(50, 60), (70, 71)],
                vec![(90, 55), (100, 21)],
            ),
            ((0, 3), 60, vec![(50, 60), (70, 71)], vec![]),
            ((1, 3), 43, vec![(50, 60), (70, 71)], vec![]),
            (
                (2, 3),
                50,
                vec![(50, 60), (70, 71)],
                vec![(90, 55), (100, 21)],
            ),
        ];
        for (worker, next, done, held) in cases {
            let got = rescaled(&parts, 10, 1_000, worker).unwrap();
            assert_eq!(
                (got.next_index, got.done, got.held),
                (next, done, held),
                "{worker:?}"
            );
        }
    }

    #[test]
    fn positions_of_other_generators_or_missing_blocks_are_refused() {
        let mut other = part((1, 2), 10, &[]);
        other.seed = 2;
        assert!(rescaled(&[part((0, 2), 0, &[]), other], 10, 100, (0, 1)).is_err());
        let mut old = part((1, 2), 10, &[]);
        old.block = 0;
        assert!(rescaled(&[part((0, 2), 0, &[]), old], 10, 100, (0, 1)).is_err());
        assert!(rescaled(&[part((1, 2), 0, &[])], 10, 100, (0, 1)).is_err());
    }
}
