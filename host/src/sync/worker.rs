//! The queue worker: claims due jobs in batches, groups them by (provider, event), runs
//! each group on a blocking thread with one provider instance, watches every provider
//! call with a timeout, and writes each group's outcomes in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use datasync_plugin_api::{ErrorKind, EventContext, Mapping, SyncError};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use super::order::{sync_order, EventSession, OrderSynced};
use crate::config::{Config, ProviderConfig};
use crate::import::load_event;
use crate::mapping::{catalog, mappings_from_config, CompiledMappings};
use crate::model::{parse_order, EventData};
use crate::plugins::{LoadedProvider, ProviderHandle, Registry};
use crate::store::{
    Applied, ClaimedJob, Completion, FailureMode, Outcome, QueueId, Store, StoreError, Timestamp,
};

/// A worker failure that stops the run (the database is unusable); provider failures
/// never are: they become job outcomes.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A group task died (a host bug; provider panics are caught in the plugin).
    #[error("a worker task failed: {0}")]
    Task(String),
}

/// What a run did, for the CLI summary and exit code.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    /// Jobs claimed.
    pub claimed: usize,
    /// Jobs synced and removed from the queue.
    pub succeeded: usize,
    /// Jobs rescheduled after a recoverable error.
    pub retried: usize,
    /// Jobs rescheduled after a `retry_after` (no attempt counted).
    pub snoozed: usize,
    /// Jobs parked for a person (exceeded, permanent, config, internal, timeout,
    /// provider missing).
    pub parked: usize,
    /// Jobs whose newer pending row took over (spec §2.7).
    pub superseded: usize,
    /// Objects sent to providers successfully.
    pub objects: usize,
    /// Jobs whose last outcome in this run left them a sync problem (parked, or
    /// waiting for a retry); a job that failed and then succeeded is not one.
    pub problems: usize,
    /// The jobs whose latest outcome in this run is a problem.
    #[serde(skip)]
    problem_jobs: HashSet<i64>,
    /// Jobs of gone processes parked because their lease ran out.
    #[serde(skip)]
    expired: usize,
}

impl RunSummary {
    /// Parked rows cannot be claimed again in the same run, so each stays a problem.
    fn add_expired(&mut self, expired: usize) {
        self.expired += expired;
        self.parked += expired;
        self.problems = self.problem_jobs.len() + self.expired;
    }

    fn add(&mut self, completions: &[Completion], applied: &[Applied]) {
        self.objects += completions.iter().map(objects_in).sum::<usize>();
        for (completion, a) in completions.iter().zip(applied) {
            let id = completion.claim.id.0;
            match a {
                Applied::Parked(_) | Applied::Rescheduled => self.problem_jobs.insert(id),
                _ => self.problem_jobs.remove(&id),
            };
        }
        self.problems = self.problem_jobs.len() + self.expired;
        for a in applied {
            match a {
                Applied::Deleted => self.succeeded += 1,
                Applied::Rescheduled => self.retried += 1,
                Applied::Snoozed => self.snoozed += 1,
                Applied::Parked(_) => self.parked += 1,
                Applied::Superseded => self.superseded += 1,
                Applied::Stale => {}
            }
        }
    }
}

/// Runs the queue for one database with the loaded plugins.
pub struct Worker {
    store: Arc<Mutex<Store>>,
    registry: Arc<Registry>,
    config: Arc<Config>,
    wake: Arc<Notify>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    outcome_writes: watch::Sender<u64>,
    stopping: Arc<AtomicBool>,
}

/// One (provider, event) group of a claimed batch.
struct Group {
    provider: String,
    event: String,
    jobs: Vec<ClaimedJob>,
}

/// What a group's blocking thread shares with its watchdog. A heartbeat counter rather
/// than a message per call: waking the async side several times per order cost more
/// than the provider calls themselves.
struct Progress {
    /// Incremented before every provider call.
    beats: AtomicU64,
    /// One slot per job of the group, filled as each job finishes.
    results: Mutex<Vec<Option<JobResult>>>,
}

