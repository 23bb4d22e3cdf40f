//! The system calls the allocator makes, none of which allocates: lazy
//! reservations (`mmap` with `MAP_NORESERVE`, `mremap`, `munmap`), a write
//! to stderr, and `getenv`.

use std::{ffi::CStr, fmt};

/// Whether this platform can reserve address space without committing
/// memory (Linux: `MAP_NORESERVE`).
pub(crate) const LAZY_SUPPORTED: bool = cfg!(target_os = "linux");

/// The smallest page size of the platforms we support: `mmap` returns
/// addresses aligned at least this much.
pub(crate) const PAGE: usize = 4096;

/// Reserves `size` bytes of zeroed, readable and writable address space
/// whose pages are committed only when first written; null on failure
/// (`errno` says why).
#[cfg(target_os = "linux")]
pub(crate) fn map_lazy(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing aliases no existing memory; failure is reported, not UB.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p.cast()
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn map_lazy(_size: usize) -> *mut u8 {
    std::ptr::null_mut()
}

/// Releases a mapping made by [`map_lazy`] or [`remap`].
///
/// # Safety
///
/// `ptr` and `size` are those of a live mapping from [`map_lazy`] or
/// [`remap`], which nothing uses any more.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn unmap(ptr: *mut u8, size: usize) {
    // SAFETY: the caller hands over a mapping of exactly this size.
    unsafe { libc::munmap(ptr.cast(), size) };
}

#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn unmap(_ptr: *mut u8, _size: usize) {}

/// Grows or shrinks a mapping made by [`map_lazy`], moving it if needed
/// (the page tables move; no byte is copied or committed); null on failure,
/// the old mapping then untouched.
///
/// # Safety
///
/// As [`unmap`]: a live mapping of `old` bytes.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn remap(ptr: *mut u8, old: usize, new: usize) -> *mut u8 {
    // SAFETY: the caller hands over a mapping of `old` bytes; with
    // MREMAP_MAYMOVE the kernel picks a free range if it cannot grow in place.
    let p = unsafe { libc::mremap(ptr.cast(), old, new, libc::MREMAP_MAYMOVE) };
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p.cast()
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn remap(_ptr: *mut u8, _old: usize, _new: usize) -> *mut u8 {
    std::ptr::null_mut()
}

/// The last OS error number of this thread.
pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Writes `bytes` to file descriptor 2, as one `write(2)` when it can.
pub(crate) fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writing from a valid slice; a failed write is ignored.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        let Ok(n) = usize::try_from(n) else { return };
        if n == 0 {
            return;
        }
        bytes = &bytes[n..];
    }
}

/// The value of environment variable `var`, read without allocating.
pub(crate) fn getenv(var: &CStr) -> Option<&'static [u8]> {
    // SAFETY: `var` is NUL-terminated; getenv returns null or a pointer into
    // the environment, valid until the variable is changed (nothing in this
    // workspace changes the variables it reads).
    let p = unsafe { libc::getenv(var.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-null result is a NUL-terminated string.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A line of text built on the stack (the allocator must not allocate
/// while it reports), cut short when full.
pub(crate) struct Line {
    buf: [u8; 768],
    len: usize,
}

impl Line {
    pub(crate) const fn new() -> Self {
        Line {
            buf: [0; 768],
            len: 0,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
