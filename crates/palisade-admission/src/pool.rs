//! The evaluation pool: a fixed set of threads that run the CPU-bound
//! evaluation of requests off the async runtime.
//!
//! The thread that went idle last takes the next job. Under the usual
//! load (fewer requests in flight than threads) one or two threads then do
//! all the work, with warm caches and with the policy engines they used
//! last. tokio's blocking pool, used before, wakes whichever thread its
//! condition variable picks (on Linux the one that has waited longest), so
//! jobs started cold: this pool cut the webhook's CPU per request by about
//! a tenth (`docs/benchmarks.md`, admission).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of evaluation threads. Dropping it does not wait: the
/// threads finish the jobs already given, then exit.
pub struct Pool {
    shared: Arc<Shared>,
    threads: usize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Jobs given while every thread was busy, oldest first.
    queue: VecDeque<Job>,
    /// Idle threads, the most recently idle last.
    idle: Vec<Arc<Slot>>,
    closed: bool,
}

/// Where an idle thread waits for its next job.
#[derive(Default)]
struct Slot {
    job: Mutex<Option<Job>>,
    ready: Condvar,
}

/// Poisoning only means a job panicked while a lock was held; the data
/// behind every lock here stays consistent, so work goes on.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pool {
    /// Starts `threads` threads (at least one) named `name`.
    pub fn new(threads: usize, name: &str) -> std::io::Result<Pool> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared::default());
        for i in 0..threads {
            let worker = Arc::clone(&shared);
            let started = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || work(&worker));
            if let Err(e) = started {
                // Stops the threads already started.
                drop(Pool { shared, threads: i });
                return Err(e);
            }
        }
        Ok(Pool { shared, threads })
    }

    /// Runs `f` on a pool thread; its value arrives on the receiver. A job
    /// that panics drops its sender (the receiver then reports an error)
    /// and the thread goes on.
    pub fn spawn<T, F>(&self, f: F) -> oneshot::Receiver<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            if let Ok(value) = catch_unwind(AssertUnwindSafe(f)) {
                // The receiver may be gone (the request's deadline passed).
                let _ = tx.send(value);
            }
        });
        let mut state = lock(&self.shared.state);
        match state.idle.pop() {
            Some(slot) => {
                drop(state);
                *lock(&slot.job) = Some(job);
                slot.ready.notify_one();
            }
            None => state.queue.push_back(job),
        }
        rx
    }
}