impl Progress {
    fn new(jobs: usize) -> Progress {
        Progress {
            beats: AtomicU64::new(0),
            results: Mutex::new((0..jobs).map(|_| None).collect()),
        }
    }

    fn beat(&self) {
        self.beats.fetch_add(1, Ordering::Relaxed);
    }

    fn report(&self, index: usize, result: JobResult) {
        if let Some(slot) = lock(&self.results).get_mut(index) {
            *slot = Some(result);
        }
    }

    /// Takes the results; a thread that reports later (a hung call that came back)
    /// finds no slot and is ignored.
    fn take(&self) -> Vec<Option<JobResult>> {
        std::mem::take(&mut *lock(&self.results))
    }
}

/// A job's result as the blocking thread saw it.
enum JobResult {
    Synced(OrderSynced),
    /// A failure, with the provider's own retry delay for recoverable ones.
    Failed(SyncError, Option<u64>),
}

impl Worker {
    /// A worker over `store`, with providers from `registry` configured by `config`.
    pub fn new(store: Store, registry: Registry, config: Config) -> Worker {
        Worker {
            store: Arc::new(Mutex::new(store)),
            registry: Arc::new(registry),
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
            limits: Mutex::new(HashMap::new()),
            outcome_writes: watch::channel(0).0,
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Counts outcome writes: a receiver sees the count change after every group of jobs
    /// whose outcomes are committed (for immediate-mode callers and the latency
    /// benchmark).
    pub fn completions(&self) -> watch::Receiver<u64> {
        self.outcome_writes.subscribe()
    }

    /// The store, for enqueueing from the same process (then call [`Worker::wake`]).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Wakes the daemon loop at once (pretix's `immediate`).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A handle that wakes the daemon loop, for other tasks.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Start-up recovery: jobs left in flight by a host that died return to pending
    /// (at-least-once). Only one `datasync run` may use a database at a time.
    ///
    /// Also resumes the `provider_missing` jobs of every provider that is loaded again.
    pub fn recover(&self) -> Result<usize, WorkerError> {
        let now = Timestamp::now();
        let mut store = lock(&self.store);
        let recovered = store.recover_in_flight(now)?;
        if recovered > 0 {
            tracing::warn!(
                recovered,
                "returned jobs left in flight by a previous run to pending"
            );
        }
        for provider in self.registry.providers() {
            let resumed = store.resume_provider(&provider.identifier, now)?;
            if resumed > 0 {
                tracing::info!(provider = %provider.identifier, resumed, "plugin is back; resumed its parked jobs");
            }
        }
        Ok(recovered)
    }

    /// Processes batches until nothing is due (`datasync run --once`).
    pub async fn run_until_idle(&self) -> Result<RunSummary, WorkerError> {
        let mut summary = RunSummary::default();
        self.run_batches(&mut summary).await?;
        Ok(summary)
    }

    /// Syncs just these jobs, now, if they are due (pretix's `sync_single`: "sync now" and
    /// "retry now"). Jobs that are not due — scheduled later, parked, already in flight
    /// elsewhere — are left alone; other due jobs wait for `datasync run`.
    pub async fn sync_jobs(&self, ids: &[QueueId]) -> Result<RunSummary, WorkerError> {
        let mut summary = RunSummary::default();
        let lease = Duration::from_secs(self.config.worker.lease_secs);
        let jobs = lock(&self.store).claim_jobs(ids, Timestamp::now(), lease)?;
        summary.claimed += jobs.len();
        let mut tasks = JoinSet::new();
        self.spawn_groups(
            tracing::info_span!("jobs", jobs = jobs.len()),
            jobs,
            &mut tasks,
        );
        while let Some(done) = tasks.join_next().await {
            self.write_outcomes(done, &mut summary)?;
        }
        Ok(summary)
    }

    /// The daemon loop: processes due batches, then sleeps until woken, the poll
    /// interval passes, or `shutdown` completes. On shutdown no new batch is claimed;
    /// the running one lets its current provider calls finish and releases the jobs it
    /// has not started (back to pending, nothing counted), so no claim is left behind.
    pub async fn run(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<RunSummary, WorkerError> {
        let mut summary = RunSummary::default();
        let poll = Duration::from_millis(self.config.worker.poll_interval_ms.max(1));
        tokio::pin!(shutdown);
        loop {
            let busy = {
                let batch = self.run_batches(&mut summary);
                tokio::pin!(batch);
                loop {
                    tokio::select! {
                        r = &mut batch => break r?,
                        () = &mut shutdown, if !self.stopping.load(Ordering::SeqCst) => {
                            tracing::info!("stopping after the calls in progress");
                            self.stopping.store(true, Ordering::SeqCst);
                        }
                    }
                }
            };
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(summary);
            }
            if busy {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return Ok(summary),
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Claims and processes due jobs until none is due and every claimed one is
    /// written; `false` when nothing was due. The next batch is claimed while less than
    /// a batch is outstanding, so the provider threads have work while the one writer
    /// claims and writes outcomes. Once stopping, nothing more is claimed.
    ///
    /// Leases are expired only by a claim with nothing of this worker outstanding: its
    /// own jobs are watched by the call timeout, and a part slower than the lease must
    /// not be parked while it makes progress. The lease is for claims of a process that
    /// is gone.
    async fn run_batches(&self, summary: &mut RunSummary) -> Result<bool, WorkerError> {
        let batch_size = self.config.worker.batch_size.max(1);
        let mut tasks = JoinSet::new();
        let (mut outstanding, mut dry, mut claimed_any) = (0, false, false);
        loop {
            let stopping = self.stopping.load(Ordering::SeqCst);
            if !stopping && (tasks.is_empty() || (!dry && outstanding < batch_size)) {
                let jobs = self.claim_batch(tasks.is_empty(), summary)?;
                dry = jobs.is_empty();
                claimed_any |= !dry;
                outstanding += jobs.len();
                summary.claimed += jobs.len();
                let span = tracing::info_span!("batch", jobs = jobs.len());
                self.spawn_groups(span, jobs, &mut tasks);
            }
            let Some(done) = tasks.join_next().await else {
                return Ok(claimed_any);
            };
            outstanding -= self.write_outcomes(done, summary)?;
        }
    }

    /// Claims up to one batch of due jobs, first parking expired leases if `expire`.
    fn claim_batch(
        &self,
        expire: bool,
        summary: &mut RunSummary,
    ) -> Result<Vec<ClaimedJob>, WorkerError> {
        let now = Timestamp::now();
        let lease = Duration::from_secs(self.config.worker.lease_secs);
        let batch_size = u32::try_from(self.config.worker.batch_size).unwrap_or(u32::MAX);
        let mut store = lock(&self.store);
        if expire {
            let expired = store.expire_leases(now)?;
            if expired > 0 {
                tracing::warn!(expired, "parked jobs whose lease ran out as timeout");
            }
            summary.add_expired(expired);
        }
        Ok(store.claim_due(now, batch_size, lease)?)
    }

    /// Starts a task per (provider, event) part of `jobs`, each waiting for a call slot
    /// of its provider.
    fn spawn_groups(
        &self,
        batch: tracing::Span,
        jobs: Vec<ClaimedJob>,
        tasks: &mut JoinSet<Vec<Completion>>,
    ) {
        for group in group_jobs(jobs) {
            let (permit_pool, concurrency) = self.limit_for(&group.provider);
            // Read here, between writes: a part that waited for the store lock while
            // the writer wrote the previous parts' outcomes left its thread idle.
            let event = Arc::new(self.stored_event(&group.event));
            for part in split_group(group, concurrency) {
                let worker = self.shared();
                let permit_pool = permit_pool.clone();
                let event = event.clone();
                let span = tracing::info_span!(parent: &batch, "group", provider = %part.provider, event = %part.event);
                tasks.spawn(
                    async move {
                        let _permit = permit_pool.acquire_owned().await;
                        worker.process_group(part, &event).await
                    }
                    .instrument(span),
                );
            }
        }
    }

    /// Writes one finished part's outcomes in one transaction; returns how many jobs it
    /// had.
    fn write_outcomes(
        &self,
        done: Result<Vec<Completion>, tokio::task::JoinError>,
        summary: &mut RunSummary,
    ) -> Result<usize, WorkerError> {
        let completions = done.map_err(|e| WorkerError::Task(e.to_string()))?;
        let applied = lock(&self.store).complete(&completions, Timestamp::now())?;
        log_outcomes(&completions, &applied);
        summary.add(&completions, &applied);
        self.outcome_writes.send_modify(|n| *n += 1);
        Ok(completions.len())
    }

    fn shared(&self) -> Shared {
        Shared {
            registry: self.registry.clone(),
            config: self.config.clone(),
            stopping: self.stopping.clone(),
        }
    }

    /// The provider's concurrency limit and the semaphore that enforces it.
    fn limit_for(&self, provider: &str) -> (Arc<Semaphore>, usize) {
        let concurrency = self
            .config
            .providers
            .iter()
            .find(|p| p.identifier == provider)
            .map_or(4, |p| p.concurrency.max(1));
        let semaphore = lock(&self.limits)
            .entry(provider.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(concurrency)))
            .clone();
        (semaphore, concurrency)
    }
}

/// The server log of what happened to each job (the database log has the details).
fn log_outcomes(completions: &[Completion], applied: &[Applied]) {
    for (c, a) in completions.iter().zip(applied) {
        let (order, provider) = (&c.claim.order_code, &c.claim.provider);
        match (&c.outcome, a) {
            (
                Outcome::Recoverable {
                    messages, retry_at, ..
                },
                Applied::Rescheduled,
            ) => {
                tracing::info!(%order, %provider, next = %retry_at, "transient error, will retry: {}", messages.join("; "));
            }
            (
                Outcome::Recoverable { messages, .. } | Outcome::Failed { messages, .. },
                Applied::Parked(mode),
            ) => {
                tracing::error!(%order, %provider, %mode, "could not sync order: {}", messages.join("; "));
            }
            (Outcome::ProviderMissing, Applied::Parked(mode)) => {
                tracing::warn!(%order, %provider, %mode, "provider not loaded; job parked");
            }
            (_, Applied::Superseded) => {
                tracing::info!(%order, %provider, "a newer job for this order takes over");
            }
            _ => {}
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the store lock cannot leave SQLite half-written (every
    // write is one transaction), so the data behind a poisoned lock is still good.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn objects_in(completion: &Completion) -> usize {
    match &completion.outcome {
        Outcome::Success { results, .. } => results.len(),
        _ => 0,
    }
}

/// Groups by (provider, event), keeping the claim order within each group.
fn group_jobs(jobs: Vec<ClaimedJob>) -> Vec<Group> {
    let mut groups: BTreeMap<(String, String), Vec<ClaimedJob>> = BTreeMap::new();
    for job in jobs {
        let key = (job.claim.provider.clone(), job.claim.event.clone());
        groups.entry(key).or_default().push(job);
    }
    groups
        .into_iter()
        .map(|((provider, event), jobs)| Group {
            provider,
            event,
            jobs,
        })
        .collect()
}

/// Jobs below which a group is not split: each part costs a provider instance.
const MIN_PART: usize = 64;

/// Splits a large group into up to `concurrency` parts, each run by its own provider
/// instance on its own thread, so one busy event can use every allowed call slot.
/// Jobs of one order never split (each order is one job), and each part keeps the
/// claim order.
fn split_group(group: Group, concurrency: usize) -> Vec<Group> {
    let parts = (group.jobs.len() / MIN_PART).clamp(1, concurrency.max(1));
    if parts == 1 {
        return vec![group];
    }
    let size = group.jobs.len().div_ceil(parts);
    let Group {
        provider,
        event,
        jobs,
    } = group;
    let mut jobs = jobs.into_iter();
    (0..parts)
        .map(|_| Group {
            provider: provider.clone(),
            event: event.clone(),
            jobs: jobs.by_ref().take(size).collect(),
        })
        .filter(|g| !g.jobs.is_empty())
        .collect()
}

/// What a group task needs from the worker.
struct Shared {
    registry: Arc<Registry>,
    config: Arc<Config>,
    stopping: Arc<AtomicBool>,
}

/// Everything a group's blocking thread owns.
struct GroupWork {
    provider: LoadedProvider,
    provider_config: ProviderConfig,
    event: EventData,
    context: EventContext,
    mappings: Vec<Mapping>,
}

/// What the blocking thread needs of one claimed job.
struct JobInput {
    order_code: String,
    /// The order, JSON text as stored.
    order_data: String,
    failed_attempts: u32,
}

impl Shared {
    async fn process_group(
        self,
        mut group: Group,
        event: &Result<String, Outcome>,
    ) -> Vec<Completion> {
        // The order texts move to the blocking thread; the rest stays for the outcomes.
        let inputs: Vec<JobInput> = group
            .jobs
            .iter_mut()
            .map(|job| JobInput {
                order_code: job.claim.order_code.clone(),
                order_data: std::mem::take(&mut job.order_data),
                failed_attempts: job.failed_attempts,
            })
            .collect();
        let claims = group.jobs;
        let work = match self.prepare(&group.provider, &group.event, event) {
            Ok(work) => work,
            Err(outcome) => {
                return claims
                    .into_iter()
                    .map(|job| Completion {
                        claim: job.claim,
                        outcome: outcome.clone(),
                    })
                    .collect()
            }
        };
        let call_timeout =
            Duration::from_secs_f64(work.provider_config.call_timeout_secs.max(0.001));
        let policy = work.provider_config.retry;
        let max_snoozes = work.provider_config.max_snoozes;
        let max_attempts = work.provider.max_attempts;

        let progress = Arc::new(Progress::new(claims.len()));
        let abandoned = Arc::new(AtomicBool::new(false));
        let stopping = self.stopping.clone();
        let span = tracing::Span::current();
        let mut thread = {
            let (progress, abandoned) = (progress.clone(), abandoned.clone());
            tokio::task::spawn_blocking(move || {
                let _in_group = span.enter();
                run_group(work, inputs, &progress, &[&abandoned, &stopping])
            })
        };

        // Watchdog: the group is hung when no new provider call started for a whole
        // call timeout.
        let poll = (call_timeout / 4).clamp(Duration::from_millis(1), Duration::from_millis(50));
        let (mut last_beats, mut last_change) = (0, tokio::time::Instant::now());
        let mut hung = false;
        loop {
            tokio::select! {
                joined = &mut thread => {
                    if let Err(e) = joined {
                        tracing::error!(error = %e, "provider thread failed");
                    }
                    break;
                }
                () = tokio::time::sleep(poll) => {
                    let beats = progress.beats.load(Ordering::Relaxed);
                    if beats != last_beats {
                        (last_beats, last_change) = (beats, tokio::time::Instant::now());
                    } else if last_change.elapsed() >= call_timeout && !thread.is_finished() {
                        // Its thread cannot be killed; it is told to stop before the next
                        // order and its provider instance is leaked.
                        abandoned.store(true, Ordering::SeqCst);
                        hung = true;
                        tracing::error!(
                            timeout_secs = call_timeout.as_secs_f64(),
                            "provider call timed out; abandoning the rest of the group"
                        );
                        break;
                    }
                }
            }
        }
        let results = progress.take();
        // The job that was running when the group hung; None when every order was done
        // and `close` hangs.
        let timed_out = if hung {
            results.iter().position(Option::is_none)
        } else {
            None
        };

        let now = Timestamp::now();
        claims
            .into_iter()
            .zip(results)
            .enumerate()
            .map(|(index, (job, result))| {
                let outcome = match result {
                    Some(result) => {
                        outcome_of(result, &job, &policy, max_attempts, max_snoozes, now)
                    }
                    None if Some(index) == timed_out => Outcome::Failed {
                        mode: FailureMode::Timeout,
                        messages: vec![format!(
                            "provider {} did not answer within {} s",
                            job.claim.provider,
                            call_timeout.as_secs_f64()
                        )],
                        full_message: Some("Timeout".to_string()),
                    },
                    // Never started, because an earlier call hung or the host is
                    // stopping: back to pending, no attempt counted.
                    None => Outcome::Snooze {
                        until: now,
                        messages: vec![if hung {
                            "not attempted: an earlier call in its batch timed out".into()
                        } else {
                            "not attempted: the host was stopping".into()
                        }],
                    },
                };
                Completion {
                    claim: job.claim,
                    outcome,
                }
            })
            .collect()
    }

    /// Looks up everything the group needs; an `Err` is the outcome for every job.
    fn prepare(
        &self,
        provider_id: &str,
        event_slug: &str,
        stored_event: &Result<String, Outcome>,
    ) -> Result<GroupWork, Outcome> {
        let provider_config = self
            .config
            .providers
            .iter()
            .find(|p| p.identifier == provider_id && p.events.matches(event_slug))
            .cloned();
        let provider = self.registry.get(provider_id).cloned();
        let (Some(provider_config), Some(provider)) = (provider_config, provider) else {
            tracing::warn!(
                "provider {} is not loaded or not configured for event {}; parking its jobs as provider_missing",
                provider_id,
                event_slug
            );
            return Err(Outcome::ProviderMissing);
        };
        let event = parse_event(event_slug, stored_event)?;
        let mappings =
            mappings_from_config(provider_config.mappings_for(event_slug)).map_err(|e| {
                failed(
                    FailureMode::Config,
                    format!(
                        "provider {}: {e}; fix the mapping in datasync.toml and retry",
                        provider_id
                    ),
                )
            })?;
        let context = event_context(&event);
        Ok(GroupWork {
            provider,
            provider_config,
            event,
            context,
            mappings,
        })
    }
}

fn parse_event(slug: &str, stored: &Result<String, Outcome>) -> Result<EventData, Outcome> {
    let data = stored.as_ref().map_err(Outcome::clone)?;
    load_event(data).map_err(|e| {
        failed(
            FailureMode::Internal,
            format!("stored data of event {slug} is unreadable: {e}; re-import the event"),
        )
    })
}

impl Worker {
    /// The stored event's JSON text, or the outcome for every job of the event.
    fn stored_event(&self, slug: &str) -> Result<String, Outcome> {
        match lock(&self.store).event(slug) {
            Ok(Some(row)) => Ok(row.data),
            Ok(None) => Err(failed(
                FailureMode::Internal,
                format!("event {slug} is not in the database; import it"),
            )),
            Err(e) => Err(failed(
                FailureMode::Internal,
                format!("reading event {slug}: {e}"),
            )),
        }
    }
}

fn failed(mode: FailureMode, message: String) -> Outcome {
    Outcome::Failed {
        mode,
        messages: vec![message],
        full_message: None,
    }
}

/// The event as a provider sees it.
pub fn event_context(event: &EventData) -> EventContext {
    let locales: Vec<String> = event.settings.locales.clone();
    let language = locales.first().map(String::as_str).unwrap_or("en");
    EventContext {
        organizer: crate::import::organizer_of(event).into(),
        slug: event.event.slug.as_str().into(),
        name: event.event.name.localize(language).into(),
        locales: locales.into_iter().map(Into::into).collect(),
        name_scheme: event.settings.name_scheme.as_str().into(),
    }
}

/// The blocking side of a group: one provider instance, every order in claim order.
/// `stop` flags are checked before each order: once one is set, the remaining orders
/// are left untried (the caller releases them).
fn run_group(work: GroupWork, jobs: Vec<JobInput>, progress: &Progress, stop: &[&AtomicBool]) {
    let GroupWork {
        provider,
        provider_config,
        event,
        context,
        mappings,
    } = work;
    let report = |index: usize, result: JobResult| progress.report(index, result);
    progress.beat();
    let settings = provider_config.settings_json(&event.event.slug);
    let mut handle = match provider.instantiate(&context, &settings) {
        Ok(handle) => handle,
        Err(error) => {
            for index in 0..jobs.len() {
                report(index, JobResult::Failed(error.clone(), None));
            }
            return;
        }
    };
    let mappings = match effective_mappings(mappings, &handle) {
        Ok(m) => m,
        Err(error) => {
            for index in 0..jobs.len() {
                report(index, JobResult::Failed(error.clone(), None));
            }
            return;
        }
    };
    let catalog = catalog(&event);
    let session = EventSession {
        identifier: &provider.identifier,
        display_name: &provider.display_name,
        list_field_joiner: provider.list_field_joiner.as_deref(),
        event: &event,
        catalog: &catalog,
        mappings: CompiledMappings::new(&catalog, &mappings),
    };
    for (index, job) in jobs.iter().enumerate() {
        if stop.iter().any(|flag| flag.load(Ordering::SeqCst)) {
            break;
        }
        let span = tracing::info_span!("order", code = %job.order_code);
        let _enter = span.enter();
        report(
            index,
            sync_job(&session, &mut handle, &event, job, progress),
        );
    }
    progress.beat();
    if let Err(error) = handle.close() {
        tracing::warn!(provider = %provider.identifier, error = %error, "provider close failed");
    }
}

/// Host mappings win; without any, the provider's own defaults apply.
fn effective_mappings(
    configured: Vec<Mapping>,
    handle: &ProviderHandle,
) -> Result<Vec<Mapping>, SyncError> {
    if !configured.is_empty() {
        return Ok(configured);
    }
    Ok(handle.mappings()?.unwrap_or_default())
}

fn sync_job(
    session: &EventSession<'_>,
    handle: &mut ProviderHandle,
    event: &EventData,
    job: &JobInput,
    progress: &Progress,
) -> JobResult {
    let order = match parse_order(&job.order_data, event) {
        Ok(order) => order,
        Err(e) => {
            let error = SyncError::internal(format!(
                "stored order {} is unreadable: {e}; re-import it",
                job.order_code
            ));
            return JobResult::Failed(error, None);
        }
    };
    let mut heartbeat = || progress.beat();
    match sync_order(session, handle, &order, &mut heartbeat) {
        Ok(synced) => JobResult::Synced(synced),
        Err(error) if error.kind == ErrorKind::Recoverable => {
            let delay = handle
                .next_retry_delay(job.failed_attempts.saturating_add(1))
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "provider next_retry_delay failed; using the host policy");
                    None
                });
            JobResult::Failed(error, delay)
        }
        Err(error) => JobResult::Failed(error, None),
    }
}

/// Turns a job's result into the queue transition (spec §2.6 plus DESIGN.md).
fn outcome_of(
    result: JobResult,
    job: &ClaimedJob,
    policy: &super::RetryPolicy,
    max_attempts: u32,
    max_snoozes: u32,
    now: Timestamp,
) -> Outcome {
    let (error, provider_delay) = match result {
        JobResult::Synced(synced) => {
            return Outcome::Success {
                results: synced.results,
                log: synced.log,
            }
        }
        JobResult::Failed(error, delay) => (error, delay),
    };
    let messages: Vec<String> = error.messages.iter().map(|m| m.to_string()).collect();
    let full_message = error
        .full_message
        .as_ref()
        .map(|m| m.to_string())
        .into_option();
    let mode = match error.kind {
        ErrorKind::Recoverable => {
            if let (Some(secs), true) = (
                error.retry_after_secs.into_option(),
                job.snoozes < max_snoozes,
            ) {
                return Outcome::Snooze {
                    until: now.saturating_add(Duration::from_secs(secs)),
                    messages,
                };
            }
            let attempt = job.failed_attempts.saturating_add(1);
            let delay = match provider_delay {
                Some(secs) => Duration::from_secs(secs),
                None => policy.delay(attempt, job.claim.id.0 as u64 ^ u64::from(attempt) << 32),
            };
            return Outcome::Recoverable {
                retry_at: now.saturating_add(delay),
                max_attempts,
                messages,
                full_message,
            };
        }
        ErrorKind::Permanent => FailureMode::Permanent,
        ErrorKind::Config => FailureMode::Config,
        ErrorKind::Internal => FailureMode::Internal,
    };
    Outcome::Failed {
        mode,
        messages,
        full_message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Claim, OrderId};

    fn group_of(n: usize) -> Group {
        let jobs = (0..n)
            .map(|i| ClaimedJob {
                claim: Claim {
                    id: QueueId(i as i64),
                    claim_no: 1,
                    order: OrderId(i as i64),
                    event: "e".into(),
                    order_code: format!("C{i}"),
                    provider: "p".into(),
                },
                order_status: "n".into(),
                order_data: "{}".into(),
                triggered_by: "t".into(),
                triggered_at: Timestamp::from_unix_secs(0),
                failed_attempts: 0,
                snoozes: 0,
                not_before: Timestamp::from_unix_secs(0),
                lease_until: Timestamp::from_unix_secs(0),
            })
            .collect();
        Group {
            provider: "p".into(),
            event: "e".into(),
            jobs,
        }
    }

    fn sizes(parts: &[Group]) -> Vec<usize> {
        parts.iter().map(|g| g.jobs.len()).collect()
    }

    #[test]
    fn small_groups_stay_whole_so_one_provider_instance_serves_them() {
        assert_eq!(sizes(&split_group(group_of(100), 4)), [100]);
    }

    #[test]
    fn large_groups_split_into_at_most_concurrency_parts_in_claim_order() {
        let parts = split_group(group_of(1000), 4);
        assert_eq!(sizes(&parts), [250, 250, 250, 250]);
        let ids: Vec<i64> = parts
            .iter()
            .flat_map(|g| g.jobs.iter().map(|j| j.claim.id.0))
            .collect();
        assert_eq!(ids, (0..1000).collect::<Vec<_>>());
        assert_eq!(sizes(&split_group(group_of(1000), 1)), [1000]);
    }

    fn completion(id: i64) -> Completion {
        let job = group_of(id as usize + 1).jobs.remove(id as usize);
        Completion {
            claim: job.claim,
            outcome: Outcome::ProviderMissing,
        }
    }

    #[test]
    fn a_job_counts_as_a_problem_by_its_latest_outcome_and_expired_leases_always_do() {
        let mut summary = RunSummary::default();
        let (a, b) = (completion(0), completion(1));
        let parked = Applied::Parked(FailureMode::ProviderMissing);
        summary.add(&[a.clone(), b.clone()], &[Applied::Rescheduled, parked]);
        assert_eq!(summary.problems, 2);
        summary.add(&[a], &[Applied::Deleted]);
        assert_eq!(
            summary.problems, 1,
            "a retried job that then succeeded is fine"
        );
        summary.add_expired(3);
        assert_eq!((summary.problems, summary.parked), (4, 4));
        summary.add(&[b], &[Applied::Deleted]);
        assert_eq!(summary.problems, 3);
    }
}
