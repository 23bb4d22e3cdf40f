//! `send` and `receive`: one file per connection in the `HeaderCodec` wire
//! format, checked end to end.
//!
//! ```text
//! sender   | i32 LE | {"data_size":N,"filename":"a.bin","hash":"<sha-256 hex>"} | N bytes |
//! receiver | i32 LE | {"data_size":M,"status":"ok"|"error","error":"<kind>"}     | message |
//! ```
//!
//! The receiver checks the header before it reads a byte of the body (name,
//! size limit, hash format), streams the body into a hidden temporary file
//! (`.framecheck-*.part`) in the target directory while hashing it, checks
//! size and hash, and only then renames the file into place. A rejected or
//! broken transfer leaves nothing behind: the temporary file is removed when
//! it is dropped, and at start the receiver removes any that an earlier run
//! left when it was killed. A connection may carry several files, one after
//! another: each gets its reply; after a refusal the connection closes.
//!
//! Names follow one portable rule ([`portable_filename`]): NFC-normalised,
//! so one name is one file on every system, and refused when Windows,
//! macOS or Linux would read them another way or a person would misread
//! them. Names that differ only in case ([`case_key`]) are one file, as on
//! Windows and macOS: refused as `exists`, or with `--overwrite` replacing
//! the stored file under its own spelling.

use std::{
    fmt,
    io::{self, IsTerminal as _},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::BytesMut;
use framecheck_codec::{wire, Frame, FrameError, Header, HeaderCodec, Limits};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::codec::{Encoder, FramedRead};

use crate::net::{self, BudgetError, Charge, Guarded, IdleStream, ServerOpts};

/// Size of one body read or write.
const CHUNK: usize = 64 * 1024;
/// Default `--max-size`: 1 GiB.
pub const DEFAULT_MAX_FILE: u64 = 1 << 30;
/// After a rejection, how long the receiver keeps reading (and discarding)
/// so the sender can finish its write and read the reply.
const DRAIN_AFTER_REJECT: Duration = Duration::from_secs(2);
/// Room for a header before any of it has arrived; more as it does.
const HEADER_START: usize = 1024;
/// Largest reply frame accepted by the sender.
const MAX_REPLY: usize = 64 * 1024;

/// `framecheck send`.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// The file to send.
    pub file: PathBuf,
    /// Receiver (or slice-proxy) address.
    #[arg(long, default_value = "127.0.0.1:9997")]
    pub connect: String,
    /// Name to send instead of the file's own (the receiver validates it).
    #[arg(long)]
    pub name: Option<String>,
    /// Give up when the connection makes no progress for this many
    /// milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub timeout: u64,
}

/// `framecheck receive`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiveArgs {
    /// Address to listen on; port 0 picks a free one (printed first).
    #[arg(long, default_value = "127.0.0.1:9997")]
    pub listen: String,
    /// Directory the files go to (must exist).
    #[arg(long)]
    pub dir: PathBuf,
    /// Largest file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE)]
    pub max_size: u64,
    /// Replace an existing file of the same name (otherwise refused).
    #[arg(long)]
    pub overwrite: bool,
    /// Shared server options.
    #[command(flatten)]
    pub server: ServerOpts,
}

/// Why the receiver refused or lost a file. The `kind` string goes into the
/// reply's `error` field.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransferError {
    /// The frame itself is malformed or over a limit (`data_size` over
    /// `--max-size` shows up as `BodyTooLong`).
    Frame(FrameError),
    /// The header has no `filename`.
    MissingFilename,
    /// The name is not a plain file name.
    BadFilename {
        /// The name as sent.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header has no `hash`, or it is not 64 hex digits.
    BadHash {
        /// The value as sent, if any.
        hash: Option<String>,
    },
    /// The stream ended before `data_size` body bytes arrived.
    Truncated {
        /// Bytes received.
        received: u64,
        /// `data_size`.
        expected: u64,
    },
    /// The body's SHA-256 differs from the header's `hash`.
    HashMismatch {
        /// The header's hash.
        expected: String,
        /// The body's hash.
        actual: String,
    },
    /// A file of that name exists and `--overwrite` was not given.
    Exists {
        /// The file name.
        name: String,
    },
    /// A file whose name differs from this one only in case exists (one
    /// file on Windows and macOS), and `--overwrite` was not given.
    CaseCollision {
        /// The name as sent (NFC).
        name: String,
        /// The file that exists.
        existing: String,
    },
    /// The receiver's memory budget is spent (`--max-memory`).
    Busy(BudgetError),
    /// The receiver rejected the file (seen by the sender).
    Rejected {
        /// The receiver's error kind.
        kind: String,
        /// The receiver's message.
        message: String,
    },
    /// A transport or disk error.
    Io(io::Error),
}