/// A pool thread: its own slot's job, else the queue's oldest, else wait.
fn work(shared: &Shared) {
    let slot = Arc::new(Slot::default());
    loop {
        let job = {
            let mut state = lock(&shared.state);
            match state.queue.pop_front() {
                Some(job) => Some(job),
                None if state.closed => return,
                None => {
                    state.idle.push(Arc::clone(&slot));
                    None
                }
            }
        };
        let job = match job {
            Some(job) => job,
            None => {
                let mut next = lock(&slot.job);
                loop {
                    if let Some(job) = next.take() {
                        break job;
                    }
                    if lock(&shared.state).closed {
                        return;
                    }
                    next = slot
                        .ready
                        .wait(next)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        };
        job();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            std::mem::take(&mut state.idle)
        };
        for slot in idle {
            // Taking the slot's lock orders this wake-up after the thread's
            // check of `closed`, so it cannot be missed.
            drop(lock(&slot.job));
            slot.ready.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn block_on<T>(rx: oneshot::Receiver<T>) -> Result<T, oneshot::error::RecvError> {
        rx.blocking_recv()
    }

    /// Waits for `cond`, failing the test (not hanging it) after 10 s.
    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let start = std::time::Instant::now();
        while !cond() {
            assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn runs_jobs_and_returns_their_values() {
        let pool = Pool::new(2, "test").unwrap();
        let rxs: Vec<_> = (0..50).map(|i| pool.spawn(move || i * 2)).collect();
        let sum: i32 = rxs.into_iter().map(|rx| block_on(rx).unwrap()).sum();
        assert_eq!(sum, (0..50).map(|i| i * 2).sum::<i32>());
    }

    #[test]
    fn the_thread_idle_last_takes_the_next_job() {
        let pool = Pool::new(4, "test").unwrap();
        // Jobs one at a time: each finds the thread that ran the one before
        // idle on top of the stack.
        let all_idle = || wait_until("all idle", || lock(&pool.shared.state).idle.len() == 4);
        all_idle();
        let names: Vec<String> = (0..20)
            .map(|_| {
                let name = block_on(
                    pool.spawn(|| std::thread::current().name().unwrap_or("").to_string()),
                )
                .unwrap();
                all_idle();
                name
            })
            .collect();
        assert!(names.iter().all(|n| n == &names[0]), "{names:?}");
    }

    #[test]
    fn jobs_beyond_the_threads_wait_in_order() {
        let pool = Pool::new(1, "test").unwrap();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let g = Arc::clone(&gate);
        let (running, is_running) = std::sync::mpsc::channel();
        let first = pool.spawn(move || {
            let _ = running.send(());
            let (open, cv) = &*g;
            let mut open = lock(open);
            while !*open {
                open = cv.wait(open).unwrap();
            }
        });
        is_running.recv().unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let rxs: Vec<_> = (0..5)
            .map(|i| {
                let order = Arc::clone(&order);
                pool.spawn(move || lock(&order).push(i))
            })
            .collect();
        assert_eq!(lock(&pool.shared.state).queue.len(), 5);
        *lock(&gate.0) = true;
        gate.1.notify_one();
        block_on(first).unwrap();
        for rx in rxs {
            block_on(rx).unwrap();
        }
        assert_eq!(*lock(&order), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_panicking_job_drops_its_answer_and_the_thread_goes_on() {
        let pool = Pool::new(1, "test").unwrap();
        let failed = pool.spawn(|| -> u8 { panic!("a job that panics") });
        assert!(block_on(failed).is_err());
        assert_eq!(block_on(pool.spawn(|| 7)).unwrap(), 7);
    }

    #[test]
    fn a_dropped_pool_finishes_the_jobs_given_then_its_threads_exit() {
        let done = Arc::new(AtomicUsize::new(0));
        let pool = Pool::new(2, "test").unwrap();
        let shared = Arc::clone(&pool.shared);
        let rxs: Vec<_> = (0..6)
            .map(|_| {
                let done = Arc::clone(&done);
                pool.spawn(move || {
                    std::thread::sleep(Duration::from_millis(5));
                    done.fetch_add(1, Ordering::SeqCst)
                })
            })
            .collect();
        drop(pool);
        for rx in rxs {
            block_on(rx).unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 6);
        // Each thread holds the shared state until it exits.
        wait_until("threads exit", || Arc::strong_count(&shared) == 1);
    }

    #[test]
    fn dropping_an_idle_pool_wakes_its_threads_and_they_exit() {
        let pool = Pool::new(3, "test").unwrap();
        let shared = Arc::clone(&pool.shared);
        wait_until("all idle", || lock(&shared.state).idle.len() == 3);
        drop(pool);
        wait_until("threads exit", || Arc::strong_count(&shared) == 1);
    }

    #[test]
    fn dropping_the_pool_does_not_wait_for_a_running_job() {
        let pool = Pool::new(1, "test").unwrap();
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let (running, is_running) = std::sync::mpsc::channel();
        let rx = pool.spawn(move || {
            let _ = running.send(());
            gate.recv().is_ok()
        });
        is_running.recv().unwrap();
        // A drop that waited would be freed by this watchdog, too late.
        let watchdog = open.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(5));
            let _ = watchdog.send(());
        });
        let start = std::time::Instant::now();
        drop(pool);
        assert!(start.elapsed() < Duration::from_secs(2));
        open.send(()).unwrap();
        assert!(block_on(rx).unwrap());
    }
}
