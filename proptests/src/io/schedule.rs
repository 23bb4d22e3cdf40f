//! [`Schedule`]: what each successive I/O call of an adapter does.

use std::{fmt, str::FromStr};

use arbitrary::{Arbitrary, Unstructured};
use proptest::{collection::vec, prelude::*};

/// One I/O call's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Arbitrary)]
pub enum Step {
    /// Move at most this many bytes (`0` is taken as `1`). A reader fills
    /// up to this many from as many inner reads as are ready, merging the
    /// peer's writes; a writer takes up to this many and passes everything
    /// it holds on in one inner write.
    Chunk(u16),
    /// Writer only: take up to this many bytes but hold them back, to go
    /// out merged with the next chunk or at flush. A reader takes it as
    /// `Chunk`.
    Hold(u16),
    /// Return `Poll::Pending` once (waking the task at once).
    Pending,
    /// Return an `io::ErrorKind::Interrupted` error once.
    Interrupted,
}

/// The behaviour of an adapter's successive I/O calls, repeated in a cycle.
/// An empty schedule passes everything through unchanged.
///
/// A schedule always has a step that moves bytes: one made only of
/// `Pending` and `Interrupted` gets a `Chunk(u16::MAX)` appended, so I/O
/// through it always progresses.
///
/// # Examples
///
/// ```
/// use framecheck::io::{Schedule, Step};
///
/// let schedule = Schedule::new(vec![Step::Chunk(1), Step::Pending]);
/// assert_eq!(schedule.to_string(), "chunk(1) pending");
/// assert_eq!(Schedule::new(vec![Step::Pending]).steps(), &[Step::Pending, Step::Chunk(u16::MAX)]);
/// // The text form parses back (saved failing cases are kept so).
/// assert_eq!("chunk(1) pending".parse::<Schedule>().unwrap(), schedule);
/// assert!("chunk(x)".parse::<Schedule>().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Schedule {
    steps: Vec<Step>,
}

impl Schedule {
    /// A schedule of these steps (see the type's docs for the one that may
    /// be added).
    pub fn new(mut steps: Vec<Step>) -> Self {
        let moves = |s: &Step| matches!(s, Step::Chunk(_) | Step::Hold(_));
        if !steps.is_empty() && !steps.iter().any(moves) {
            steps.push(Step::Chunk(u16::MAX));
        }
        Schedule { steps }
    }

    /// Passes everything through.
    pub fn passthrough() -> Self {
        Schedule::default()
    }

    /// One byte per call.
    pub fn one_byte() -> Self {
        Schedule::new(vec![Step::Chunk(1)])
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The step for call number `n` (`None`: pass through).
    pub(crate) fn step(&self, n: usize) -> Option<Step> {
        (!self.steps.is_empty()).then(|| self.steps[n % self.steps.len()])
    }
}

impl<'a> Arbitrary<'a> for Schedule {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Schedule::new(Vec::arbitrary(u)?))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Schedule::new(Vec::arbitrary_take_rest(u)?))
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Chunk(n) => write!(f, "chunk({n})"),
            Step::Hold(n) => write!(f, "hold({n})"),
            Step::Pending => f.write_str("pending"),
            Step::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("passthrough");
        }
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            step.fmt(f)?;
        }
        Ok(())
    }
}

/// A [`Schedule`] or [`Step`] that could not be parsed from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseScheduleError {
    token: String,
}

impl fmt::Display for ParseScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a step (expected chunk(N), hold(N), pending or interrupted, \
             N from 0 to 65535)",
            self.token
        )
    }
}

impl std::error::Error for ParseScheduleError {}

impl FromStr for Step {
    type Err = ParseScheduleError;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        let err = || ParseScheduleError {
            token: token.to_owned(),
        };
        let arg = |name: &str| -> Option<Result<u16, ParseScheduleError>> {
            let n = token
                .strip_prefix(name)?
                .strip_prefix('(')?
                .strip_suffix(')')?;
            Some(n.trim().parse().map_err(|_| err()))
        };
        match token {
            "pending" => Ok(Step::Pending),
            "interrupted" => Ok(Step::Interrupted),
            _ => {
                if let Some(n) = arg("chunk") {
                    Ok(Step::Chunk(n?))
                } else if let Some(n) = arg("hold") {
                    Ok(Step::Hold(n?))
                } else {
                    Err(err())
                }
            }
        }
    }
}

/// The text form of [`Schedule`]'s `Display`: steps separated by spaces,
/// or `passthrough`.
impl FromStr for Schedule {
    type Err = ParseScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "passthrough" {
            return Ok(Schedule::passthrough());
        }
        let steps = s
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<Vec<Step>, _>>()?;
        Ok(Schedule::new(steps))
    }
}

fn moving_steps() -> impl Strategy<Value = Step> + Clone {
    prop_oneof![
        3 => Just(Step::Chunk(1)),
        3 => (1u16..=16).prop_map(Step::Chunk),
        2 => (1u16..=4096).prop_map(Step::Chunk),
        2 => (1u16..=64).prop_map(Step::Hold),
    ]
}

/// Schedules of one to sixteen steps: one-byte, short and long chunks,
/// held (merged) writes and `Pending` between calls; never `Interrupted`
/// (tokio-util's `FramedRead` reports it as an error, as the trait allows,
/// rather than retrying).
pub fn schedules() -> impl Strategy<Value = Schedule> + Clone {
    let step = prop_oneof![4 => moving_steps(), 1 => Just(Step::Pending)];
    vec(step, 1..=16).prop_map(Schedule::new)
}

/// [`schedules`] with `Interrupted` calls too, for code that claims to
/// retry them.
pub fn schedules_with_interrupts() -> impl Strategy<Value = Schedule> + Clone {
    let step = prop_oneof![
        8 => moving_steps(),
        2 => Just(Step::Pending),
        1 => Just(Step::Interrupted),
    ];
    vec(step, 1..=16).prop_map(Schedule::new)
}
