//! Size limits applied to untrusted lengths before anything is allocated.

/// Default maximum header length: 64 KiB.
pub const DEFAULT_MAX_HEADER_LEN: usize = 64 * 1024;
/// Default maximum body length: 8 MiB.
pub const DEFAULT_MAX_BODY_LEN: usize = 8 * 1024 * 1024;

/// The largest header length the 4-byte signed length field can carry.
pub const MAX_HEADER_LEN_FIELD: usize = i32::MAX as usize;

/// Limits on the two lengths a peer controls.
///
/// Each is checked as soon as its length is known: the header length when
/// its 4 bytes arrive, the body length when the header is parsed, in both
/// cases before any buffer is reserved or any further byte awaited.
///
/// ```
/// use framecheck_codec::Limits;
///
/// let limits = Limits::default().max_header_len(1024).max_body_len(1 << 20);
/// assert_eq!((limits.header(), limits.body()), (1024, 1 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_header_len: usize,
    max_body_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_len: DEFAULT_MAX_HEADER_LEN,
            max_body_len: DEFAULT_MAX_BODY_LEN,
        }
    }
}

impl Limits {
    /// Sets the maximum header length in bytes, capped at `i32::MAX`, the
    /// most the length field can express.
    #[must_use]
    pub fn max_header_len(mut self, n: usize) -> Self {
        self.max_header_len = n.min(MAX_HEADER_LEN_FIELD);
        self
    }

    /// Sets the maximum body length in bytes.
    #[must_use]
    pub fn max_body_len(mut self, n: usize) -> Self {
        self.max_body_len = n;
        self
    }

    /// The maximum header length in bytes.
    pub fn header(&self) -> usize {
        self.max_header_len
    }

    /// The maximum body length in bytes.
    pub fn body(&self) -> usize {
        self.max_body_len
    }
}
