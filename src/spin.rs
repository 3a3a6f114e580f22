//! Polling for a while instead of sleeping, where the other side is a process on this machine.
//!
//! On a VM, a thread asleep in `epoll_wait` that a peer on another vCPU wakes pays twice
//! through the hypervisor: the peer's wake-up call (an interrupt sent to the other vCPU) and
//! the sleeper's return from idle. With a sync client and the emulator in two processes on this
//! project's 2-vCPU VM, that was about a third of a loopback `DescribeInstances` call (under
//! `perf`: a quarter of the emulator's CPU in the wake-up path alone). A thread that is still
//! polling when the bytes arrive needs none of it.
//!
//! Both sides poll only for a short, bounded time, only when the peer has lately been that
//! fast (a remote endpoint answers in milliseconds, so a client talking to one never polls),
//! and never on a thread that may run on one CPU only (polling there would only delay the peer
//! it waits for). Between polls the thread offers its CPU to any other runnable thread.
//!
//! - [`poll_briefly`]: a sync call waiting for its answer on its lane ([`crate::transport`]).
//! - [`Poller`]: the emulator's runtime, waiting for the next request after an answer.

use std::future::Future;
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

/// How long a call may poll for its answer: `limit` when the last call on the same connections
/// waited less than `fast` (`last_wait`: `None` before the first answer), nothing otherwise.
///
/// The test is against `fast`, well above `limit`: a call that slept waited longer than one
/// that polled (the wake-up is in its wait), so a lane whose wait once went over `limit` would
/// otherwise never poll again.
pub fn budget(last_wait: Option<Duration>, limit: Duration, fast: Duration) -> Duration {
    match last_wait {
        Some(w) if !limit.is_zero() && w < fast && may_use_other_cpus() => limit,
        _ => Duration::ZERO,
    }
}

