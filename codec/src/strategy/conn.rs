use std::{future::poll_fn, pin::Pin};

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use super::{raw, Framing};
use crate::{
    codec::HeaderCodec, error::CodecError, frame::Frame, header::Header, length::StrictLengthCodec,
    limits::Limits, wire,
};

/// Bodies up to this size are copied into the write buffer by
/// [`Conn::feed`]; larger ones go out in a vectored write without a copy.
const COPY_THRESHOLD: usize = 8 * 1024;
/// [`Conn::feed`] writes the buffer out once it holds this much.
const WRITE_HIGH_WATER: usize = 64 * 1024;
/// Default size of one read for the sleep strategy.
const DEFAULT_RAW_READ_SIZE: usize = 64 * 1024;

/// One end of a connection that sends and receives whole messages with a
/// given [`Framing`].
///
/// Both peers must use the same framing. `send` writes a message out at
/// once; `feed` may keep a small message in a buffer until `flush` (or a
/// later `send`), so a stream of small messages becomes few writes.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), framecheck_codec::CodecError> {
/// use framecheck_codec::strategy::{Conn, Framing};
///
/// let (a, b) = tokio::io::duplex(1024);
/// let (mut a, mut b) = (Conn::new(a, Framing::JsonHeader), Conn::new(b, Framing::JsonHeader));
/// a.send(b"hello").await?;
/// a.send(b"world").await?;
/// assert_eq!(b.recv().await?.as_deref(), Some(&b"hello"[..]));
/// assert_eq!(b.recv().await?.as_deref(), Some(&b"world"[..]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Conn<S> {
    framing: Framing,
    limits: Limits,
    wbuf: BytesMut,
    reader: Reader<S>,
}

#[derive(Debug)]
enum Reader<S> {
    Raw {
        io: S,
        rbuf: BytesMut,
        read_size: usize,
    },
    Length(FramedRead<S, StrictLengthCodec>),
    Json(FramedRead<S, HeaderCodec>),
}