impl TransferError {
    /// A short, stable name for the reply's `error` field.
    pub fn kind(&self) -> &str {
        match self {
            TransferError::Frame(FrameError::BodyTooLong { .. }) => "too-large",
            TransferError::Frame(_) => "bad-frame",
            TransferError::MissingFilename | TransferError::BadFilename { .. } => "bad-filename",
            TransferError::BadHash { .. } => "bad-hash",
            TransferError::Truncated { .. } => "truncated",
            TransferError::HashMismatch { .. } => "hash-mismatch",
            TransferError::Exists { .. } | TransferError::CaseCollision { .. } => "exists",
            TransferError::Busy(_) => "busy",
            TransferError::Rejected { kind, .. } => kind,
            TransferError::Io(_) => "io",
        }
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Frame(FrameError::BodyTooLong { declared, limit }) => write!(
                f,
                "file of {declared} bytes exceeds the receiver's limit of {limit} bytes"
            ),
            TransferError::Frame(e) => write!(f, "malformed frame: {e}"),
            TransferError::MissingFilename => f.write_str("header has no \"filename\""),
            TransferError::BadFilename { name, reason } => {
                write!(f, "refused file name {name:?}: {reason}")
            }
            TransferError::BadHash { hash: None } => f.write_str("header has no \"hash\""),
            TransferError::BadHash { hash: Some(h) } => {
                write!(f, "\"hash\" {h:?} is not a SHA-256 in 64 hex digits")
            }
            TransferError::Truncated { received, expected } => write!(
                f,
                "stream ended after {received} of {expected} body bytes; nothing saved"
            ),
            TransferError::HashMismatch { expected, actual } => write!(
                f,
                "SHA-256 mismatch: header says {expected}, body is {actual}; nothing saved"
            ),
            TransferError::Exists { name } => {
                write!(
                    f,
                    "{name:?} already exists (receiver runs without --overwrite)"
                )
            }
            TransferError::CaseCollision { name, existing } => write!(
                f,
                "{existing:?} already exists, and {name:?} differs from it only in case: one file on Windows and macOS (receiver runs without --overwrite)"
            ),
            TransferError::Busy(e) => write!(f, "receiver busy: {e}"),
            TransferError::Rejected { kind, message } => {
                write!(f, "receiver refused the file ({kind}): {message}")
            }
            TransferError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TransferError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransferError::Frame(e) => Some(e),
            TransferError::Busy(e) => Some(e),
            TransferError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<BudgetError> for TransferError {
    fn from(e: BudgetError) -> Self {
        TransferError::Busy(e)
    }
}

impl From<io::Error> for TransferError {
    fn from(e: io::Error) -> Self {
        TransferError::Io(e)
    }
}

impl From<FrameError> for TransferError {
    fn from(e: FrameError) -> Self {
        TransferError::Frame(e)
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The prefix of the receiver's temporary files; names starting with it
/// are refused, and files with it (and [`TEMP_SUFFIX`]) are removed at start.
pub const TEMP_PREFIX: &str = ".framecheck-";
/// The suffix of the receiver's temporary files.
pub const TEMP_SUFFIX: &str = ".part";

/// Names Windows reserves for devices, whatever the extension (`NUL.txt`
/// is `NUL`), compared without case.
const WINDOWS_DEVICES: [&str; 30] = [
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "COM0",
    "COM1",
    "COM2",
    "COM3",
    "COM4",
    "COM5",
    "COM6",
    "COM7",
    "COM8",
    "COM9",
    "COM\u{b9}",
    "COM\u{b2}",
    "COM\u{b3}",
    "LPT0",
    "LPT1",
    "LPT2",
    "LPT3",
    "LPT4",
    "LPT5",
    "LPT6",
    "LPT7",
    "LPT8",
    "LPT9",
    "LPT\u{b9}",
    "LPT\u{b2}",
    "LPT\u{b3}",
];

/// Characters that change how text around them is displayed or that
/// display as nothing: bidirectional controls (a name can show `exe.txt`
/// and be `txt.exe`) and zero-width and other invisible format characters
/// (two names that look the same).
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                  // soft hyphen
        | '\u{034F}'                // combining grapheme joiner
        | '\u{061C}'                // Arabic letter mark
        | '\u{115F}' | '\u{1160}'   // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'   // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'   // Mongolian variation selectors, vowel separator
        | '\u{200B}'..='\u{200F}'   // zero-width space, (non-)joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, bidi isolates
        | '\u{3164}'                // Hangul filler
        | '\u{FE00}'..='\u{FE0F}'   // variation selectors
        | '\u{FEFF}'                // zero-width no-break space (BOM)
        | '\u{FFA0}'                // half-width Hangul filler
        | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
        | '\u{1D173}'..='\u{1D17A}' // musical symbol formatting
        | '\u{E0000}'..='\u{E0FFF}' // tags, variation selectors supplement
    )
}

/// Checks that `name` is a plain, portable file name, as given (see
/// [`portable_filename`] for the normalised form the receiver uses). The
/// rule:
///
/// - not empty, not `.` or `..`, at most 255 bytes;
/// - no path separator (`/`, `\`), no `:` (a drive or stream on Windows),
///   none of `< > " | ? *` (invalid on Windows);
/// - no control character, no bidirectional control, no zero-width or
///   other invisible format character;
/// - no trailing `.` or space (Windows drops them: `a.txt.` is `a.txt`);
/// - not a Windows device name (`CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`,
///   `LPT0`–`LPT9`, with superscript digits too), with any extension and
///   in any case (`nul.txt`, `Com1.log`);
/// - not starting with the receiver's temporary prefix `.framecheck-`.
///
/// # Errors
///
/// [`TransferError::BadFilename`] saying which rule it broke.
///
/// ```
/// use framecheck_cli::transfer::check_filename;
/// assert!(check_filename("report.pdf").is_ok());
/// assert!(check_filename("../etc/passwd").is_err());
/// assert!(check_filename("NUL.txt").is_err());
/// assert!(check_filename("invoice\u{202E}fdp.exe").is_err());
/// ```
pub fn check_filename(name: &str) -> Result<(), TransferError> {
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ');
    let reason = if name.is_empty() {
        Some("empty")
    } else if name == "." || name == ".." {
        Some("'.' and '..' are not file names")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator")
    } else if name.contains(':') {
        Some("contains ':' (a drive or stream name on Windows)")
    } else if name.contains(['<', '>', '"', '|', '?', '*']) {
        Some("contains one of < > \" | ? * (invalid on Windows)")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.chars().any(is_invisible_or_bidi) {
        Some("contains a bidirectional control or an invisible character")
    } else if name.ends_with('.') || name.ends_with(' ') {
        Some("ends with '.' or a space (dropped on Windows)")
    } else if WINDOWS_DEVICES
        .iter()
        .any(|d| d.to_lowercase() == stem.to_lowercase())
    {
        Some("is a Windows device name (CON, NUL, COM1, ...)")
    } else if name.starts_with(TEMP_PREFIX) {
        Some("starts with the receiver's temporary-file prefix .framecheck-")
    } else if name.len() > 255 {
        Some("longer than 255 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(TransferError::BadFilename {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The name the receiver stores a file under: `name` in Unicode
/// Normalization Form C, so that the composed and decomposed spellings of
/// one name (`é` as one code point or as `e` and a combining accent) are
/// one file, checked by [`check_filename`].
///
/// # Errors
///
/// As [`check_filename`], on the normalised name.
///
/// ```
/// use framecheck_cli::transfer::portable_filename;
/// let nfd = "cafe\u{301}.txt";
/// assert_eq!(portable_filename(nfd).unwrap(), "caf\u{e9}.txt");
/// ```
pub fn portable_filename(name: &str) -> Result<String, TransferError> {
    use unicode_normalization::UnicodeNormalization as _;
    let nfc: String = name.nfc().collect();
    check_filename(&nfc)?;
    Ok(nfc)
}

/// The key under which two names are one file on a case-insensitive file
/// system (Windows, macOS): NFC, lower-cased by Unicode's mapping
/// (`str::to_lowercase`), NFC again.
///
/// ```
/// use framecheck_cli::transfer::case_key;
/// assert_eq!(case_key("Report.TXT"), case_key("report.txt"));
/// assert_eq!(case_key("CAFE\u{301}.txt"), case_key("caf\u{e9}.txt"));
/// assert_ne!(case_key("report.txt"), case_key("report.txt.bak"));
/// ```
pub fn case_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let nfc: String = name.nfc().collect();
    nfc.to_lowercase().nfc().collect()
}

/// The file in `dir` that `name` is on a case-insensitive file system: the
/// exact name if it exists, else the first name with the same
/// [`case_key`], else `None`.
async fn stored_spelling(dir: &Path, name: &str) -> io::Result<Option<String>> {
    let key = case_key(name);
    let mut found = None;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let Some(n) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if n == name {
            return Ok(Some(n));
        }
        if found.is_none() && case_key(&n) == key {
            found = Some(n);
        }
    }
    Ok(found)
}

/// The refusal for `name` when `existing` is already in the directory.
fn taken(name: String, existing: String) -> TransferError {
    if existing == name {
        TransferError::Exists { name }
    } else {
        TransferError::CaseCollision { name, existing }
    }
}

/// Removes the temporary files an earlier run left in `dir` (killed in the
/// middle of a transfer); returns how many. One receiver per directory:
/// another one's transfers under way would be removed too.
///
/// # Errors
///
/// A failure to read the directory; a file that cannot be removed is
/// logged and skipped.
pub async fn remove_stale_temp_files(dir: &Path) -> io::Result<usize> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    let mut removed = 0;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        if !entry.file_type().await?.is_file() {
            continue;
        }
        match tokio::fs::remove_file(entry.path()).await {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(file = name, error = %e, "could not remove a stale temporary file")
            }
        }
    }
    Ok(removed)
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// What the sender reports after the receiver confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The name sent.
    pub name: String,
    /// Bytes sent.
    pub size: u64,
    /// SHA-256, hex.
    pub hash: String,
}

async fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Sends `args.file` and waits for the receiver's verdict.
///
/// # Errors
///
/// [`TransferError::Rejected`] with the receiver's reason, or a local I/O
/// error (file changed while sending, connection lost, timeout).
pub async fn send(args: SendArgs) -> Result<Sent, TransferError> {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} has no UTF-8 file name; pass --name",
                        args.file.display()
                    ),
                )
            })?
            .to_owned(),
    };
    let (size, hash) = hash_file(&args.file).await?;
    let mut header = Header::new(size);
    header.filename = Some(name.clone());
    header.hash = Some(hash.clone());
    let body_len = usize::try_from(size).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "file too large for this platform",
        )
    })?;
    let mut prefix = BytesMut::new();
    wire::encode_prefix(
        &header,
        body_len,
        &Limits::default().max_body_len(usize::MAX),
        &mut prefix,
    )?;

    let timeout = Duration::from_millis(args.timeout.max(1));
    let stream = TcpStream::connect(&args.connect).await?;
    let (rd, wr) = stream.into_split();
    let mut wr = IdleStream::new(wr, timeout);
    // No idle clock on the read half: nothing arrives there while the body
    // goes out (the write half has its own); the reply wait is timed below.
    let mut replies = FramedRead::new(
        rd,
        HeaderCodec::with_limits(Limits::default().max_body_len(MAX_REPLY)),
    );
    let bar = progress_bar(size, &name);
    let path = args.file.clone();
    let write = async {
        wr.write_all(&prefix).await?;
        let mut file = tokio::fs::File::open(&path).await?;
        let mut buf = vec![0u8; CHUNK];
        let mut left = size;
        while left > 0 {
            let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
            let n = file.read(&mut buf[..want]).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} shrank while being sent", path.display()),
                ));
            }
            wr.write_all(&buf[..n]).await?;
            left -= n as u64;
            bar.inc(n as u64);
        }
        wr.flush().await?;
        Ok::<(), io::Error>(())
    };
    tokio::pin!(write);
    let reply = tokio::select! {
        // The receiver may refuse before the body is through.
        reply = replies.next() => reply,
        written = &mut write => {
            if let Err(e) = written {
                // Perhaps refused and closed: its reply explains better.
                tracing::debug!(error = %e, "write failed; reading the reply");
                match tokio::time::timeout(Duration::from_secs(2), replies.next()).await {
                    Ok(Some(Ok(frame))) => Some(Ok(frame)),
                    _ => return Err(e.into()),
                }
            } else {
                match tokio::time::timeout(timeout, replies.next()).await {
                    Ok(reply) => reply,
                    Err(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no reply within {} ms after the body was sent", timeout.as_millis()),
                        )
                        .into())
                    }
                }
            }
        }
    };
    bar.finish_and_clear();
    let frame = match reply {
        Some(Ok(frame)) => frame,
        Some(Err(e)) => return Err(io::Error::from(e).into()),
        None => {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "receiver closed the connection without a reply",
            )
            .into())
        }
    };
    match frame.header.extra.get("status").and_then(Value::as_str) {
        Some("ok") => Ok(Sent { name, size, hash }),
        _ => Err(TransferError::Rejected {
            kind: frame
                .header
                .extra
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned(),
            message: String::from_utf8_lossy(&frame.body).into_owned(),
        }),
    }
}

