//! Shared server state: the engine (once open), keys, limits, batch jobs and metrics.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use matcher_core::audit::Audit;
use matcher_core::outcomes::Outcomes;
use matcher_core::Engine;

use super::auth::ApiKeys;
use super::error::{ApiError, ApiResult};
use super::jobs::Jobs;
use super::metrics::Metrics;

/// Limits on what one request may ask for.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest JSON body, in bytes.
    pub json_body: usize,
    /// Largest bulk upload body (JSON Lines or CSV), in bytes.
    pub bulk_body: usize,
    /// Most records in one bulk upload.
    pub bulk_rows: usize,
    /// Largest page of a list or search.
    pub max_page: usize,
    /// Longest search query, in characters.
    pub max_query_chars: usize,
    /// Largest `top_k` of a match or opportunities request.
    pub max_top_k: usize,
    /// Largest `top_k` per need of a batch job.
    pub batch_top_k: usize,
    /// Batch jobs queued or running at once.
    pub max_active_jobs: usize,
    /// Finished batch jobs kept for their results.
    pub kept_jobs: usize,
    /// Wall-clock limit of one request (batch jobs run in the background;
    /// bulk imports stop committing at a deadline of their own, see
    /// `routes::bulk`).
    pub request_timeout: Duration,
    /// Matches that may wait for a permit, per core (there is one permit
    /// per core). A match beyond permits + queue is answered 503
    /// `overloaded` with `Retry-After` at once instead of queueing until the
    /// request time limit. Default 32: at 100k companies a match holds a
    /// permit about 9 ms on 2 cores (benches/REPORT.md, ~112 matches/s), so
    /// a full queue is about half a second of waiting — the latency the
    /// 64-connection benchmark showed with no errors.
    pub queue_per_core: usize,
    /// Per-key request rate; `None` turns rate limiting off.
    pub rate_limit: Option<RateLimit>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_body: 1 << 20,
            bulk_body: 32 << 20,
            bulk_rows: 50_000,
            max_page: matcher_core::index::search::MAX_PAGE_SIZE,
            max_query_chars: matcher_core::index::search::MAX_QUERY_CHARS,
            max_top_k: matcher_core::matching::MAX_TOP_K,
            batch_top_k: 50,
            max_active_jobs: 4,
            kept_jobs: 16,
            request_timeout: Duration::from_secs(30),
            queue_per_core: 32,
            rate_limit: None,
        }
    }
}

/// A token bucket per API key: `per_second` refill, `burst` capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    /// Parse `N` (requests per second, burst 2N) or `N/B` (rate N, burst B).
    pub fn parse(s: &str) -> Result<RateLimit, String> {
        let (rate, burst) = match s.split_once('/') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let per_second: f64 = rate
            .trim()
            .parse()
            .map_err(|_| format!("rate limit {s:?}: expected N or N/BURST"))?;
        if !(per_second.is_finite() && per_second > 0.0) {
            return Err(format!("rate limit {s:?}: the rate must be positive"));
        }
        let burst = match burst {
            Some(b) => b
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("rate limit {s:?}: the burst must be a whole number"))?,
            None => (per_second * 2.0).ceil() as u32,
        }
        .max(1);
        Ok(RateLimit { per_second, burst })
    }
}

