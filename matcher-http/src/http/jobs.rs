//! Batch matching jobs: every open need against every company, run in the
//! background one job at a time, with progress, results (JSON Lines, in
//! need-id order) and cancellation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use matcher_core::matching::batch;
use matcher_core::{Engine, Role};
use serde::Serialize;

use super::error::{ApiError, ApiResult, Kind};
use super::state::unix_now;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Cancelled,
    Failed,
}

impl JobStatus {
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Failed => "failed",
        }
    }
}

#[derive(Debug)]
struct JobState {
    status: JobStatus,
    error: Option<String>,
    started_at: Option<u64>,
    finished_at: Option<u64>,
    /// One JSON object per line, in need-id order.
    lines: Vec<String>,
}

#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub top_k: usize,
    pub created_at: u64,
    pub created_by: String,
    cancel: AtomicBool,
    done: AtomicUsize,
    total: AtomicUsize,
    state: Mutex<JobState>,
}

/// What `GET /v1/batch/{id}` answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = BatchJob)]
pub struct JobView {
    pub id: String,
    pub status: JobStatus,
    pub top_k: usize,
    /// Needs matched so far.
    pub done: usize,
    /// Open needs when the job started (0 while queued).
    pub total: usize,
    /// Result lines available so far.
    pub results: usize,
    pub created_at: u64,
    #[schema(required = true)]
    pub started_at: Option<u64>,
    #[schema(required = true)]
    pub finished_at: Option<u64>,
    #[schema(required = true)]
    pub error: Option<String>,
    pub results_url: String,
}

impl Job {
    fn lock(&self) -> std::sync::MutexGuard<'_, JobState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> JobStatus {
        self.lock().status
    }

    pub fn view(&self) -> JobView {
        let st = self.lock();
        JobView {
            id: self.id.clone(),
            status: st.status,
            top_k: self.top_k,
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            results: st.lines.len(),
            created_at: self.created_at,
            started_at: st.started_at,
            finished_at: st.finished_at,
            error: st.error.clone(),
            results_url: format!("/v1/batch/{}/results", self.id),
        }
    }

    /// The result lines so far, as one JSON Lines body.
    pub fn results(&self) -> (JobStatus, String) {
        let st = self.lock();
        let mut body = String::new();
        for l in &st.lines {
            body.push_str(l);
            body.push('\n');
        }
        (st.status, body)
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        let mut st = self.lock();
        if st.status == JobStatus::Queued {
            st.status = JobStatus::Cancelled;
            st.finished_at = Some(unix_now());
        }
    }

    /// Record how the job ended: the needs done, or why it failed (shown
    /// to the caller as the job's `error`).
    fn finish(&self, result: Result<usize, String>) {
        let mut st = self.lock();
        st.finished_at = Some(unix_now());
        st.status = match result {
            Err(e) => {
                tracing::error!(job = %self.id, error = %e, "batch job failed");
                st.error = Some(e);
                JobStatus::Failed
            }
            Ok(_) if self.cancel.load(Ordering::Relaxed) => JobStatus::Cancelled,
            Ok(_) => JobStatus::Done,
        };
    }

    /// Run on the current (blocking) thread.
    fn run(&self, engine: &Engine) {
        {
            let mut st = self.lock();
            if st.status != JobStatus::Queued {
                return;
            }
            st.status = JobStatus::Running;
            st.started_at = Some(unix_now());
        }
        // The whole job reads one view; its total counts that view's needs.
        let matcher = engine.matcher();
        let total = matcher
            .view()
            .needs(Role::Coordinator)
            .iter()
            .filter(|n| n.status == matcher_core::model::NeedStatus::Open)
            .count();
        self.total.store(total, Ordering::Relaxed);
        let result = batch::run(
            &matcher,
            Role::Coordinator,
            self.top_k,
            &self.cancel,
            |line| {
                let s = serde_json::to_string(&line)?;
                self.lock().lines.push(s);
                Ok::<(), serde_json::Error>(())
            },
            |done, total| {
                self.done.store(done, Ordering::Relaxed);
                self.total.store(total, Ordering::Relaxed);
            },
        );
        self.finish(result.map_err(|e| e.to_string()));
    }
}

/// All jobs of this server.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<BTreeMap<String, Arc<Job>>>,
    seq: AtomicU64,
    /// One job runs at a time; the others wait their turn.
    runner: tokio::sync::Mutex<()>,
}

impl Jobs {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Job>>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.map().get(id).cloned()
    }

    /// Counts by status (metrics).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out: BTreeMap<&'static str, usize> = [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Cancelled,
            JobStatus::Failed,
        ]
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        for j in self.map().values() {
            *out.entry(j.status().as_str()).or_default() += 1;
        }
        out
    }

    pub fn cancel_all(&self) {
        for j in self.map().values() {
            j.cancel();
        }
    }

    /// Register a job, or refuse when too many are active. Old finished
    /// jobs beyond `kept` are forgotten.
    pub fn create(
        &self,
        top_k: usize,
        created_by: &str,
        max_active: usize,
        kept: usize,
    ) -> ApiResult<Arc<Job>> {
        let mut map = self.map();
        let active = map.values().filter(|j| j.status().is_active()).count();
        if active >= max_active {
            let mut e = ApiError::new(
                Kind::RateLimited,
                format!(
                    "{active} batch jobs are already queued or running (limit {max_active}); retry when one finishes"
                ),
            );
            e.retry_after = Some(5);
            return Err(e);
        }
        let finished: Vec<String> = map
            .iter()
            .filter(|(_, j)| !j.status().is_active())
            .map(|(id, _)| id.clone())
            .collect();
        if finished.len() >= kept {
            for id in finished.iter().take(finished.len() + 1 - kept.max(1)) {
                map.remove(id);
            }
        }
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let salt: u32 = rand::random();
        let id = format!("b{n:06}-{salt:08x}");
        let job = Arc::new(Job {
            id: id.clone(),
            top_k,
            created_at: unix_now(),
            created_by: created_by.to_owned(),
            cancel: AtomicBool::new(false),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            state: Mutex::new(JobState {
                status: JobStatus::Queued,
                error: None,
                started_at: None,
                finished_at: None,
                lines: Vec::new(),
            }),
        });
        map.insert(id, job.clone());
        Ok(job)
    }

    /// Wait for the runner, then run `job` on the blocking pool.
    pub async fn execute(&self, job: Arc<Job>, engine: Arc<Engine>) {
        let _turn = self.runner.lock().await;
        if job.status() != JobStatus::Queued {
            return;
        }
        let j = job.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || j.run(&engine)).await {
            job.finish(Err(format!("batch task panicked: {e}")));
        }
    }

    /// Wait until no job is running (shutdown, after [`Jobs::cancel_all`]).
    pub async fn wait_idle(&self) {
        let _turn = self.runner.lock().await;
    }
}
