//! The `header` fuzz target: one frame described part by part (length
//! field, JSON shape, `data_size`, body, limits, where the stream ends),
//! turned into bytes, decoded whole and in reads, and held to the exact
//! outcome the description calls for.
//!
//! Invariants: no panic; the typed [`FrameError`](framecheck_codec::FrameError)
//! where one is due, and exactly the frames due before it; a clean end only
//! where the stream ends between frames; the read buffer bounded by the
//! stream and the configured limits (never by a claimed length).

mod check;
mod desc;
mod model;

pub use check::{check, run, FailureKind, HeaderFailure};
pub use desc::{
    BadByte, Body, BodyLimit, BodyShape, DataSize, End, ExtraValue, HeaderCase, HeaderLimit, Json,
    Known, LengthField, NonObject, StringField,
};
pub use model::{Built, WantError};
