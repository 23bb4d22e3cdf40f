//! The memory budget the servers share across connections (`--max-memory`).
//!
//! Each connection holds a [`Charge`]: the bytes its buffers hold now (the
//! frame being received, the reply being sent). A charge that would take
//! the total over the limit is refused with a [`BudgetError`], and only
//! that connection closes. A frame's declared length is weighed against
//! what is left when its header arrives (a frame that could not fit is
//! refused before its body is read), but nothing is set aside for a claim:
//! a thousand headers declaring 8 MiB and sending nothing cost a thousand
//! headers, and lock no one out.

use std::{
    fmt,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

/// Default `--max-memory`: 256 MiB, for a small machine.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;

/// A limit on the bytes all connections' buffers hold together; clones
/// share it.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: usize,
    in_use: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        MemoryBudget {
            inner: Arc::new(Inner {
                limit,
                in_use: AtomicUsize::new(0),
            }),
        }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes charged by all connections now.
    pub fn in_use(&self) -> usize {
        self.inner.in_use.load(Ordering::Relaxed)
    }

    /// A new, empty charge against this budget (one per connection).
    pub fn charge(&self) -> Charge {
        Charge {
            budget: self.clone(),
            held: 0,
        }
    }
}

/// What one connection holds of a [`MemoryBudget`]; released when dropped.
#[derive(Debug)]
pub struct Charge {
    budget: MemoryBudget,
    held: usize,
}

impl Charge {
    /// Sets this connection's charge to `bytes`.
    ///
    /// # Errors
    ///
    /// [`BudgetError`] when the increase would take the total over the
    /// limit; the charge is then left as it was.
    ///
    /// ```
    /// use framecheck_cli::net::MemoryBudget;
    ///
    /// let budget = MemoryBudget::new(1000);
    /// let (mut a, mut b) = (budget.charge(), budget.charge());
    /// a.set(700).unwrap();
    /// let err = b.set(400).unwrap_err();
    /// assert_eq!((err.wanted, err.in_use, err.limit), (400, 700, 1000));
    /// drop(a);
    /// b.set(400).unwrap();
    /// assert_eq!(budget.in_use(), 400);
    /// ```
    pub fn set(&mut self, bytes: usize) -> Result<(), BudgetError> {
        let inner = &self.budget.inner;
        if bytes <= self.held {
            inner.in_use.fetch_sub(self.held - bytes, Ordering::Relaxed);
            self.held = bytes;
            return Ok(());
        }
        let more = bytes - self.held;
        inner
            .in_use
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(more).filter(|&t| t <= inner.limit)
            })
            .map_err(|used| BudgetError {
                kind: BudgetKind::Growth,
                wanted: more,
                in_use: used,
                limit: inner.limit,
            })?;
        self.held = bytes;
        Ok(())
    }

    /// Checks that `more` bytes beyond this charge would fit in what is
    /// left now, without charging them: a frame's declared length, weighed
    /// when its header arrives.
    ///
    /// # Errors
    ///
    /// [`BudgetError`] when they would not.
    pub fn check_claim(&self, more: usize) -> Result<(), BudgetError> {
        let inner = &self.budget.inner;
        let used = inner.in_use.load(Ordering::Relaxed);
        match used.checked_add(more) {
            Some(t) if t <= inner.limit => Ok(()),
            _ => Err(BudgetError {
                kind: BudgetKind::Claim,
                wanted: more,
                in_use: used,
                limit: inner.limit,
            }),
        }
    }

    /// Bytes charged now.
    pub fn held(&self) -> usize {
        self.held
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget
            .inner
            .in_use
            .fetch_sub(self.held, Ordering::Relaxed);
    }
}

/// Whether a refusal concerned a claim or bytes that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetKind {
    /// A header declared a frame that would not fit in what is left.
    Claim,
    /// Bytes that arrived would take the total over the limit.
    Growth,
}

/// A charge or claim refused because the budget is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetError {
    /// Claim or growth.
    pub kind: BudgetKind,
    /// The bytes asked for beyond the connection's charge.
    pub wanted: usize,
    /// Bytes all connections held at the time.
    pub in_use: usize,
    /// The budget.
    pub limit: usize,
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            BudgetKind::Claim => "a frame declaring",
            BudgetKind::Growth => "buffering",
        };
        write!(
            f,
            "memory budget spent: {what} {} more bytes refused, {} of {} bytes in use (--max-memory)",
            self.wanted, self.in_use, self.limit
        )
    }
}

impl std::error::Error for BudgetError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_weighed_not_held() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.charge();
        let b = budget.charge();
        // A claim of the whole budget fits while nothing is held, and
        // holds nothing.
        a.check_claim(100).unwrap();
        b.check_claim(100).unwrap();
        assert_eq!(budget.in_use(), 0);
        a.set(60).unwrap();
        assert_eq!(
            b.check_claim(50).unwrap_err(),
            BudgetError {
                kind: BudgetKind::Claim,
                wanted: 50,
                in_use: 60,
                limit: 100
            }
        );
        a.set(10).unwrap();
        b.check_claim(50).unwrap();
        assert_eq!(budget.in_use(), 10);
        drop(a);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn refused_growth_leaves_the_charge_as_it_was() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.charge();
        a.set(50).unwrap();
        assert!(a.set(101).is_err());
        assert_eq!((a.held(), budget.in_use()), (50, 50));
        assert_eq!(
            a.set(101).unwrap_err().to_string(),
            "memory budget spent: buffering 51 more bytes refused, 50 of 100 bytes in use (--max-memory)"
        );
    }
}