/// Requests per caller, counted with `governor` (GCRA: one timestamp per
/// key, no background task). The key is `key:<sha256 of the API key>` for
/// an authenticated caller and `ip:<peer address>` for a request whose key
/// is missing or unknown, so a client that invents a new key for every
/// request (guessing keys) still shares one bucket, its address's.
///
/// Why `governor` under our own auth middleware and not a
/// `tower_governor` layer: the bucket of a valid key is chosen after the
/// key is checked, which a layer in front of authentication cannot do
/// without parsing keys a second time and trusting made-up ones.
pub struct RateLimiter {
    limiter: governor::DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

/// Forget idle buckets every this many checks (a bucket refilled to its
/// burst is the same as no bucket), so addresses seen once do not stay.
const RETAIN_EVERY: u64 = 4096;

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("keys", &self.limiter.len())
            .finish()
    }
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        use std::num::NonZeroU32;
        // A rate too small to represent waits "forever"; one whose period
        // rounds to zero gets the fastest quota governor has.
        let period = Duration::try_from_secs_f64(1.0 / limit.per_second).unwrap_or(Duration::MAX);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = governor::Quota::with_period(period)
            .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        RateLimiter {
            limiter: governor::RateLimiter::dashmap(quota),
            checks: AtomicU64::new(0),
        }
    }

    /// Take one request for `key`; `Err(whole seconds to wait, at least 1)`
    /// when its bucket is empty.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        use governor::clock::Clock;
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                wait.as_secs_f64().ceil().max(1.0) as u64
            })
    }
}

/// How a piece of engine work is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Reads and writes that run on one thread: get, list, search, upserts.
    Plain,
    /// Matching: fans out over the rayon pool, so only as many run at once
    /// as there are cores (see [`Inner::matching`]).
    Matching,
}

pub(crate) struct Inner {
    engine: OnceLock<Arc<Engine>>,
    /// The outcome journal and the restricted-profile audit trail (in the
    /// data folder when served; in memory for states built without one).
    outcomes: OnceLock<Arc<Outcomes>>,
    audit: OnceLock<Arc<Audit>>,
    /// Logged-in console sessions.
    pub console: crate::console::Sessions,
    pub keys: ApiKeys,
    pub limits: Limits,
    pub cors_origins: Vec<String>,
    pub jobs: Jobs,
    pub metrics: Metrics,
    /// `None`: rate limiting is off.
    pub rate: Option<RateLimiter>,
    /// Unix seconds of the last commit made through this server (or of the index at start).
    pub last_commit: AtomicU64,
    /// Serializes create-if-absent checks against concurrent creates.
    pub create_lock: Mutex<()>,
    /// Permits for concurrent matches, one per core. A match already uses
    /// every core (rayon), so more at once only add queueing inside the
    /// pool and per-request memory (hit lists, explanations) held by many
    /// blocking threads; waiting here costs an async task, not a thread.
    pub matching: tokio::sync::Semaphore,
    /// Cores, which is also the number of matching permits.
    pub cores: usize,
    /// Matches waiting for a permit (at most `cores * queue_per_core`).
    pub matching_waiting: AtomicUsize,
}

