//! The emulator's poller: after an answer, its runtime polls its sockets for a while instead of
//! sleeping, so that a client on this machine that comes straight back finds it awake.
//!
//! On a VM, a thread asleep in `epoll_wait` that a peer on another vCPU wakes pays twice
//! through the hypervisor: the peer's wake-up call and the sleeper's return from idle. For a
//! server on loopback whose client answers within microseconds that is a large share of each
//! request. This is the emulator's business only: the SDK never polls (a sync call sleeps in
//! `epoll_wait` until its answer arrives, as any client of a remote service should).
//!
//! It polls only for a short, bounded time, only when the last client came back that fast,
//! only while nothing is being served, and never on a thread bound to one CPU. Between polls
//! the thread offers its CPU to any other runnable thread. `TCCVM_EMULATOR_SPIN_US`
//! (microseconds; 0 = off) sets the budget.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A duration in microseconds from the environment variable `var`: `default` when it is unset
/// or not a whole number; `0` switches polling off.
pub fn limit_from_env(var: &str, default: Duration) -> Duration {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_micros)
}

/// Whether the calling thread may run on more than one CPU.
#[cfg(target_os = "linux")]
pub fn may_use_other_cpus() -> bool {
    // SAFETY: `set` is a plain bit set, zeroed, that sched_getaffinity fills for this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0
            && libc::CPU_COUNT(&set) > 1
    }
}

#[cfg(not(target_os = "linux"))]
pub fn may_use_other_cpus() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Keeps a current-thread runtime (a server's) polling its sockets for a while after each answer,
/// so that a client's next request finds it awake: [`Poller::run`] is the task that does it,
/// [`Poller::serving`] marks a request being served. It polls only when the last request came
/// soon enough after the answer before it to have been caught, and only while no request is
/// being served (a server busy with several clients at once rarely sleeps, and polling would
/// take a CPU its clients on the same machine could use); it sleeps, without a timer, once
/// nothing happened for its budget.
pub struct Poller {
    epoch: Instant,
    /// When the last request ended, in nanoseconds since `epoch`.
    last: AtomicU64,
    /// Requests being served.
    serving: AtomicUsize,
    /// How long the server was idle (nothing served) before the last request came, in
    /// nanoseconds; `u64::MAX` before the first.
    idle: AtomicU64,
    woken: tokio::sync::Notify,
    /// Rounds polled so far (each: one look at the sockets).
    rounds: AtomicU64,
}

impl Default for Poller {
    fn default() -> Self {
        Poller {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            serving: AtomicUsize::new(0),
            idle: AtomicU64::new(u64::MAX),
            woken: tokio::sync::Notify::new(),
            rounds: AtomicU64::new(0),
        }
    }
}

/// A request being served (see [`Poller::serving`]); its end when dropped, also when the
/// request is abandoned half-way (a client that went away).
pub struct Serving(Arc<Poller>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.serving.fetch_sub(1, Ordering::Relaxed);
        self.0.answered();
    }
}

impl Poller {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A request begins; it ends when the guard is dropped.
    pub fn serving(this: &Arc<Poller>) -> Serving {
        if this.serving.fetch_add(1, Ordering::Relaxed) == 0 {
            // How long the server was idle before this request.
            let idle = this.now().saturating_sub(this.last.load(Ordering::Relaxed));
            this.idle.store(idle, Ordering::Relaxed);
        }
        // Nothing to wake: the poller stops by itself while a request is being served.
        Serving(this.clone())
    }

    /// An answer went out: poll for the budget from now on.
    fn answered(&self) {
        self.last.store(self.now(), Ordering::Relaxed);
        self.woken.notify_one();
    }

    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Poll for up to `budget` after every answer, when the last request came within `budget`
    /// of the answer before it (a client that comes back later gains nothing from polling);
    /// spawn it on the runtime to keep awake. Never returns.
    pub async fn run(&self, budget: Duration) {
        let budget = u64::try_from(budget.as_nanos()).unwrap_or(u64::MAX);
        loop {
            self.woken.notified().await;
            if self.idle.load(Ordering::Relaxed) >= budget {
                continue;
            }
            if !may_use_other_cpus() {
                // Bound to one CPU (for now): look again in a while, not at every request.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            while self.serving.load(Ordering::Relaxed) == 0
                && self.now().saturating_sub(self.last.load(Ordering::Relaxed)) < budget
            {
                self.rounds.fetch_add(1, Ordering::Relaxed);
                std::thread::yield_now();
                // Deferred: the runtime looks at its sockets (without sleeping) and runs what
                // they woke before this task goes on.
                tokio::task::yield_now().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// CPU time of the calling thread.
    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid timespec for clock_gettime to fill.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0);
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// Pending until `flag` is set, without ever arranging to be woken: only polling sees it.
    #[cfg(target_os = "linux")]
    #[test]
    fn no_polling_on_a_thread_bound_to_one_cpu() {
        std::thread::spawn(|| {
            // SAFETY: a zeroed set with one CPU set, applied to this thread only.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                assert_eq!(
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set),
                    0
                );
            }
            assert!(!may_use_other_cpus());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn limit_from_env_reads_microseconds() {
        let var = "TCCVM_SPIN_TEST_LIMIT";
        let d = Duration::from_micros(7);
        std::env::remove_var(var);
        assert_eq!(limit_from_env(var, d), d);
        std::env::set_var(var, " 30 ");
        assert_eq!(limit_from_env(var, d), Duration::from_micros(30));
        std::env::set_var(var, "0");
        assert_eq!(limit_from_env(var, d), Duration::ZERO);
        std::env::set_var(var, "soon");
        assert_eq!(limit_from_env(var, d), d);
        std::env::remove_var(var);
    }

    #[test]
    fn poller_polls_after_an_answer_then_sleeps() {
        if !may_use_other_cpus() {
            return;
        }
        let rt = runtime();
        let poller = Arc::new(Poller::default());
        rt.block_on(async {
            let p = poller.clone();
            let task = tokio::spawn(async move { p.run(Duration::from_millis(5)).await });
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(poller.rounds(), 0, "polled before any request");
            // A first request, answered: how soon the next one comes is not known yet.
            drop(Poller::serving(&poller));
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(poller.rounds(), 0, "polled after the first answer");
            // The next came 20 ms later (more than the budget): no polling after it either.
            drop(Poller::serving(&poller));
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(
                poller.rounds(),
                0,
                "polled for a client that came back late"
            );
            // Two in a row: the second, served for 20 ms, came at once; no polling meanwhile...
            drop(Poller::serving(&poller));
            let serving = Poller::serving(&poller);
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(
                poller.rounds(),
                0,
                "polled while a request was being served"
            );
            // ...but once it has been answered.
            drop(serving);
            tokio::time::sleep(Duration::from_millis(30)).await;
            let after = poller.rounds();
            assert!(after > 0, "did not poll after an answer");
            let cpu0 = thread_cpu();
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(
                poller.rounds(),
                after,
                "still polling 30 ms after a 5 ms budget"
            );
            assert!(thread_cpu() - cpu0 < Duration::from_millis(10));
            // A request that came 80 ms after the answer before it (longer than the budget):
            // no polling after its answer.
            drop(Poller::serving(&poller));
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(
                poller.rounds(),
                after,
                "polled for a client that comes back late"
            );
            task.abort();
        });
    }
}