/// Runs the receiver until Ctrl-C.
///
/// # Errors
///
/// `--dir` is not a directory, or the bind error.
pub async fn receive(args: ReceiveArgs) -> io::Result<()> {
    let dir = tokio::fs::canonicalize(&args.dir).await?;
    if !tokio::fs::metadata(&dir).await?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let stale = remove_stale_temp_files(&dir).await?;
    if stale > 0 {
        tracing::warn!(
            dir = %dir.display(),
            "removed {stale} temporary file(s) an earlier run left behind"
        );
    }
    let shutdown = net::shutdown_on_signal()?;
    let listener = net::listen_server(&args.listen, &args.server).await?;
    tracing::info!(dir = %dir.display(), max_size = args.max_size, "receiver ready");
    let limits =
        Limits::default().max_body_len(usize::try_from(args.max_size).unwrap_or(usize::MAX));
    let overwrite = args.overwrite;
    let budget = args.server.budget();
    // Held from the last check of a name to its rename, so that two
    // transfers of names differing only in case cannot both be stored.
    let names = Arc::new(tokio::sync::Mutex::new(()));
    net::serve_guarded(
        listener,
        &args.server,
        shutdown,
        move |mut io, peer, _shutdown| {
            // A transfer under way is an open exchange: it runs to its end
            // within the grace period.
            let dir = dir.clone();
            let names = names.clone();
            let mut charge = budget.charge();
            async move {
                let store = Store {
                    dir: &dir,
                    names: &names,
                    overwrite,
                };
                receive_files(&mut io, peer, store, limits, &mut charge).await;
            }
        },
    )
    .await
}