/// A place in the matching queue, given back when the wait ends or the
/// request is dropped (time limit, client gone).
struct QueueSlot<'a>(&'a AtomicUsize);

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Cheap to clone; one per server.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl AppState {
    /// A state whose engine is open (ready at once).
    pub fn new(engine: Arc<Engine>, keys: ApiKeys) -> Self {
        let s = Self::pending(keys);
        s.set_engine(engine);
        s
    }

    /// A state whose engine is still opening: `/readyz` answers 503 and
    /// every engine route `not-ready` until [`AppState::set_engine`].
    pub fn pending(keys: ApiKeys) -> Self {
        Self::build(keys, Limits::default(), Vec::new())
    }

    fn build(keys: ApiKeys, limits: Limits, cors_origins: Vec<String>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            inner: Arc::new(Inner {
                engine: OnceLock::new(),
                outcomes: OnceLock::new(),
                audit: OnceLock::new(),
                console: crate::console::Sessions::default(),
                keys,
                jobs: Jobs::default(),
                metrics: Metrics::default(),
                rate: limits.rate_limit.map(RateLimiter::new),
                last_commit: AtomicU64::new(unix_now()),
                create_lock: Mutex::new(()),
                matching: tokio::sync::Semaphore::new(cores),
                cores,
                matching_waiting: AtomicUsize::new(0),
                limits,
                cors_origins,
            }),
        }
    }

    /// Replace the limits (call before [`super::router`]; state not yet shared).
    pub fn with_limits(self, limits: Limits) -> Self {
        let engine = self.inner.engine.get().cloned();
        let s = Self::build(
            self.inner.keys.clone(),
            limits,
            self.inner.cors_origins.clone(),
        );
        if let Some(e) = engine {
            s.set_engine(e);
        }
        s
    }

    /// Allowed CORS origins (`*` allows any). Empty: no CORS headers.
    pub fn with_cors_origins(self, origins: Vec<String>) -> Self {
        let engine = self.inner.engine.get().cloned();
        let s = Self::build(self.inner.keys.clone(), self.inner.limits.clone(), origins);
        if let Some(e) = engine {
            s.set_engine(e);
        }
        s
    }

    pub fn set_engine(&self, engine: Arc<Engine>) {
        let _ = self.inner.engine.set(engine);
    }

    pub fn engine(&self) -> ApiResult<Arc<Engine>> {
        self.inner
            .engine
            .get()
            .cloned()
            .ok_or_else(ApiError::not_ready)
    }

    /// Use these stores for outcomes and audit (call before the engine is
    /// set: `serve` opens them from the data folder).
    pub fn set_stores(&self, outcomes: Arc<Outcomes>, audit: Arc<Audit>) {
        let _ = self.inner.outcomes.set(outcomes);
        let _ = self.inner.audit.set(audit);
    }

    /// The outcome store; in memory if none was set when the engine opened.
    pub fn outcomes(&self) -> ApiResult<Arc<Outcomes>> {
        self.engine()?;
        Ok(self
            .inner
            .outcomes
            .get_or_init(|| Arc::new(Outcomes::in_memory()))
            .clone())
    }

    /// The audit trail of restricted-profile reads.
    pub fn audit(&self) -> ApiResult<Arc<Audit>> {
        self.engine()?;
        Ok(self
            .inner
            .audit
            .get_or_init(|| Arc::new(Audit::in_memory()))
            .clone())
    }

    pub fn is_ready(&self) -> bool {
        self.inner.engine.get().is_some()
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn keys(&self) -> &ApiKeys {
        &self.inner.keys
    }

    pub(crate) fn jobs(&self) -> &Jobs {
        &self.inner.jobs
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn touch_commit(&self) {
        self.inner.last_commit.store(unix_now(), Ordering::Relaxed);
    }

    pub(crate) fn set_last_commit(&self, unix: u64) {
        self.inner.last_commit.store(unix, Ordering::Relaxed);
    }

    pub(crate) fn last_commit(&self) -> u64 {
        self.inner.last_commit.load(Ordering::Relaxed)
    }

    /// Cancel every batch job (shutdown).
    pub fn cancel_jobs(&self) {
        self.inner.jobs.cancel_all();
    }

    /// A matching permit: at once if one is free, else after a wait in the
    /// bounded queue, else 503 `overloaded` (with `Retry-After`) at once.
    async fn matching_permit(&self) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
        let inner = &self.inner;
        if let Ok(p) = inner.matching.try_acquire() {
            return Ok(p);
        }
        let capacity = inner.cores.saturating_mul(inner.limits.queue_per_core);
        let ahead = inner.matching_waiting.fetch_add(1, Ordering::SeqCst);
        let _slot = QueueSlot(&inner.matching_waiting);
        if ahead >= capacity {
            return Err(ApiError::overloaded(inner.cores, ahead));
        }
        inner
            .matching
            .acquire()
            .await
            .map_err(|e| ApiError::internal(format!("matching closed: {e}")))
    }

    /// Run engine work on the blocking pool.
    pub(crate) async fn run<T, F>(&self, work: Work, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Engine) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let engine = self.engine()?;
        let _permit = match work {
            Work::Plain => None,
            Work::Matching => Some(self.matching_permit().await?),
        };
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| ApiError::internal(format!("engine task failed: {e}")))?
    }
}