impl<S> Reader<S> {
    fn io(&mut self) -> &mut S {
        match self {
            Reader::Raw { io, .. } => io,
            Reader::Length(f) => f.get_mut(),
            Reader::Json(f) => f.get_mut(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Wraps `io` with the default [`Limits`].
    pub fn new(io: S, framing: Framing) -> Self {
        Conn::with_limits(io, framing, Limits::default())
    }

    /// Wraps `io`; `limits.body()` bounds every message received or sent.
    pub fn with_limits(io: S, framing: Framing, limits: Limits) -> Self {
        let reader = match framing {
            Framing::Sleep { .. } | Framing::TwoSend { .. } => Reader::Raw {
                io,
                rbuf: BytesMut::new(),
                read_size: DEFAULT_RAW_READ_SIZE,
            },
            Framing::Length => {
                Reader::Length(FramedRead::new(io, StrictLengthCodec::new(limits.body())))
            }
            Framing::JsonHeader => {
                Reader::Json(FramedRead::new(io, HeaderCodec::with_limits(limits)))
            }
        };
        Conn {
            framing,
            limits,
            wbuf: BytesMut::new(),
            reader,
        }
    }

    /// Sets how many bytes one read may return for the sleep strategy (the
    /// tutorial's `recv(1024)`); no effect on the others.
    #[must_use]
    pub fn raw_read_size(mut self, n: usize) -> Self {
        if let Reader::Raw { read_size, .. } = &mut self.reader {
            *read_size = n.max(1);
        }
        self
    }

    /// The framing in use.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The underlying stream.
    pub fn get_mut(&mut self) -> &mut S {
        self.reader.io()
    }

    /// Sends one message and writes it out.
    ///
    /// # Errors
    ///
    /// [`FrameError::BodyTooLong`](crate::FrameError::BodyTooLong) for a
    /// message over the body limit (nothing is written), or the transport's
    /// error.
    pub async fn send(&mut self, msg: &[u8]) -> Result<(), CodecError> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Sends one message with a full header (JSON-header framing only; the
    /// other framings send the body alone). `header.data_size` must match.
    ///
    /// # Errors
    ///
    /// As [`wire::encode_prefix`], or the transport's error.
    pub async fn send_frame(&mut self, header: &Header, body: &[u8]) -> Result<(), CodecError> {
        if self.framing != Framing::JsonHeader {
            return self.send(body).await;
        }
        wire::encode_prefix(header, body.len(), &self.limits, &mut self.wbuf)?;
        self.write_with_body(body).await?;
        self.flush().await
    }

    /// Sends one message, possibly keeping it buffered until
    /// [`Conn::flush`]. Only the header-prefixed framings buffer; the others
    /// write at once (and the sleep strategy sleeps).
    ///
    /// # Errors
    ///
    /// As [`Conn::send`].
    pub async fn feed(&mut self, msg: &[u8]) -> Result<(), CodecError> {
        match self.framing {
            Framing::Sleep { gap } => Ok(raw::sleep_send(self.reader.io(), msg, gap).await?),
            Framing::TwoSend { ack, .. } => {
                raw::two_send_send(self.reader.io(), msg, ack, &self.limits).await
            }
            Framing::Length => {
                let Reader::Length(framed) = &self.reader else {
                    unreachable!("Length framing has a Length reader");
                };
                let field = framed.decoder().length_field(msg.len())?;
                self.wbuf.extend_from_slice(&field);
                self.write_with_body(msg).await
            }
            Framing::JsonHeader => {
                wire::encode_prefix(
                    &Header::new(msg.len() as u64),
                    msg.len(),
                    &self.limits,
                    &mut self.wbuf,
                )?;
                self.write_with_body(msg).await
            }
        }
    }

    /// `wbuf` ends with a prefix for `body`: append a small body, or write
    /// buffer and body out together without copying a large one.
    async fn write_with_body(&mut self, body: &[u8]) -> Result<(), CodecError> {
        if body.len() <= COPY_THRESHOLD {
            self.wbuf.extend_from_slice(body);
            if self.wbuf.len() >= WRITE_HIGH_WATER {
                self.write_buffer().await?;
            }
            return Ok(());
        }
        let mut out = (&mut self.wbuf).chain(body);
        self.reader.io().write_all_buf(&mut out).await?;
        self.wbuf.clear();
        Ok(())
    }

    async fn write_buffer(&mut self) -> Result<(), CodecError> {
        let io = self.reader.io();
        io.write_all_buf(&mut self.wbuf).await?;
        Ok(())
    }

    /// Writes out anything [`Conn::feed`] buffered, and flushes the stream.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub async fn flush(&mut self) -> Result<(), CodecError> {
        if !self.wbuf.is_empty() {
            self.write_buffer().await?;
        }
        self.reader.io().flush().await?;
        Ok(())
    }

    /// Receives one message's body; `None` when the stream ends cleanly
    /// between messages.
    ///
    /// # Errors
    ///
    /// A [`FrameError`](crate::FrameError) for a malformed or over-limit
    /// frame, or for a stream that ends inside one; or the transport's
    /// error.
    pub async fn recv(&mut self) -> Result<Option<Bytes>, CodecError> {
        match &mut self.reader {
            Reader::Json(_) => Ok(self.recv_frame().await?.map(|f| f.body)),
            Reader::Length(framed) => match next(framed).await {
                Some(r) => Ok(Some(r?.freeze())),
                None => Ok(None),
            },
            Reader::Raw {
                io,
                rbuf,
                read_size,
            } => match self.framing {
                Framing::TwoSend { ack, .. } => raw::two_send_recv(io, ack, &self.limits).await,
                _ => Ok(raw::sleep_recv(io, rbuf, *read_size).await?),
            },
        }
    }

    /// Receives one whole frame, header included (JSON-header framing); the
    /// other framings return the body under a minimal header.
    ///
    /// # Errors
    ///
    /// As [`Conn::recv`].
    pub async fn recv_frame(&mut self) -> Result<Option<Frame>, CodecError> {
        match &mut self.reader {
            Reader::Json(framed) => next(framed).await.transpose(),
            _ => Ok(Box::pin(self.recv()).await?.map(Frame::new)),
        }
    }

    /// Shuts down the write side after flushing.
    ///
    /// # Errors
    ///
    /// The transport's error.
    pub async fn shutdown(&mut self) -> Result<(), CodecError> {
        self.flush().await?;
        self.reader.io().shutdown().await?;
        Ok(())
    }
}

async fn next<T: Stream + Unpin>(stream: &mut T) -> Option<T::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}