/// Where and how received files are stored.
#[derive(Clone, Copy)]
struct Store<'a> {
    dir: &'a Path,
    /// Held from the last check of a name to its rename.
    names: &'a tokio::sync::Mutex<()>,
    overwrite: bool,
}

/// Receives files on one connection until it ends or a file is refused,
/// replying to each.
async fn receive_files<S>(
    io: &mut Guarded<S>,
    peer: SocketAddr,
    store: Store<'_>,
    limits: Limits,
    charge: &mut Charge,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let outcome = receive_file(io, store, limits, charge).await;
        // Lowering a charge cannot fail.
        let _ = charge.set(0);
        let (header, message) = match &outcome {
            Ok(None) => return,
            Ok(Some((name, size, hash))) => {
                tracing::info!(%peer, name, size, hash, "saved");
                let mut h = Header::default();
                h.extra.insert("status".into(), "ok".into());
                (h, format!("saved {name} ({size} bytes, sha256 {hash})"))
            }
            Err(e) => {
                net::warn_closing(e, || {
                    format!("transfer from {peer} refused ({}): {e}", e.kind())
                });
                let mut h = Header::default();
                h.extra.insert("status".into(), "error".into());
                h.extra.insert("error".into(), e.kind().into());
                (h, e.to_string())
            }
        };
        let mut out = BytesMut::new();
        if let Err(e) =
            HeaderCodec::new().encode(Frame::with_header(header, message.into_bytes()), &mut out)
        {
            tracing::error!(%peer, error = %e, "could not encode the reply");
            return;
        }
        let refused = outcome.is_err();
        if let Err(e) = async {
            io.write_all(&out).await?;
            if refused {
                io.shutdown().await?;
            }
            io.flush().await
        }
        .await
        {
            tracing::debug!(%peer, error = %e, "could not send the reply");
            return;
        }
        if refused {
            // Let the sender finish writing so our reply is not lost to a reset.
            let mut sink = vec![0u8; CHUNK];
            let _ = tokio::time::timeout(DRAIN_AFTER_REJECT, async {
                while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
            return;
        }
        // The next file's clock starts with its first byte.
        io.frame_done(false);
    }
}

/// Reads one file. `Ok(None)`: the peer connected and closed without
/// sending anything.
async fn receive_file<S>(
    io: &mut S,
    store: Store<'_>,
    limits: Limits,
    charge: &mut Charge,
) -> Result<Option<(String, u64, String)>, TransferError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Store {
        dir,
        names,
        overwrite,
    } = store;
    let mut field = [0u8; wire::LENGTH_FIELD_LEN];
    let first = io.read(&mut field).await?;
    if first == 0 {
        return Ok(None);
    }
    read_exact_or_truncated(
        io,
        &mut field[first..],
        framecheck_codec::FramePart::HeaderLength,
        first,
    )
    .await?;
    let header_len = wire::decode_header_len(field, &limits)?;
    // Bounded by `limits.header()` just above, and grown with the bytes
    // that arrive, not with the declared length.
    let mut raw = Vec::with_capacity(header_len.min(HEADER_START));
    (&mut *io)
        .take(header_len as u64)
        .read_to_end(&mut raw)
        .await?;
    if raw.len() < header_len {
        return Err(FrameError::Truncated {
            part: framecheck_codec::FramePart::Header,
            received: raw.len(),
            expected: header_len,
        }
        .into());
    }
    // The header and one body chunk are what this connection holds.
    charge.set(raw.capacity() + CHUNK)?;
    let header = wire::decode_header(&raw, &limits)?;
    let name = portable_filename(
        header
            .filename
            .as_deref()
            .ok_or(TransferError::MissingFilename)?,
    )?;
    let expected_hash = match &header.hash {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            h.to_ascii_lowercase()
        }
        other => {
            return Err(TransferError::BadHash {
                hash: other.clone(),
            })
        }
    };
    // A name that is taken, exactly or up to case, is refused before the
    // body is read (and checked again before the rename).
    if !overwrite {
        if let Some(existing) = stored_spelling(dir, &name).await? {
            return Err(taken(name, existing));
        }
    }
    let size = header.data_size;

    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    let mut file = tokio::fs::File::from_std(tmp.as_file().try_clone()?);
    let mut hasher = Sha256::new();
    let bar = progress_bar(size, &name);
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0u64;
    while received < size {
        let want = usize::try_from((size - received).min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = io.read(&mut buf[..want]).await?;
        if n == 0 {
            bar.abandon();
            return Err(TransferError::Truncated {
                received,
                expected: size,
            });
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).await?;
        received += n as u64;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    file.flush().await?;
    file.sync_all().await?;
    drop(file);
    let actual = hex(&hasher.finalize());
    if actual != expected_hash {
        return Err(TransferError::HashMismatch {
            expected: expected_hash,
            actual,
        });
    }
    // With --overwrite, a file whose name differs only in case is replaced
    // and keeps its spelling, as on Windows and macOS.
    let _names = names.lock().await;
    let stored = match stored_spelling(dir, &name).await? {
        Some(existing) if !overwrite => return Err(taken(name, existing)),
        Some(existing) => existing,
        None => name,
    };
    let dest = dir.join(&stored);
    let persisted = if overwrite {
        tmp.persist(&dest).map(drop)
    } else {
        tmp.persist_noclobber(&dest).map(drop)
    };
    if let Err(e) = persisted {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            return Err(TransferError::Exists { name: stored });
        }
        return Err(e.error.into());
    }
    Ok(Some((stored, size, actual)))
}

