//! [`ChunkedReader`]: reads split and merged per a [`Schedule`].

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Schedule, Step};

/// Wraps an `AsyncRead`, making each read follow the next [`Step`] of a
/// [`Schedule`]: at most `n` bytes (gathered from as many inner reads as
/// are ready, so several writes of the peer merge into one read), a
/// `Pending`, or an `Interrupted` error. Writes pass through unchanged.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use framecheck::io::{ChunkedReader, Schedule, Step};
/// use tokio::io::AsyncReadExt;
///
/// let mut reader = ChunkedReader::new(&b"hello world"[..], Schedule::new(vec![Step::Chunk(3)]));
/// let mut buf = [0u8; 16];
/// assert_eq!(reader.read(&mut buf).await?, 3);
/// assert_eq!(&buf[..3], b"hel");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ChunkedReader<R> {
    inner: R,
    schedule: Schedule,
    calls: usize,
    scratch: Vec<u8>,
    deferred: Option<io::Error>,
}

impl<R> ChunkedReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, schedule: Schedule) -> Self {
        ChunkedReader {
            inner,
            schedule,
            calls: 0,
            scratch: Vec::new(),
            deferred: None,
        }
    }

    /// The wrapped reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Unwraps.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ChunkedReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        if buf.remaining() == 0 {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let step = this.schedule.step(this.calls);
        this.calls = this.calls.wrapping_add(1);
        let limit = match step {
            None => return Pin::new(&mut this.inner).poll_read(cx, buf),
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Some(Step::Interrupted) => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "framecheck: scheduled interruption",
                )))
            }
            Some(Step::Chunk(n) | Step::Hold(n)) => usize::from(n.max(1)).min(buf.remaining()),
        };
        // Gather up to `limit` bytes from as many inner reads as are ready.
        this.scratch.resize(limit, 0);
        let mut got = 0;
        while got < limit {
            let mut part = ReadBuf::new(&mut this.scratch[got..limit]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut part) {
                Poll::Ready(Ok(())) => {
                    let n = part.filled().len();
                    if n == 0 {
                        break; // end of stream
                    }
                    got += n;
                }
                Poll::Ready(Err(e)) if got == 0 => return Poll::Ready(Err(e)),
                // Deliver what we have; the error comes with the next read.
                Poll::Ready(Err(e)) => {
                    this.deferred = Some(e);
                    break;
                }
                Poll::Pending if got == 0 => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        buf.put_slice(&this.scratch[..got]);
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncWrite + Unpin> AsyncWrite for ChunkedReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
