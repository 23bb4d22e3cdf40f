//! One bug's codec pair and frame strategy behind one object-safe trait, so
//! the runner can treat every bug alike.

use std::{fmt::Debug, marker::PhantomData};

use framecheck::{Failure, TestableCodec};
use proptest::{
    strategy::{BoxedStrategy, Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};

use crate::legs::{self, Baseline, Detection};

/// What the runner can do with a bug.
pub trait Subject: Send + Sync {
    /// framecheck at default settings (round trip, then truncation), with
    /// this seed: detected or not, and after how many cases.
    fn framecheck(&self, fixed: bool, seed: u64) -> Detection;
    /// Whether framecheck with this seed fails within its first `cases`
    /// cases of the round trip (`truncation`: of the truncation property).
    fn framecheck_within(&self, fixed: bool, seed: u64, cases: u32, truncation: bool) -> bool;
    /// A baseline, up to `budget` cases of the bug's frame strategy.
    fn baseline(&self, leg: Baseline, fixed: bool, seed: u64, budget: u32) -> Detection;
    /// framecheck's fuzz oracle on one input.
    ///
    /// # Errors
    ///
    /// The oracle's [`Failure`] when the decoder disagrees with itself.
    fn fuzz_one(&self, fixed: bool, data: &[u8]) -> Result<(), Failure>;
    /// Encoded streams of `n` frame lists from the bug's strategy (seed
    /// inputs for the fuzzer).
    fn sample_streams(&self, n: usize) -> Vec<Vec<u8>>;
}

/// A [`Subject`] from a codec constructor (`false`: the bug, `true`: the
/// fixed twin) and a frame strategy.
pub struct CodecSubject<C, I> {
    make: fn(bool) -> C,
    frames: fn() -> BoxedStrategy<Vec<I>>,
    _item: PhantomData<fn() -> I>,
}

impl<C, I> CodecSubject<C, I> {
    /// The subject for `make` and `frames`.
    pub fn new(make: fn(bool) -> C, frames: fn() -> BoxedStrategy<Vec<I>>) -> Self {
        CodecSubject {
            make,
            frames,
            _item: PhantomData,
        }
    }
}

/// A proptest runner whose random numbers come from `seed` alone.
pub(crate) fn seeded_runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

impl<C, I> Subject for CodecSubject<C, I>
where
    C: TestableCodec<I> + 'static,
    <C as tokio_util::codec::Decoder>::Item: PartialEq,
    I: Clone + Debug + 'static,
{
    fn framecheck(&self, fixed: bool, seed: u64) -> Detection {
        let make = self.make;
        legs::framecheck(move || make(fixed), self.frames, seed)
    }

    fn framecheck_within(&self, fixed: bool, seed: u64, cases: u32, truncation: bool) -> bool {
        let make = self.make;
        legs::framecheck_fails_within(move || make(fixed), self.frames, seed, cases, truncation)
    }

    fn baseline(&self, leg: Baseline, fixed: bool, seed: u64, budget: u32) -> Detection {
        let make = self.make;
        legs::baseline(leg, move || make(fixed), (self.frames)(), seed, budget)
    }

    fn fuzz_one(&self, fixed: bool, data: &[u8]) -> Result<(), Failure> {
        let make = self.make;
        framecheck::fuzz::check_input(move || make(fixed), data)
    }

    fn sample_streams(&self, n: usize) -> Vec<Vec<u8>> {
        let mut runner = seeded_runner(0x5eed);
        let strategy = (self.frames)();
        (0..n)
            .filter_map(|_| {
                let frames = strategy.new_tree(&mut runner).ok()?.current();
                let mut codec = (self.make)(true);
                let mut stream = bytes::BytesMut::new();
                for f in frames {
                    tokio_util::codec::Encoder::encode(&mut codec, f, &mut stream).ok()?;
                }
                Some(stream.to_vec())
            })
            .collect()
    }
}