async fn read_exact_or_truncated<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut [u8],
    part: framecheck_codec::FramePart,
    already: usize,
) -> Result<(), TransferError> {
    let mut got = 0;
    while got < buf.len() {
        let n = io.read(&mut buf[got..]).await?;
        if n == 0 {
            return Err(FrameError::Truncated {
                part,
                received: already + got,
                expected: already + buf.len(),
            }
            .into());
        }
        got += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in [
            "a.txt",
            "report 2024.pdf",
            ".hidden",
            "..dots..x",
            "NULL.txt",
            "CONSOLE",
            "com10",
            "ünïcödé.bin",
        ] {
            assert!(check_filename(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn unsafe_names_are_refused_with_the_reason() {
        for (name, reason) in [
            ("", "empty"),
            (".", "'.' and '..' are not file names"),
            ("..", "'.' and '..' are not file names"),
            ("../x", "contains a path separator"),
            ("/etc/passwd", "contains a path separator"),
            ("a\\b", "contains a path separator"),
            ("C:x", "contains ':' (a drive or stream name on Windows)"),
            ("a\0b", "contains a control character"),
        ] {
            match check_filename(name) {
                Err(TransferError::BadFilename { reason: r, .. }) => {
                    assert_eq!(r, reason, "{name:?}")
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
        let long = "x".repeat(256);
        assert!(matches!(
            check_filename(&long),
            Err(TransferError::BadFilename {
                reason: "longer than 255 bytes",
                ..
            })
        ));
    }

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
