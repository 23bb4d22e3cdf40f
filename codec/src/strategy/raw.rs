//! The unbuffered strategies: sleep and two-send.

use std::{io, time::Duration};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{
    error::{CodecError, FrameError, FramePart},
    limits::Limits,
};

/// The acknowledgement byte of the two-send strategy with `ack`.
pub const ACK: u8 = 0x06;

pub(super) async fn sleep_send<S>(io: &mut S, msg: &[u8], gap: Duration) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    io.write_all(msg).await?;
    io.flush().await?;
    if !gap.is_zero() {
        tokio::time::sleep(gap).await;
    }
    Ok(())
}

/// One read, taken as one message; `None` at end of stream.
pub(super) async fn sleep_recv<S>(
    io: &mut S,
    buf: &mut BytesMut,
    read_size: usize,
) -> io::Result<Option<Bytes>>
where
    S: AsyncRead + Unpin,
{
    buf.clear();
    buf.reserve(read_size);
    let mut limited = (&mut *io).take(read_size as u64);
    let n = limited.read_buf(buf).await?;
    Ok((n > 0).then(|| buf.split().freeze()))
}

pub(super) async fn two_send_send<S>(
    io: &mut S,
    msg: &[u8],
    ack: bool,
    limits: &Limits,
) -> Result<(), CodecError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let len = i32::try_from(msg.len())
        .ok()
        .filter(|_| msg.len() <= limits.body())
        .ok_or(FrameError::BodyTooLong {
            declared: msg.len() as u64,
            limit: limits.body(),
        })?;
    io.write_all(&len.to_le_bytes()).await?;
    io.flush().await?;
    if ack {
        let mut byte = [0u8; 1];
        io.read_exact(&mut byte).await?;
        if byte[0] != ACK {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("expected ack byte {ACK:#04x}, got {:#04x}", byte[0]),
            )
            .into());
        }
    }
    io.write_all(msg).await?;
    io.flush().await?;
    Ok(())
}

/// Reads until `buf` holds `want` bytes or the stream ends; returns whether
/// it got them all.
async fn read_full<S>(io: &mut S, buf: &mut BytesMut, want: usize) -> io::Result<bool>
where
    S: AsyncRead + Unpin,
{
    while buf.len() < want {
        let mut limited = (&mut *io).take((want - buf.len()) as u64);
        if limited.read_buf(buf).await? == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(super) async fn two_send_recv<S>(
    io: &mut S,
    ack: bool,
    limits: &Limits,
) -> Result<Option<Bytes>, CodecError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut field = BytesMut::with_capacity(4);
    if !read_full(io, &mut field, 4).await? {
        if field.is_empty() {
            return Ok(None);
        }
        return Err(truncated(FramePart::HeaderLength, field.len(), 4));
    }
    let declared = i32::from_le_bytes([field[0], field[1], field[2], field[3]]);
    let len = usize::try_from(declared).map_err(|_| FrameError::NegativeBodyLength { declared })?;
    if len > limits.body() {
        return Err(FrameError::BodyTooLong {
            declared: len as u64,
            limit: limits.body(),
        }
        .into());
    }
    if ack {
        io.write_all(&[ACK]).await?;
        io.flush().await?;
    }
    // `len` was checked against the limit above; the buffer still grows
    // with the bytes that arrive, not with the claim.
    let mut body = BytesMut::with_capacity(len.min(crate::growth::STEP));
    if !read_full(io, &mut body, len).await? {
        return Err(truncated(FramePart::Body, body.len(), len));
    }
    Ok(Some(body.freeze()))
}

fn truncated(part: FramePart, received: usize, expected: usize) -> CodecError {
    FrameError::Truncated {
        part,
        received,
        expected,
    }
    .into()
}