/// The right to poll, held by one thread at a time per CPU but one (see [`PollSlot::claim`]).
pub struct PollSlot(&'static AtomicUsize);

static POLLING: AtomicUsize = AtomicUsize::new(0);

impl PollSlot {
    /// A slot when fewer threads than the CPUs but one are polling (at least one may): more
    /// would take the CPUs that the threads they wait for need.
    pub fn claim() -> Option<PollSlot> {
        static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let max = *MAX.get_or_init(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
        });
        PollSlot::claim_in(&POLLING, max)
    }

    fn claim_in(polling: &'static AtomicUsize, max: usize) -> Option<PollSlot> {
        if polling.fetch_add(1, Ordering::Relaxed) < max {
            Some(PollSlot(polling))
        } else {
            polling.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }
}

impl Drop for PollSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Drive `fut` on a current-thread runtime, polling it again and again (the runtime looks at its
/// sockets in between, without sleeping) until it has been pending for `budget` in all; after
/// that it waits to be woken like any future. Returns its output and how long it was pending
/// (the wait, without the time spent working in its polls).
pub async fn poll_briefly<F: Future>(fut: F, budget: Duration) -> (F::Output, Duration) {
    let mut fut = std::pin::pin!(fut);
    let start = Instant::now();
    let mut working = Duration::ZERO;
    let out = std::future::poll_fn(|cx| {
        let t = Instant::now();
        let polled = fut.as_mut().poll(cx);
        let now = Instant::now();
        working += now - t;
        if polled.is_pending() && now - start < budget + working {
            std::thread::yield_now();
            // Polled again once the runtime has looked at its sockets (which it does without
            // sleeping, as the future is already woken).
            cx.waker().wake_by_ref();
        }
        polled
    })
    .await;
    (out, start.elapsed().saturating_sub(working))
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
    use std::sync::atomic::AtomicBool;
    use std::task::Poll;

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
    fn unwoken(flag: Arc<AtomicBool>) -> impl Future<Output = ()> {
        std::future::poll_fn(move |_| {
            if flag.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    fn set_later(flag: &Arc<AtomicBool>, after: Duration) -> std::thread::JoinHandle<()> {
        let flag = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            flag.store(true, Ordering::Release);
        })
    }

    /// A future that only polling can see ready (set by another thread after 2 ms, never
    /// woken), driven with `budget` under a `timeout` (whose timer, when it fires, polls it
    /// once more before looking at its deadline). How long it took, and how long it waited.
    fn drive_unwoken(budget: Duration, timeout: Duration) -> (Duration, Option<Duration>) {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = set_later(&flag, Duration::from_millis(2));
        let rt = runtime();
        let t = Instant::now();
        let got = rt.block_on(async {
            tokio::time::timeout(timeout, poll_briefly(unwoken(flag.clone()), budget)).await
        });
        let took = t.elapsed();
        setter.join().unwrap();
        (took, got.ok().map(|((), waited)| waited))
    }

    #[test]
    fn polling_sees_what_no_waker_announces() {
        let (took, waited) = drive_unwoken(Duration::from_secs(2), Duration::from_secs(3));
        let waited = waited.expect("the polled future was not seen ready within 3 s");
        assert!(took < Duration::from_secs(1), "seen ready after {took:?}");
        assert!(waited >= Duration::from_millis(1), "waited {waited:?}");
    }

    #[test]
    fn no_budget_no_polling() {
        let (took, waited) = drive_unwoken(Duration::ZERO, Duration::from_millis(100));
        assert!(waited.is_some());
        assert!(
            took >= Duration::from_millis(90),
            "with no budget the future was polled again unwoken after {took:?}"
        );
    }

    #[test]
    fn polling_stops_after_the_budget() {
        let rt = runtime();
        let cpu0 = thread_cpu();
        let ((), waited) = rt.block_on(async {
            let sleep = tokio::time::sleep(Duration::from_millis(60));
            poll_briefly(sleep, Duration::from_millis(2)).await
        });
        let cpu = thread_cpu() - cpu0;
        assert!(waited >= Duration::from_millis(60), "waited {waited:?}");
        // Polling for all of the 60 ms would have cost about that much CPU.
        assert!(
            cpu < Duration::from_millis(20),
            "{cpu:?} of CPU for a 60 ms wait"
        );
    }

    #[test]
    fn the_wait_leaves_out_the_work() {
        let rt = runtime();
        let busy = async {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(20) {
                std::hint::spin_loop();
            }
        };
        let ((), waited) = rt.block_on(poll_briefly(busy, Duration::from_millis(1)));
        assert!(waited < Duration::from_millis(10), "waited {waited:?}");
    }

    #[test]
    fn poll_slots_are_limited_and_given_back() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let a = PollSlot::claim_in(&COUNT, 2).expect("first");
        let b = PollSlot::claim_in(&COUNT, 2).expect("second");
        assert!(PollSlot::claim_in(&COUNT, 2).is_none());
        assert_eq!(COUNT.load(Ordering::Relaxed), 2);
        drop(a);
        let c = PollSlot::claim_in(&COUNT, 2).expect("a slot given back");
        drop((b, c));
        assert_eq!(COUNT.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn budget_only_after_fast_answers() {
        let limit = Duration::from_micros(250);
        let fast = Duration::from_millis(1);
        assert_eq!(budget(None, limit, fast), Duration::ZERO);
        assert_eq!(budget(Some(fast), limit, fast), Duration::ZERO);
        assert_eq!(
            budget(Some(Duration::from_millis(30)), limit, fast),
            Duration::ZERO
        );
        assert_eq!(
            budget(Some(Duration::from_micros(100)), Duration::ZERO, fast),
            Duration::ZERO
        );
        let on_many = budget(Some(Duration::from_micros(400)), limit, fast);
        assert_eq!(
            on_many,
            if may_use_other_cpus() {
                limit
            } else {
                Duration::ZERO
            }
        );
    }

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
            let b = budget(
                Some(Duration::from_micros(50)),
                Duration::from_micros(250),
                Duration::from_millis(1),
            );
            assert_eq!(b, Duration::ZERO);
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
