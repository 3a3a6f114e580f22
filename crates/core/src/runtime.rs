//! The process's one tokio runtime, and per-process holders for whatever a forked child must
//! not share with its parent.
//!
//! A runtime cannot survive `os.fork()`: its worker threads exist only in the parent. Nor can
//! a lock: one that a parent thread held at the fork stays held for good in the child, and a
//! child that waits for it hangs. Such things are therefore kept in a [`PerProcess`] holder,
//! tagged with the pid that made it; a forked child makes its own and leaves the parent's alone
//! (leaked on purpose: dropping a runtime there would wait for threads that do not exist, and
//! dropping sockets or connections would disturb the parent's).

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;
use tokio::runtime::Runtime;

struct Tagged<T> {
    pid: u32,
    value: T,
}

/// A `T` for each process: [`PerProcess::get`] gives this process's, made (`T::default()`) on
/// first use in each process. Lock-free: a child never touches what its parent's threads may
/// have been holding at the fork. The value of the process that drops the holder is dropped;
/// another process's is forgotten.
pub struct PerProcess<T> {
    current: AtomicPtr<Tagged<T>>,
}

impl<T> PerProcess<T> {
    pub const fn new() -> PerProcess<T> {
        PerProcess {
            current: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

impl<T: Default> PerProcess<T> {
    /// This process's value.
    pub fn get(&self) -> &T {
        let pid = std::process::id();
        let mut seen = self.current.load(Ordering::Acquire);
        loop {
            // SAFETY: every pointer stored in `current` comes from `Box::into_raw` and is freed
            // only by `drop` (which has `&mut self`, so no reference from `get` is alive).
            if let Some(tagged) = unsafe { seen.as_ref() } {
                if tagged.pid == pid {
                    return &tagged.value;
                }
            }
            let fresh = Box::into_raw(Box::new(Tagged {
                pid,
                value: T::default(),
            }));
            match self
                .current
                .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // What `seen` pointed to was another process's (or nothing): forgotten.
                // SAFETY: `fresh` was just published and is never freed while `self` lives.
                Ok(_) => return unsafe { &(*fresh).value },
                Err(now) => {
                    // Another thread of this process published first: ours was never shared.
                    // SAFETY: `fresh` came from `Box::into_raw` above and nobody else saw it.
                    drop(unsafe { Box::from_raw(fresh) });
                    seen = now;
                }
            }
        }
    }
}

impl<T> Default for PerProcess<T> {
    fn default() -> Self {
        PerProcess::new()
    }
}

impl<T> Drop for PerProcess<T> {
    fn drop(&mut self) {
        let p = *self.current.get_mut();
        if p.is_null() {
            return;
        }
        // SAFETY: from `Box::into_raw`, and `&mut self` means no reference from `get` is alive.
        let tagged = unsafe { Box::from_raw(p) };
        if tagged.pid != std::process::id() {
            std::mem::forget(tagged);
        }
    }
}

impl<T> std::fmt::Debug for PerProcess<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerProcess { .. }")
    }
}

// SAFETY: a `PerProcess<T>` hands out `&T` to any thread, like an `Arc<T>` would.
unsafe impl<T: Send + Sync> Sync for PerProcess<T> {}
// SAFETY: moving the holder moves the ownership of its boxed `T`.
unsafe impl<T: Send> Send for PerProcess<T> {}

static RUNTIME: PerProcess<OnceLock<Runtime>> = PerProcess::new();

/// The runtime of this process, built on first use and rebuilt after a fork.
pub fn get() -> &'static Runtime {
    RUNTIME.get().get_or_init(build)
}

fn build() -> Runtime {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8);
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("tccvm-rt")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        // Without threads there is nothing tccvm can do; fall back to a current-thread
        // runtime, which needs none of its own.
        Err(_) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("tccvm: cannot start a tokio runtime: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::PerProcess;
    use std::sync::Mutex;

    #[test]
    fn same_runtime_within_a_process() {
        let a = super::get() as *const _;
        let b = super::get() as *const _;
        assert_eq!(a, b);
        let v = super::get().block_on(async { 40 + 2 });
        assert_eq!(v, 42);
    }

    #[test]
    fn one_value_per_process_shared_by_threads() {
        let holder: PerProcess<Mutex<Vec<u32>>> = PerProcess::new();
        std::thread::scope(|s| {
            for i in 0..8 {
                let h = &holder;
                s.spawn(move || {
                    if let Ok(mut v) = h.get().lock() {
                        v.push(i);
                    }
                });
            }
        });
        let mut seen = holder.get().lock().map(|v| v.clone()).unwrap_or_default();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
    }
}
