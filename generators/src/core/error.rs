//! Typed errors of the generators: each names the field and the value.

use thiserror::Error;

/// A generator configuration or I/O problem.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum GeneratorError {
    /// A probability outside `[0, 1]`.
    #[error("`{field}`: expected a probability in [0, 1], found {value}")]
    InvalidProbability {
        /// The field.
        field: String,
        /// The value given.
        value: f64,
    },
    /// Any other out-of-range or malformed parameter.
    #[error("`{field}`: expected {expected}, found {found}")]
    InvalidParameter {
        /// The field.
        field: String,
        /// What a valid value looks like.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A parameter name that the generator does not have.
    #[error("unknown parameter `{name}` for `{generator}`; known: {known}")]
    UnknownParameter {
        /// The generator.
        generator: String,
        /// The unknown name.
        name: String,
        /// Comma separated list of the known parameters.
        known: String,
    },
    /// An output file or folder could not be written.
    #[error("cannot write `{path}`: {message}")]
    Output {
        /// The path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A position saved from another generator or seed.
    #[error("cannot resume `{generator}` from a position of `{found}`")]
    PositionMismatch {
        /// This generator (name and seed).
        generator: String,
        /// What the position belongs to.
        found: String,
    },
}

/// Checks that `value` is a probability.
///
/// ```
/// use tidewater_generators::core::check_probability;
/// assert!(check_probability("bounce_rate", 0.35).is_ok());
/// assert_eq!(
///     check_probability("bounce_rate", 1.5).unwrap_err().to_string(),
///     "`bounce_rate`: expected a probability in [0, 1], found 1.5"
/// );
/// ```
pub fn check_probability(field: &str, value: f64) -> Result<(), GeneratorError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(GeneratorError::InvalidProbability {
            field: field.to_string(),
            value,
        })
    }
}

/// Checks that `value` is a finite number above zero.
pub fn check_positive(field: &str, value: f64) -> Result<(), GeneratorError> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(GeneratorError::InvalidParameter {
            field: field.into(),
            expected: "a number > 0".into(),
            found: value.to_string(),
        })
    }
}

/// Checks that `value` is a finite number at or above zero.
pub fn check_non_negative(field: &str, value: f64) -> Result<(), GeneratorError> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(GeneratorError::InvalidParameter {
            field: field.into(),
            expected: "a number >= 0".into(),
            found: value.to_string(),
        })
    }
}

/// Every problem of a generator's configuration, found at once: an error type of its
/// own (so `?` carries it into `EngineError`, `anyhow` or `Box<dyn Error>`), which
/// derefs to the list.
///
/// ```
/// use tidewater_generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
/// use tidewater_engine::error::EngineError;
/// fn build() -> Result<ClickstreamSimulator, EngineError> {
///     Ok(ClickstreamSimulator::new(ClickstreamConfig { users: 0, bounce_rate: 2.0, ..Default::default() })?)
/// }
/// let e = build().unwrap_err();
/// assert_eq!(e.problems().len(), 2);
/// assert_eq!(
///     e.to_string(),
///     "pipeline `generator config` has 2 problems:\n  1. `generator`: invalid `bounce_rate`: expected a probability in [0, 1], found 2\n  2. `generator`: invalid `users`: expected at least 1, found 0"
/// );
/// fn boxed() -> Result<(), Box<dyn std::error::Error>> {
///     ClickstreamSimulator::new(ClickstreamConfig { users: 0, ..Default::default() })?;
///     Ok(())
/// }
/// assert_eq!(boxed().unwrap_err().to_string(), "`users`: expected at least 1, found 0");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}", describe(.0))]
pub struct GeneratorErrors(pub Vec<GeneratorError>);

impl std::ops::Deref for GeneratorErrors {
    type Target = [GeneratorError];

    fn deref(&self) -> &[GeneratorError] {
        &self.0
    }
}

impl IntoIterator for GeneratorErrors {
    type Item = GeneratorError;
    type IntoIter = std::vec::IntoIter<GeneratorError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Vec<GeneratorError>> for GeneratorErrors {
    fn from(v: Vec<GeneratorError>) -> Self {
        GeneratorErrors(v)
    }
}

impl From<GeneratorError> for GeneratorErrors {
    fn from(e: GeneratorError) -> Self {
        GeneratorErrors(vec![e])
    }
}

impl From<GeneratorErrors> for tidewater_engine::error::EngineError {
    fn from(e: GeneratorErrors) -> Self {
        let mut problems = tidewater_engine::error::Problems::new();
        for p in e {
            problems.push(p.into());
        }
        problems.into_error("generator config")
    }
}

/// `Ok` when no problem was found, else every problem.
pub fn all_problems(problems: Vec<GeneratorError>) -> Result<(), GeneratorErrors> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GeneratorErrors(problems))
    }
}

/// Every problem on one line, separated by `; ` (for messages and command lines).
///
/// ```
/// use tidewater_generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
/// use tidewater_generators::core::describe;
/// let problems = ClickstreamSimulator::new(ClickstreamConfig { users: 0, bounce_rate: 2.0, ..Default::default() }).unwrap_err();
/// assert_eq!(describe(&problems), "`bounce_rate`: expected a probability in [0, 1], found 2; `users`: expected at least 1, found 0");
/// ```
pub fn describe(problems: &[GeneratorError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<GeneratorError> for tidewater_engine::error::EngineError {
    fn from(e: GeneratorError) -> Self {
        use tidewater_engine::error::EngineError;
        match e {
            GeneratorError::InvalidProbability { field, value } => EngineError::invalid(
                "generator",
                field,
                "a probability in [0, 1]",
                value.to_string(),
            ),
            GeneratorError::InvalidParameter {
                field,
                expected,
                found,
            } => EngineError::invalid("generator", field, expected, found),
            other => EngineError::external("generator", other),
        }
    }
}
