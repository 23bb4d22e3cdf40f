//! The sans-I/O core: pure functions over byte slices and `BytesMut` that
//! [`HeaderCodec`](crate::HeaderCodec) and the framing strategies wrap.
//!
//! ```text
//! +--------------------+---------------------------------------------+------------------+
//! | header length      | header: UTF-8 JSON object                   | body             |
//! | 4 bytes, i32 LE    | {"data_size": N, ...any other fields...}    | exactly N bytes  |
//! +--------------------+---------------------------------------------+------------------+
//! ```

use bytes::{BufMut, BytesMut};

use crate::{error::FrameError, header::Header, limits::Limits};

/// Size of the header length field.
pub const LENGTH_FIELD_LEN: usize = 4;

/// Reads and checks the header length field.
///
/// # Errors
///
/// [`FrameError::NegativeHeaderLength`] when the `i32` is negative,
/// [`FrameError::HeaderTooLong`] when it exceeds `limits`.
///
/// # Examples
///
/// ```
/// use framecheck_codec::{wire, FrameError, Limits};
///
/// assert_eq!(wire::decode_header_len([17, 0, 0, 0], &Limits::default()), Ok(17));
/// assert_eq!(
///     wire::decode_header_len([0xff, 0xff, 0xff, 0xff], &Limits::default()),
///     Err(FrameError::NegativeHeaderLength { declared: -1 }),
/// );
/// ```
pub fn decode_header_len(field: [u8; 4], limits: &Limits) -> Result<usize, FrameError> {
    let declared = i32::from_le_bytes(field);
    let len = u32::try_from(declared).map_err(|_| FrameError::NegativeHeaderLength { declared })?;
    match usize::try_from(len) {
        Ok(n) if n <= limits.header() => Ok(n),
        _ => Err(FrameError::HeaderTooLong {
            declared: u64::from(len),
            limit: limits.header(),
        }),
    }
}

/// Parses a header and checks its `data_size` against the body limit.
///
/// # Errors
///
/// Any error of [`Header::parse`], and [`FrameError::BodyTooLong`].
///
/// # Examples
///
/// ```
/// use framecheck_codec::{wire, FrameError, Limits};
///
/// let limits = Limits::default().max_body_len(100);
/// assert_eq!(wire::decode_header(br#"{"data_size": 5}"#, &limits).unwrap().data_size, 5);
/// assert_eq!(
///     wire::decode_header(br#"{"data_size": 101}"#, &limits),
///     Err(FrameError::BodyTooLong { declared: 101, limit: 100 }),
/// );
/// ```
pub fn decode_header(bytes: &[u8], limits: &Limits) -> Result<Header, FrameError> {
    let header = Header::parse(bytes)?;
    body_len(&header, limits)?;
    Ok(header)
}

/// The header's `data_size` as a `usize`, checked against the body limit.
///
/// # Errors
///
/// [`FrameError::BodyTooLong`].
pub fn body_len(header: &Header, limits: &Limits) -> Result<usize, FrameError> {
    match usize::try_from(header.data_size) {
        Ok(n) if n <= limits.body() => Ok(n),
        _ => Err(FrameError::BodyTooLong {
            declared: header.data_size,
            limit: limits.body(),
        }),
    }
}

/// Appends the header length field and the header for a body of `body_len`
/// bytes to `dst`: everything but the body, which the caller appends or
/// writes after it (vectored, without a copy).
///
/// # Errors
///
/// [`FrameError::DataSizeMismatch`] when `header.data_size != body_len`,
/// [`FrameError::BodyTooLong`], [`FrameError::HeaderTooLong`] and
/// [`FrameError::ReservedField`]. On error `dst` holds what it held before.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use framecheck_codec::{wire, FrameError, Header, Limits};
///
/// let mut dst = BytesMut::new();
/// wire::encode_prefix(&Header::new(2), 2, &Limits::default(), &mut dst).unwrap();
/// assert_eq!(&dst[..], b"\x0f\0\0\0{\"data_size\":2}");
///
/// let err = wire::encode_prefix(&Header::new(3), 2, &Limits::default(), &mut dst);
/// assert_eq!(err, Err(FrameError::DataSizeMismatch { data_size: 3, body_len: 2 }));
/// assert_eq!(dst.len(), 19);
/// ```
pub fn encode_prefix(
    header: &Header,
    body_len: usize,
    limits: &Limits,
    dst: &mut BytesMut,
) -> Result<(), FrameError> {
    if u64::try_from(body_len).ok() != Some(header.data_size) {
        return Err(FrameError::DataSizeMismatch {
            data_size: header.data_size,
            body_len,
        });
    }
    self::body_len(header, limits)?;
    let start = dst.len();
    dst.put_slice(&[0; LENGTH_FIELD_LEN]);
    let written = header.write_json((&mut *dst).writer());
    let header_len = dst.len() - start - LENGTH_FIELD_LEN;
    let checked = written.and_then(|()| {
        if header_len <= limits.header() {
            Ok(())
        } else {
            Err(FrameError::HeaderTooLong {
                declared: header_len as u64,
                limit: limits.header(),
            })
        }
    });
    if let Err(e) = checked {
        dst.truncate(start);
        return Err(e);
    }
    // header_len <= limits.header() <= i32::MAX, so the cast is lossless.
    let field = (header_len as u32).to_le_bytes();
    dst[start..start + LENGTH_FIELD_LEN].copy_from_slice(&field);
    Ok(())
}
