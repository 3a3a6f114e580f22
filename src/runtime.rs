//! The process's one tokio runtime.
//!
//! A runtime cannot survive `os.fork()`: its worker threads exist only in the parent. The
//! runtime is therefore tagged with the pid that built it; a call from another pid (a forked
//! child) builds a fresh runtime. The parent's runtime is leaked in the child on purpose:
//! dropping it there would wait for threads that do not exist.

use std::sync::atomic::{AtomicPtr, Ordering};
use tokio::runtime::Runtime;

struct Tagged {
    pid: u32,
    runtime: Runtime,
}

static CURRENT: AtomicPtr<Tagged> = AtomicPtr::new(std::ptr::null_mut());

/// The runtime of this process, built on first use and rebuilt after a fork.
pub fn get() -> &'static Runtime {
    let pid = std::process::id();
    let current = CURRENT.load(Ordering::Acquire);
    // SAFETY: every pointer stored in CURRENT comes from Box::leak and is never freed.
    if let Some(tagged) = unsafe { current.as_ref() } {
        if tagged.pid == pid {
            return &tagged.runtime;
        }
    }
    let fresh: &'static mut Tagged = Box::leak(Box::new(Tagged {
        pid,
        runtime: build(),
    }));
    match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => &fresh.runtime,
        // Another thread of this process won the race; ours stays leaked but unused (its
        // threads are idle). This happens at most once per process and pid.
        Err(winner) => {
            // SAFETY: as above, never freed.
            match unsafe { winner.as_ref() } {
                Some(t) if t.pid == pid => &t.runtime,
                _ => &fresh.runtime,
            }
        }
    }
}

/// The pid the current runtime belongs to (for tests and for rebuilding pools after fork).
pub fn owner_pid() -> Option<u32> {
    // SAFETY: as above.
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }.map(|t| t.pid)
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
    #[test]
    fn same_runtime_within_a_process() {
        let a = super::get() as *const _;
        let b = super::get() as *const _;
        assert_eq!(a, b);
        assert_eq!(super::owner_pid(), Some(std::process::id()));
        let v = super::get().block_on(async { 40 + 2 });
        assert_eq!(v, 42);
    }
}
