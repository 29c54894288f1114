//! The answer to a queued write: a [`Pending`] can be awaited (no thread is held while the
//! write waits for its group commit) or waited on synchronously. A thin wrapper around
//! [`tokio::sync::oneshot`] that turns a writer gone without answering into a [`StoreError`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use super::error::{StoreError, StoreResult};

/// The receiving half: a future of the result, or [`Pending::wait`] for blocking callers.
#[derive(Debug)]
pub struct Pending<T>(State<T>);

#[derive(Debug)]
enum State<T> {
    /// Known at once (nothing was queued), until taken.
    Ready(Option<StoreResult<T>>),
    /// Answered by the writer thread.
    Waiting(oneshot::Receiver<StoreResult<T>>),
}

// `Pending` never relies on its address: it holds a receiver and an owned value.
impl<T> Unpin for Pending<T> {}

/// The writer stopped (or dropped the operation) without answering.
pub(crate) fn stopped() -> StoreError {
    StoreError::Db("the database writer stopped before answering".into())
}

impl<T> Pending<T> {
    /// An already known result (nothing was queued).
    #[must_use]
    pub fn ready(value: StoreResult<T>) -> Self {
        Pending(State::Ready(Some(value)))
    }

    /// The result the sending half of `rx` will deliver.
    pub(crate) fn waiting(rx: oneshot::Receiver<StoreResult<T>>) -> Self {
        Pending(State::Waiting(rx))
    }

    /// Blocks the calling thread until the result arrives. Use from synchronous code only
    /// (tests, threads of their own), never on the async executor (tokio refuses it there).
    pub fn wait(self) -> StoreResult<T> {
        match self.0 {
            State::Ready(v) => v.unwrap_or_else(|| Err(stopped())),
            State::Waiting(rx) => rx.blocking_recv().unwrap_or_else(|_| Err(stopped())),
        }
    }
}

impl<T> Future for Pending<T> {
    type Output = StoreResult<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            State::Ready(v) => Poll::Ready(v.take().unwrap_or_else(|| Err(stopped()))),
            State::Waiting(rx) => Pin::new(rx)
                .poll(cx)
                .map(|r| r.unwrap_or_else(|_| Err(stopped()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_then_wait_and_drop_unanswered() {
        let (tx, rx) = oneshot::channel::<StoreResult<u32>>();
        let t = std::thread::spawn(move || tx.send(Ok(7)));
        assert!(matches!(Pending::waiting(rx).wait(), Ok(7)));
        let _ = t.join();
        let (tx, rx) = oneshot::channel::<StoreResult<u32>>();
        drop(tx);
        assert!(matches!(
            Pending::waiting(rx).wait(),
            Err(StoreError::Db(_))
        ));
        assert!(matches!(Pending::ready(Ok(1)).wait(), Ok(1)));
    }

    #[test]
    fn await_across_threads() {
        let (tx, rx) = oneshot::channel::<StoreResult<u32>>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let _ = tx.send(Ok(9));
        });
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let v = rt.block_on(Pending::waiting(rx));
        assert!(matches!(v, Ok(9)));
        let _ = t.join();
    }
}
