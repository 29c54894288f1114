//! A one-shot reply slot from the SQLite writer thread to whoever queued a write: a
//! [`Pending`] can be awaited (no thread is held while the write waits for its group commit)
//! or waited on synchronously. Small and dependency-free (a mutex, a condvar and a waker).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::{StoreError, StoreResult};

#[derive(Debug)]
struct Slot<T> {
    value: Option<StoreResult<T>>,
    /// The sending side is gone (sent, or dropped without sending).
    closed: bool,
    waker: Option<Waker>,
}

#[derive(Debug)]
struct Shared<T> {
    slot: Mutex<Slot<T>>,
    ready: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending half: answers exactly once. Dropped unanswered, the waiter gets an error.
#[derive(Debug)]
pub struct Reply<T> {
    shared: Option<Arc<Shared<T>>>,
}

/// The receiving half: a future of the result, or [`Pending::wait`] for blocking callers.
#[derive(Debug)]
pub struct Pending<T> {
    shared: Option<Arc<Shared<T>>>,
    ready: Option<StoreResult<T>>,
}

// `Pending` never relies on its address: it holds an `Arc` and an owned value.
impl<T> Unpin for Pending<T> {}

/// A connected pair.
#[must_use]
pub fn channel<T>() -> (Reply<T>, Pending<T>) {
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot {
            value: None,
            closed: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (
        Reply {
            shared: Some(Arc::clone(&shared)),
        },
        Pending {
            shared: Some(shared),
            ready: None,
        },
    )
}

fn stopped() -> StoreError {
    StoreError::Db("the database writer stopped before answering".into())
}

impl<T> Reply<T> {
    /// Delivers the result and wakes the waiter.
    pub fn send(mut self, value: StoreResult<T>) {
        self.finish(Some(value));
    }

    fn finish(&mut self, value: Option<StoreResult<T>>) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let waker = {
            let mut slot = shared.lock();
            slot.value = value;
            slot.closed = true;
            slot.waker.take()
        };
        shared.ready.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        self.finish(None);
    }
}

impl<T> Pending<T> {
    /// An already known result (nothing was queued).
    #[must_use]
    pub fn ready(value: StoreResult<T>) -> Self {
        Pending {
            shared: None,
            ready: Some(value),
        }
    }

    /// Blocks the calling thread until the result arrives. Use from synchronous code only
    /// (inside `web::block`, tests, the admin CLI), never on the async executor.
    pub fn wait(mut self) -> StoreResult<T> {
        if let Some(v) = self.ready.take() {
            return v;
        }
        let Some(shared) = self.shared.take() else {
            return Err(stopped());
        };
        let mut slot = shared.lock();
        loop {
            if let Some(v) = slot.value.take() {
                return v;
            }
            if slot.closed {
                return Err(stopped());
            }
            slot = shared
                .ready
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl<T> Future for Pending<T> {
    type Output = StoreResult<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(v) = this.ready.take() {
            return Poll::Ready(v);
        }
        let Some(shared) = this.shared.as_ref() else {
            return Poll::Ready(Err(stopped()));
        };
        let mut slot = shared.lock();
        if let Some(v) = slot.value.take() {
            drop(slot);
            this.shared = None;
            return Poll::Ready(v);
        }
        if slot.closed {
            drop(slot);
            this.shared = None;
            return Poll::Ready(Err(stopped()));
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_then_wait_and_drop_unanswered() {
        let (tx, rx) = channel::<u32>();
        let t = std::thread::spawn(move || tx.send(Ok(7)));
        assert!(matches!(rx.wait(), Ok(7)));
        let _ = t.join();
        let (tx, rx) = channel::<u32>();
        drop(tx);
        assert!(matches!(rx.wait(), Err(StoreError::Db(_))));
        assert!(matches!(Pending::ready(Ok(1)).wait(), Ok(1)));
    }

    #[test]
    fn await_across_threads() {
        let (tx, rx) = channel::<u32>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tx.send(Ok(9));
        });
        let v = actix_web::rt::System::new().block_on(rx);
        assert!(matches!(v, Ok(9)));
        let _ = t.join();
    }
}
