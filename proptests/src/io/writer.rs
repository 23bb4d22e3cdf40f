//! [`ChunkedWriter`]: writes split and merged per a [`Schedule`].

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Schedule, Step};

/// Wraps an `AsyncWrite`, making each write follow the next [`Step`] of a
/// [`Schedule`]: take at most `n` bytes (a short write) and pass them on
/// together with any bytes held back, in one inner write where the inner
/// writer takes them (`Chunk`); take at most `n` bytes and hold them back,
/// so that several writes go out merged (`Hold`); return `Pending`; or
/// return an `Interrupted` error. Like `BufWriter`, it reports taken bytes
/// as written and passes held bytes on at the next `Chunk`, `flush` or
/// `shutdown`; an inner error after the bytes were taken comes with the
/// next call. Reads pass through unchanged.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use framecheck::io::{ChunkedWriter, Schedule, Step};
/// use tokio::io::AsyncWriteExt;
///
/// let mut writer = ChunkedWriter::new(Vec::new(), Schedule::new(vec![Step::Chunk(2)]));
/// assert_eq!(writer.write(b"hello").await?, 2);
/// writer.write_all(b"llo").await?;
/// writer.flush().await?;
/// assert_eq!(writer.get_mut().as_slice(), b"hello");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ChunkedWriter<W> {
    inner: W,
    schedule: Schedule,
    calls: usize,
    held: Vec<u8>,
    deferred: Option<io::Error>,
}

/// Most bytes a [`ChunkedWriter`] holds back before it waits for the inner
/// writer.
const HIGH_WATER: usize = 64 * 1024;

impl<W> ChunkedWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, schedule: Schedule) -> Self {
        ChunkedWriter {
            inner,
            schedule,
            calls: 0,
            held: Vec::new(),
            deferred: None,
        }
    }

    /// The wrapped writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Unwraps, dropping any held bytes that were not flushed.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite + Unpin> ChunkedWriter<W> {
    /// Writes the held bytes to the inner writer.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.held.is_empty() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.held) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.held.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for ChunkedWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        let step = this.schedule.step(this.calls);
        this.calls = this.calls.wrapping_add(1);
        let (n, pass_on) = match step {
            None => {
                return match this.poll_drain(cx) {
                    Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_write(cx, buf),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                };
            }
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
            Some(Step::Hold(n)) => (n, false),
            Some(Step::Chunk(n)) => (n, true),
        };
        // Back-pressure: never hold more than HIGH_WATER bytes.
        if this.held.len() >= HIGH_WATER {
            match this.poll_drain(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = usize::from(n.max(1)).min(buf.len());
        this.held.extend_from_slice(&buf[..n]);
        if pass_on {
            // The bytes are taken: an error now belongs to the next call, a
            // `Pending` to the next call or the flush.
            if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                this.deferred = Some(e);
            }
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

impl<W: AsyncRead + Unpin> AsyncRead for ChunkedWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}
