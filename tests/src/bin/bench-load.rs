//! Load benchmark of the booking saga: prints figures, asserts nothing.
//!
//! `cargo run --release -p tests --bin bench-load -- [seconds] [clients] [rate] [modes] [kinds]`
//! (defaults 10 s, 16 clients, 20 bookings/s, every mode and kind; `modes` picks some of
//! `serial,closed,open,paired,waiters`, `kinds` some of `bare,noop,searchable,booking`). On the test platform (real API, workers, Temporal dev
//! server with the project's flags, local PostgreSQL), in one run:
//! - one at a time: a single traveller books, waits for the outcome, and books again;
//! - closed loop: `clients` travellers each book, wait for the outcome, and book again;
//! - open loop: bookings arrive at `rate` per second whatever the platform's pace;
//! - paired closed loop: the no-op saga and the booking saga take turns in closed-loop
//!   windows (A B B A, twice), so a drift of the machine's speed during the run weighs on
//!   both alike, and the throughput ratio is read over all their windows;
//! - baselines on the same server and worker settings: a workflow running the same number
//!   of no-op activities (5) over three task queues, and a bare workflow start and finish,
//!   driven the same ways straight through the Temporal client; and, for reference, the
//!   no-op saga writing the booking saga's search attributes (what those visibility writes
//!   alone cost);
//! - one at a time, the API's cheapest answer (`GET /healthz`, no database): what any
//!   answer of the API costs, which a bare start over gRPC does not pay;
//! - waiters: [`WAITERS`] travellers at once long-polling (`?wait=10`) the status of
//!   bookings still in flight (checkouts awaiting payment, some still starting), and how
//!   many answers were not a 200;
//! - CPU and resident memory of this process (API, workers, gateway), the Temporal server and
//!   PostgreSQL over each measurement;
//! - the resident memory at rest of each deployable binary (API, one worker per context),
//!   started as its own process next to this one;
//! - where the time of a saga went, one at a time, read from the workflows' histories;
//! - the targets, each as a ratio to its baseline.
//!
//! Throughput counts what completed within each measurement's window; latencies count
//! every request, including those that finished after the window closed.
//!
//! A booking's end is its saga's result, read the way the baselines read theirs (a long poll
//! on the workflow's result), so polling adds nothing to either side.

use serde_json::Value;
use std::{
    collections::{BTreeMap, VecDeque},
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
    runtime::RuntimeOptions,
};
use tests::{TestPlatform, TestPlatformOptions, booking_body};

/// The task queues of the baseline, one per context like the saga's.
const QUEUES: [&str; 3] = ["bench-booking", "bench-inventory", "bench-payment"];

pub struct Noop;

#[activities]
impl Noop {
    #[activity(name = "bench.noop")]
    pub async fn noop(_ctx: ActivityContext, step: u32) -> Result<u32, ActivityError> {
        Ok(step)
    }
}

/// The saga's steps without their work, each an activity on its context's task queue: hold,
/// record, charge, confirm hold, confirm booking. (The booking saga itself runs its own
/// context's two steps, record and confirm booking, as local activities; the baseline is
/// the plain five activities.)
/// With `search_attributes`, it also writes what the booking saga writes to the server's
/// visibility store: it is started with the booking's four attributes (see
/// [`searchable_start`]) and sets the status once, when it comes to rest at the end.
#[workflow]
#[derive(Default)]
pub struct NoopSaga;

#[workflow_methods]
impl NoopSaga {
    #[run(name = "BenchNoopSaga")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, search_attributes: bool) -> WorkflowResult<()> {
        for (step, queue) in [1, 0, 2, 1, 0].into_iter().enumerate() {
            let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30))
                .task_queue(QUEUES[queue].to_string())
                .build();
            ctx.execute_activity(Noop::noop, step as u32, options).await?;
        }
        if search_attributes {
            ctx.upsert_search_attributes([contracts::temporal::BOOKING_STATUS.value_set("confirmed".to_string())]);
        }
        Ok(())
    }
}

/// The booking saga's attributes at its start, as the API sets them.
fn searchable_start(workflow_id: &str) -> temporalio_common::search_attributes::SearchAttributes {
    use contracts::temporal::{BOOKING_CHECK_IN, BOOKING_CUSTOMER, BOOKING_REF, BOOKING_STATUS};
    temporalio_common::search_attributes::SearchAttributes::new([
        BOOKING_REF.value_set(workflow_id.to_string()),
        BOOKING_STATUS.value_set("pending".to_string()),
        BOOKING_CUSTOMER.value_set("bench".to_string()),
        BOOKING_CHECK_IN.value_set(temporalio_common::search_attributes::Timestamp::new(1_800_000_000, 0)),
    ])
}

#[workflow]
#[derive(Default)]
pub struct Bare;

#[workflow_methods]
impl Bare {
    #[run(name = "BenchBare")]
    pub async fn run(_ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        Ok(())
    }
}

#[derive(Default)]
struct Tally {
    started: u64,
    completed: u64,
    /// Completions before the measurement's window closed: the throughput.
    completed_in_window: u64,
    window_end: Option<Instant>,
    start_latency: Vec<Duration>,
    end_to_end: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    /// The last workflows that completed (the steady state), for [`where_the_time_went`].
    kept: VecDeque<Kept>,
}

type Shared = Arc<Mutex<Tally>>;

/// One finished unit of work.
struct Done {
    start: Duration,
    end_to_end: Duration,
    kept: Kept,
}

/// A finished workflow, and when its request began and its result arrived by the wall
/// clock, which the server's history events also use (same machine).
struct Kept {
    workflow_id: String,
    began: SystemTime,
    ended: SystemTime,
}

impl Kept {
    /// Call right after the result arrived.
    fn ended(workflow_id: String, began: Instant) -> Self {
        let ended = SystemTime::now();
        Kept { workflow_id, began: ended - began.elapsed(), ended }
    }
}

/// One unit of work: what it took, or the kind of error.
trait Unit: Fn(u64) -> Self::Fut + Send + Sync + 'static {
    type Fut: Future<Output = Result<Done, String>> + Send;
}
impl<F, Fut> Unit for F
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Done, String>> + Send,
{
    type Fut = Fut;
}

/// How many workflow ids a tally keeps for the breakdown of where the time went.
const KEPT_WORKFLOW_IDS: usize = 40;

fn record(tally: &Shared, result: Result<Done, String>) {
    let mut t = tally.lock().unwrap();
    t.started += 1;
    match result {
        Ok(Done { start, end_to_end: end, kept }) => {
            if t.kept.len() == KEPT_WORKFLOW_IDS {
                t.kept.pop_front();
            }
            t.kept.push_back(kept);
            t.completed += 1;
            if t.window_end.is_none_or(|end| Instant::now() <= end) {
                t.completed_in_window += 1;
            }
            t.start_latency.push(start);
            t.end_to_end.push(end);
        }
        Err(kind) => *t.errors.entry(kind).or_default() += 1,
    }
}

async fn closed_loop(duration: Duration, clients: u64, unit: Arc<impl Unit>) -> Tally {
    let until = Instant::now() + duration;
    let tally = Shared::new(Mutex::new(Tally { window_end: Some(until), ..Tally::default() }));
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (tally, unit) = (tally.clone(), unit.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = client;
            while Instant::now() < until {
                record(&tally, unit(n).await);
                n += clients;
            }
        }));
    }
    futures::future::join_all(tasks).await;
    Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap()
}

async fn open_loop(duration: Duration, rate: f64, unit: Arc<impl Unit>) -> Tally {
    let started = Instant::now();
    let tally = Shared::new(Mutex::new(Tally { window_end: Some(started + duration), ..Tally::default() }));
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut tasks = Vec::new();
    let mut n = 0u64;
    while started.elapsed() < duration {
        let (tally, unit) = (tally.clone(), unit.clone());
        tasks.push(tokio::spawn(async move { record(&tally, unit(n).await) }));
        n += 1;
        tokio::time::sleep_until((started + every * u32::try_from(n).unwrap_or(u32::MAX)).into()).await;
    }
    futures::future::join_all(tasks).await;
    Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap()
}

/// Completions per second of the closed loop's windows, the no-op saga's and the booking's
/// in [`PAIRED_ORDER`], each window as long as the other measurements'.
async fn paired_closed_loop(
    duration: Duration,
    clients: u64,
    noop: Arc<impl Unit>,
    booking: Arc<impl Unit>,
) -> Vec<(Kind, f64)> {
    let mut rates = Vec::new();
    for kind in PAIRED_ORDER {
        let tally = match kind {
            Kind::Booking => closed_loop(duration, clients, booking.clone()).await,
            _ => closed_loop(duration, clients, noop.clone()).await,
        };
        if !tally.errors.is_empty() {
            println!("  errors ({}): {:?}", kind.label(), tally.errors);
        }
        rates.push((kind, tally.completed_in_window as f64 / duration.as_secs_f64()));
    }
    rates
}

/// The booking's throughput over the no-op saga's, pooled over every window of the paired
/// closed loop, and the lowest and highest ratio of its pairs of neighbouring windows.
fn paired_ratio(rates: &[(Kind, f64)]) -> (f64, f64, f64) {
    let total = |kind| rates.iter().filter(|(k, _)| *k == kind).map(|(_, r)| r).sum::<f64>();
    let pooled = total(Kind::Booking) / total(Kind::Noop);
    let pairs: Vec<f64> = rates
        .chunks(2)
        .map(|pair| {
            let of = |kind| pair.iter().find(|(k, _)| *k == kind).map_or(f64::NAN, |(_, r)| *r);
            of(Kind::Booking) / of(Kind::Noop)
        })
        .collect();
    let low = pairs.iter().copied().fold(f64::INFINITY, f64::min);
    let high = pairs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (pooled, low, high)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Clock ticks of CPU and resident kB of a set of processes.
#[derive(Clone, Copy, Default)]
struct Usage {
    ticks: u64,
    rss_kb: u64,
}

fn usage_of(filter: impl Fn(u32, u32, &str) -> bool) -> Usage {
    let mut total = Usage::default();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
        let comm = head.split_once(" (").map_or("", |(_, c)| c);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ppid: u32 = fields.get(1).and_then(|f| f.parse().ok()).unwrap_or(0);
        if !filter(pid, ppid, comm) {
            continue;
        }
        let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
        let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        total.ticks += utime + stime;
        total.rss_kb += rss;
    }
    total
}

/// The parts of this process, by the names of their threads: the API (with the sandbox
/// gateway, which shares its runtime), each context's worker, the baseline's workers, and
/// the rest (the load's own HTTP and Temporal clients).
const PARTS: [(&str, &str); 8] = [
    ("tt-api", "API (and sandbox gateway)"),
    ("tt-w-booking", "booking worker"),
    // The SDK runs each worker's workflows on a thread of its own, by this name: in a
    // booking run only the booking worker's is busy (the partner's and the baseline's idle).
    ("workflow-proces", "workflow threads"),
    ("tt-w-inventory", "inventory worker"),
    ("tt-w-payment", "payment worker"),
    ("tt-w-partner", "partner worker"),
    ("bench-baseline", "baseline workers"),
    ("", "the load's clients and the rest"),
];

/// How many of [`PARTS`] are the platform's own: the API and the workers.
const PLATFORM_PARTS: usize = 6;

/// Clock ticks of CPU of each of [`PARTS`], from this process's threads.
fn parts_cpu() -> [u64; PARTS.len()] {
    let mut ticks = [0; PARTS.len()];
    for entry in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
        let comm = head.split_once(" (").map_or("", |(_, c)| c);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let cpu: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
        let part = PARTS.iter().position(|(prefix, _)| comm.starts_with(prefix)).unwrap_or(PARTS.len() - 1);
        ticks[part] += cpu;
    }
    ticks
}

/// What the machine had spent when a measurement began.
struct Before {
    processes: [(&'static str, Usage); 3],
    parts: [u64; PARTS.len()],
}

fn before() -> Before {
    Before { processes: processes(), parts: parts_cpu() }
}

fn processes() -> [(&'static str, Usage); 3] {
    let me = std::process::id();
    [
        ("this process (API, workers, gateway)", usage_of(|pid, _, _| pid == me)),
        ("Temporal dev server", usage_of(|_, ppid, comm| ppid == me && comm.starts_with("temporal"))),
        ("PostgreSQL (all backends)", usage_of(|_, _, comm| comm == "postgres")),
    ]
}

fn report(
    label: &str,
    tally: &mut Tally,
    window: Duration,
    elapsed: Duration,
    before: &Before,
    baseline: Option<f64>,
) -> (f64, Option<f64>) {
    let after = processes();
    let parts_after = parts_cpu();
    let before_parts = &before.parts;
    let before = &before.processes;
    tally.start_latency.sort();
    tally.end_to_end.sort();
    let secs = elapsed.as_secs_f64();
    let rate = tally.completed_in_window as f64 / window.as_secs_f64();
    let ratio = baseline.map(|b| format!(" ({:.2}x the baseline)", rate / b)).unwrap_or_default();
    println!("\n{label}");
    println!(
        "  started {:.1}/s, completed {:.1}/s{ratio} in the window, the last after {secs:.1} s; start p50 {:.1} ms p99 {:.1} ms; end to end p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms max {:.1} ms",
        tally.started as f64 / window.as_secs_f64(),
        rate,
        pct(&tally.start_latency, 0.5),
        pct(&tally.start_latency, 0.99),
        pct(&tally.end_to_end, 0.5),
        pct(&tally.end_to_end, 0.95),
        pct(&tally.end_to_end, 0.99),
        pct(&tally.end_to_end, 1.0),
    );
    if !tally.errors.is_empty() {
        println!("  errors: {:?}", tally.errors);
    }
    let hz = 100.0;
    for ((name, b), (_, a)) in before.iter().zip(after.iter()) {
        println!(
            "  {name}: CPU {:.0} % of a core, RSS {:.0} MiB",
            (a.ticks.saturating_sub(b.ticks)) as f64 / hz / secs * 100.0,
            a.rss_kb as f64 / 1024.0
        );
    }
    // Everything this process did (the API, the workers, the gateway and the load's own
    // client) over every run that completed: what each costs the machine's two cores.
    let completed = tally.end_to_end.len();
    let mut platform_ms = None;
    if completed > 0 {
        let per_run = |ticks: u64| ticks as f64 / hz * 1000.0 / completed as f64;
        let own_ms = per_run(after[0].1.ticks.saturating_sub(before[0].1.ticks));
        println!("  CPU of this process per completed run: {own_ms:.1} ms");
        let spent: Vec<f64> =
            parts_after.iter().zip(before_parts).map(|(a, b)| per_run(a.saturating_sub(*b))).collect();
        let by_part: Vec<String> = PARTS
            .iter()
            .zip(&spent)
            .filter(|(_, ms)| **ms > 0.0)
            .map(|((_, name), ms)| format!("{name} {ms:.1}"))
            .collect();
        println!("    by part (ms): {}", by_part.join(", "));
        platform_ms = Some(spent[..PLATFORM_PARTS].iter().sum());
    }
    (rate, platform_ms)
}

fn run_baseline_workers(platform: Arc<TestPlatform>) {
    let thread = std::thread::Builder::new().name("bench-baseline".into());
    let _ = thread.spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-baseline")
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let client = platform.connect_temporal().await.unwrap();
            let sdk = Runtime::from_current_tokio(RuntimeOptions::default()).unwrap();
            let mut workers = Vec::new();
            for queue in QUEUES {
                let mut options = WorkerOptions::new(queue);
                if queue == QUEUES[0] {
                    options = options.register_workflow::<NoopSaga>().unwrap().register_workflow::<Bare>().unwrap();
                }
                let options =
                    options.register_activities(Noop).graceful_shutdown_period(Duration::from_secs(2)).build();
                workers.push(Worker::new(&sdk, client.clone(), options).unwrap());
            }
            let _ = futures::future::try_join_all(workers.iter_mut().map(Worker::run)).await;
        });
    });
}

/// The deployable binaries whose memory at rest is measured, with what each needs.
const AT_REST: [(&str, &[(&str, &str)]); 5] = [
    ("api", &[("TT_API_ADDR", "127.0.0.1:0")]),
    ("booking-worker", &[("TT_METRICS_ADDR", "127.0.0.1:0")]),
    ("inventory-worker", &[("TT_METRICS_ADDR", "127.0.0.1:0")]),
    ("payment-worker", &[("TT_METRICS_ADDR", "127.0.0.1:0")]),
    ("partner-worker", &[("TT_METRICS_ADDR", "127.0.0.1:0")]),
];

/// Starts each deployable binary built next to this one against the test platform, lets it
/// settle, and reads its resident memory: (binary, MiB or why not).
async fn memory_at_rest(platform: &TestPlatform) -> Vec<(&'static str, Result<f64, String>)> {
    let dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(std::path::Path::to_path_buf));
    let keys = tests::test_keys_file().ok();
    let mut out = Vec::new();
    for (binary, extra) in AT_REST {
        let Some(path) = dir.as_ref().map(|d| d.join(binary)).filter(|p| p.exists()) else {
            out.push((binary, Err("not built (cargo build --bins with the same profile)".to_string())));
            continue;
        };
        let mut command = std::process::Command::new(path);
        command.envs(platform.worker_process_env()).envs(extra.iter().copied()).env("RUST_LOG", "warn");
        command.env("TT_GATEWAY_WEBHOOK_SECRET", "sandbox_webhook_secret");
        if let Some(keys) = &keys {
            command.env("TT_AUTH_KEYS_FILE", keys);
        }
        let Ok(mut child) = command.stdout(std::process::Stdio::null()).spawn() else {
            out.push((binary, Err("did not start".to_string())));
            continue;
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        let rss = match child.try_wait() {
            Ok(Some(status)) => Err(format!("exited: {status}")),
            _ => Ok(usage_of(|pid, _, _| pid == child.id()).rss_kb as f64 / 1024.0),
        };
        let _ = child.kill();
        let _ = child.wait();
        out.push((binary, rss));
    }
    out
}

/// Milliseconds per part of a workflow's life, summed over its history.
type Parts = BTreeMap<String, f64>;

/// Splits each workflow's history into where its time went: the server handing a workflow
/// task or an activity to a worker (from scheduled to started), the worker running the
/// workflow code (started to completed), and each activity's own run (by activity type).
/// "server, between events" is the rest of the span from the first event to the last.
/// Outside the history: from the request to the first event (the API's work before the
/// start, and the start itself) and from the last event to the result in the client's hands.
async fn where_the_time_went(client: &temporalio_client::Client, kept: &[Kept]) -> anyhow::Result<Vec<Parts>> {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let wall_ms = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let mut all = Vec::new();
    for Kept { workflow_id: id, began, ended } in kept {
        let handle = client.get_workflow_handle::<NoopSaga>(id.clone());
        let events = handle.fetch_history(Default::default()).into_events().await?;
        let at =
            |i: usize| events[i].event_time.as_ref().map_or(0.0, |t| t.seconds as f64 * 1e3 + f64::from(t.nanos) / 1e6);
        let index: BTreeMap<i64, usize> = events.iter().enumerate().map(|(i, e)| (e.event_id, i)).collect();
        let since =
            |scheduled_event_id: i64, now: usize| index.get(&scheduled_event_id).map_or(0.0, |&i| at(now) - at(i));
        let mut parts = Parts::new();
        let mut activity_types = BTreeMap::new();
        let mut counts = Parts::new();
        for (i, event) in events.iter().enumerate() {
            let (part, ms) = match &event.attributes {
                Some(Attributes::WorkflowTaskStartedEventAttributes(a)) => {
                    *counts.entry("workflow tasks".to_string()).or_default() += 1.0;
                    ("server: workflow task to a worker".to_string(), since(a.scheduled_event_id, i))
                }
                Some(Attributes::WorkflowExecutionSignaledEventAttributes(_)) => {
                    *counts.entry("signals".to_string()).or_default() += 1.0;
                    continue;
                }
                Some(Attributes::UpsertWorkflowSearchAttributesEventAttributes(_)) => {
                    *counts.entry("search attribute updates".to_string()).or_default() += 1.0;
                    continue;
                }
                Some(Attributes::WorkflowTaskCompletedEventAttributes(a)) => {
                    ("worker: workflow code".to_string(), since(a.started_event_id, i))
                }
                Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => {
                    let name = a.activity_type.as_ref().map_or("?", |t| t.name.as_str());
                    activity_types.insert(event.event_id, name.trim_start_matches('_').to_string());
                    continue;
                }
                Some(Attributes::ActivityTaskStartedEventAttributes(a)) => {
                    ("server: activity task to a worker".to_string(), since(a.scheduled_event_id, i))
                }
                Some(Attributes::ActivityTaskCompletedEventAttributes(a)) => {
                    let name = activity_types.get(&a.scheduled_event_id).cloned().unwrap_or_default();
                    (format!("activity: {name}"), since(a.started_event_id, i))
                }
                _ => continue,
            };
            *parts.entry(part).or_default() += ms;
        }
        let span = if events.is_empty() { 0.0 } else { at(events.len() - 1) - at(0) };
        let accounted: f64 = parts.values().sum();
        parts.insert("server, between events".to_string(), span - accounted);
        parts.insert("first event to last".to_string(), span);
        if !events.is_empty() {
            parts.insert("client: request to first event".to_string(), at(0) - wall_ms(*began));
            parts.insert("client: last event to result".to_string(), wall_ms(*ended) - at(events.len() - 1));
        }
        parts.insert("count: events".to_string(), events.len() as f64);
        let bytes: usize = events.iter().map(prost::Message::encoded_len).sum();
        parts.insert("count: history bytes".to_string(), bytes as f64);
        for kind in ["workflow tasks", "signals", "search attribute updates"] {
            parts.insert(format!("count: {kind}"), counts.get(kind).copied().unwrap_or(0.0));
        }
        all.push(parts);
    }
    Ok(all)
}

/// One row per part, one column per kind of workflow: the median of each part.
fn print_breakdown(columns: &[(&str, Vec<Parts>)]) {
    let mut names: Vec<String> =
        columns.iter().flat_map(|(_, all)| all.iter().flat_map(|p| p.keys().cloned())).collect();
    names.sort();
    names.dedup();
    // Activities first, then the worker, then the server, and the span last.
    let order = |n: &String| match n.split(':').next() {
        _ if n == "first event to last" => 4,
        Some("client") => 5,
        Some("count") => 6,
        Some("activity") => 0,
        Some("worker") => 1,
        _ if n.starts_with("server") => 2,
        _ => 3,
    };
    names.sort_by_key(|n| (order(n), n.clone()));
    print!("  {:<44}", "ms, or a count (median)");
    for (label, _) in columns {
        print!(" {:>28}", label.split(" (").next().unwrap_or(label));
    }
    println!();
    for name in names {
        print!("  {name:<44}");
        for (_, all) in columns {
            let mut values: Vec<Duration> =
                all.iter().filter_map(|p| p.get(&name)).map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1e3)).collect();
            values.sort();
            if values.is_empty() {
                print!(" {:>28}", "-");
            } else if name.starts_with("count") {
                // Counts travel as milliseconds through the same median; print them whole.
                print!(" {:>28.0}", pct(&values, 0.5));
            } else {
                print!(" {:>28.1}", pct(&values, 0.5));
            }
        }
        println!();
    }
}

/// The ways the load is driven: one at a time, closed loop, open loop, and the closed loop
/// with the baseline and the booking taking turns.
const MODES: [&str; 5] = ["serial", "closed", "open", "paired", "waiters"];
/// The paired closed loop's order of windows: A B B A, twice.
const PAIRED_ORDER: [Kind; 8] =
    [Kind::Noop, Kind::Booking, Kind::Booking, Kind::Noop, Kind::Noop, Kind::Booking, Kind::Booking, Kind::Noop];

/// What a measurement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Bare,
    Noop,
    NoopSearchable,
    Booking,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Bare, Kind::Noop, Kind::NoopSearchable, Kind::Booking];

    /// The kind's name on the command line.
    fn name(self) -> &'static str {
        match self {
            Kind::Bare => "bare",
            Kind::Noop => "noop",
            Kind::NoopSearchable => "searchable",
            Kind::Booking => "booking",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Bare => "bare workflow",
            Kind::Noop => "no-op saga (5 activities, baseline)",
            Kind::NoopSearchable => "no-op saga + search attributes",
            Kind::Booking => "booking saga via the API",
        }
    }
}

/// What one measurement found.
struct Figures {
    rate: f64,
    /// CPU of the API and the workers per completed run, in ms.
    platform_cpu_ms: Option<f64>,
    start_p50_ms: f64,
    end_p50_ms: f64,
}

/// Round trips of the cheapest request the API answers, one at a time for `duration`:
/// HTTP over loopback, the middleware every request passes through, and no database. Also
/// how many requests failed, which are not timed.
async fn api_round_trips(platform: &TestPlatform, duration: Duration) -> (Vec<Duration>, u64) {
    let until = Instant::now() + duration;
    let (mut round_trips, mut failed) = (Vec::new(), 0);
    while Instant::now() < until {
        let began = Instant::now();
        match platform.http.get(format!("{}/healthz", platform.api_url)).send().await {
            Ok(answer) if answer.status().is_success() => round_trips.push(began.elapsed()),
            _ => failed += 1,
        }
    }
    (round_trips, failed)
}

fn figures(tally: &Tally, rate: f64, platform_cpu_ms: Option<f64>) -> Figures {
    Figures {
        rate,
        platform_cpu_ms,
        start_p50_ms: pct(&tally.start_latency, 0.5),
        end_p50_ms: pct(&tally.end_to_end, 0.5),
    }
}

fn target(name: &str, value: Option<f64>, unit: &str, limit: f64, at_most: bool) {
    let Some(value) = value else {
        println!("  {name}: not measured in this run");
        return;
    };
    let met = if at_most { value <= limit } else { value >= limit };
    let bound = if at_most { "at most" } else { "at least" };
    println!("  {name}: {value:.2}{unit} (target {bound} {limit}{unit}): {}", if met { "met" } else { "NOT met" });
}

/// How many travellers long-poll at once in the waiters mode, and over how many bookings.
const WAITERS: usize = 500;
const WAITED_BOOKINGS: usize = 100;

/// [`WAITERS`] long polls at once on [`WAITED_BOOKINGS`] checkout bookings posted just
/// before (awaiting payment, or still starting): every answer should be a 200, live or the
/// last state known (with `Retry-After`). Prints the count of each answer and their times.
async fn waiters(platform: &Arc<TestPlatform>) -> anyhow::Result<()> {
    println!("\nwaiters: {WAITERS} long polls (?wait=10) at once on {WAITED_BOOKINGS} checkout bookings in flight");
    let posted = futures::future::join_all((0..WAITED_BOOKINGS).map(|n| {
        let platform = platform.clone();
        async move {
            let body = tests::checkout_body(1 + (n % 110) as i64, 1);
            let response = platform.post_booking(&body, Some(&uuid::Uuid::new_v4().to_string())).await?;
            anyhow::ensure!(response.status() == 202, "booking refused: {}", response.status());
            let accepted: Value = response.json().await?;
            Ok::<_, anyhow::Error>(accepted["booking_ref"].as_str().unwrap_or_default().to_string())
        }
    }))
    .await;
    let refs: Vec<String> = posted.into_iter().collect::<Result<_, _>>()?;
    let began = Instant::now();
    let answers = futures::future::join_all((0..WAITERS).map(|n| {
        let (platform, booking_ref) = (platform.clone(), refs[n % refs.len()].clone());
        async move {
            let asked = Instant::now();
            let url = format!("{}/api/bookings/{booking_ref}?wait=10", platform.api_url);
            let answer = platform.http_as(&platform.traveller).get(url).send().await;
            let took = asked.elapsed();
            match answer {
                Ok(r) if r.status() == 200 && r.headers().contains_key("retry-after") => {
                    ("200, last known".to_string(), took)
                }
                Ok(r) if r.status() == 200 => ("200, live".to_string(), took),
                Ok(r) => (format!("error {}", r.status().as_u16()), took),
                Err(e) => (format!("error: {}", if e.is_timeout() { "timed out" } else { "no answer" }), took),
            }
        }
    }))
    .await;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut times: Vec<Duration> = Vec::with_capacity(answers.len());
    for (kind, took) in answers {
        *counts.entry(kind).or_default() += 1;
        times.push(took);
    }
    times.sort();
    let errors: u64 = counts.iter().filter(|(kind, _)| kind.starts_with("error")).map(|(_, n)| n).sum();
    println!(
        "  answers: {}; all within {:.1} s; answer time p50 {:.0} ms p99 {:.0} ms max {:.0} ms",
        counts.iter().map(|(kind, n)| format!("{kind} {n}")).collect::<Vec<_>>().join(", "),
        began.elapsed().as_secs_f64(),
        pct(&times, 0.5),
        pct(&times, 0.99),
        pct(&times, 1.0)
    );
    target("waiters, answers other than 200", Some(errors as f64), "", 0.0, true);
    Ok(())
}

/// The test platform as deployed, one part per runtime: the API on threads of its own, each
/// context's worker on its own (as one process per context would), so the CPU of each is
/// read from its threads.
fn spawn_platform() -> anyhow::Result<TestPlatform> {
    let api =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("tt-api").enable_all().build()?;
    let (api, platform) = std::thread::spawn(move || {
        let options =
            TestPlatformOptions { rooms_per_night: 1_000_000, worker_contexts: Vec::new(), ..Default::default() };
        let platform = api.block_on(TestPlatform::spawn_with(options));
        (api, platform)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the platform's start panicked"))?;
    // The API's tasks run on this runtime's threads for the rest of the run.
    std::mem::forget(api);
    let mut platform = platform?;
    for context in workers::WorkerContext::ALL {
        platform.start_workers(&[context])?;
    }
    Ok(platform)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let clients: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let rate: f64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(20.0);
    // A fourth argument runs some of the ways only, e.g. `serial` or `serial,closed`.
    let modes: Vec<&str> = match args.get(4) {
        None => MODES.to_vec(),
        Some(list) => list
            .split(',')
            .map(|m| MODES.iter().copied().find(|known| *known == m.trim()))
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow::anyhow!("modes are a comma-separated list of {}", MODES.join(", ")))?,
    };
    // A fifth runs some of the kinds only, e.g. `booking` for a profile of the booking alone
    // (the baselines' ratios then read "not measured").
    let kinds: Vec<Kind> = match args.get(5) {
        None => Kind::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|k| Kind::ALL.into_iter().find(|known| known.name() == k.trim()))
            .collect::<Option<_>>()
            .ok_or_else(|| anyhow::anyhow!("kinds are a comma-separated list of bare, noop, searchable, booking"))?,
    };
    let duration = Duration::from_secs(seconds);
    let profile = if cfg!(debug_assertions) { "dev profile (slower; use --release)" } else { "release profile" };
    println!(
        "bench-load: {seconds} s per measurement, {clients} closed-loop clients, open loop at {rate}/s, {} cores, {profile}",
        std::thread::available_parallelism()?
    );
    println!("Temporal dev server (in memory) with these flags of temporal/dev-server.flags:");
    for flag in tests::dev_server_flags()?.chunks(2).filter(|f| f[0] != "--search-attribute") {
        println!("  {}", flag.join(" "));
    }
    let gzip = platform::temporal::grpc_gzip_from_env()?;
    println!(
        "API and workers: in this process as the test platform runs them (SDK default slots and pollers, PostgreSQL pools of 4, gRPC gzip {})",
        if gzip { "on" } else { "off" }
    );
    let platform = Arc::new(spawn_platform()?);
    run_baseline_workers(platform.clone());
    // The load's own Temporal client, on this runtime, so its work is not counted as the API's.
    let load_client = platform.connect_temporal().await?;

    let booking = {
        let (platform, load_client) = (platform.clone(), load_client.clone());
        Arc::new(move |n: u64| {
            let (platform, load_client) = (platform.clone(), load_client.clone());
            async move {
                // The test platform sells 120 nights from yesterday.
                let body = booking_body(1 + (n % 110) as i64, 1, 1, "tok_success");
                // As a client should: with a key, so a retry could find the same booking.
                let key = uuid::Uuid::new_v4().to_string();
                let began = Instant::now();
                let response = platform.post_booking(&body, Some(&key)).await.map_err(|_| "http".to_string())?;
                let start = began.elapsed();
                if response.status() != 202 {
                    return Err(format!("api {}", response.status()));
                }
                let r: Value = response.json().await.map_err(|_| "body".to_string())?;
                let booking_ref = r["booking_ref"].as_str().unwrap_or_default().to_string();
                let workflow_id = format!("booking-{booking_ref}");
                let saga = load_client.get_workflow_handle::<sagas::BookingWorkflow>(workflow_id.clone());
                let outcome = saga
                    .get_result(WorkflowGetResultOptions::default())
                    .await
                    .map_err(|_| "saga result".to_string())?;
                if outcome.status != contracts::saga::BookingStatus::Confirmed {
                    let code = outcome.failure.map(|f| f.code).unwrap_or_default();
                    return Err(format!("booking {}: {code}", outcome.status.as_str()));
                }
                Ok(Done { start, end_to_end: began.elapsed(), kept: Kept::ended(workflow_id, began) })
            }
        })
    };
    let workflow = |kind: Kind| {
        let client = load_client.clone();
        Arc::new(move |n: u64| {
            let client = client.clone();
            async move {
                let id = format!("bench-{kind:?}-{n}-{}", uuid::Uuid::new_v4());
                let options = match kind {
                    Kind::NoopSearchable => WorkflowStartOptions::new(QUEUES[0], id.clone())
                        .search_attributes(searchable_start(&id))
                        .build(),
                    _ => WorkflowStartOptions::new(QUEUES[0], id.clone()).build(),
                };
                let began = Instant::now();
                let result = if kind == Kind::Bare {
                    let handle =
                        client.start_workflow(Bare::run, (), options).await.map_err(|_| "start".to_string())?;
                    let start = began.elapsed();
                    handle.get_result(WorkflowGetResultOptions::default()).await.map(|_| start)
                } else {
                    let with_search_attributes = kind == Kind::NoopSearchable;
                    let handle = client
                        .start_workflow(NoopSaga::run, with_search_attributes, options)
                        .await
                        .map_err(|_| "start".to_string())?;
                    let start = began.elapsed();
                    handle.get_result(WorkflowGetResultOptions::default()).await.map(|_| start)
                };
                let start = result.map_err(|_| "result".to_string())?;
                Ok(Done { start, end_to_end: began.elapsed(), kept: Kept::ended(id, began) })
            }
        })
    };

    // Warm up every path.
    for n in 0..5 {
        let _ = booking(n).await;
        for kind in [Kind::Bare, Kind::Noop, Kind::NoopSearchable] {
            let _ = workflow(kind)(n).await;
        }
    }
    println!("warmed up");

    let mut found: BTreeMap<(&str, Kind), Figures> = BTreeMap::new();
    let mut kept_by_mode: BTreeMap<&str, Vec<(&str, Vec<Kept>)>> = BTreeMap::new();
    let mut http_floor = None;
    for mode in MODES.into_iter().filter(|m| modes.contains(m) && !matches!(*m, "paired" | "waiters")) {
        let mut base_rate = None;
        for kind in Kind::ALL.into_iter().filter(|k| kinds.contains(k)) {
            let before = before();
            let began = Instant::now();
            let mut tally = match (mode, kind) {
                ("serial", Kind::Booking) => closed_loop(duration, 1, booking.clone()).await,
                ("serial", _) => closed_loop(duration, 1, workflow(kind)).await,
                ("closed", Kind::Booking) => closed_loop(duration, clients, booking.clone()).await,
                ("closed", _) => closed_loop(duration, clients, workflow(kind)).await,
                (_, Kind::Booking) => open_loop(duration, rate, booking.clone()).await,
                _ => open_loop(duration, rate, workflow(kind)).await,
            };
            let title = match mode {
                "serial" => format!("one at a time: {}", kind.label()),
                _ => format!("{mode} loop: {}", kind.label()),
            };
            let compared = matches!(kind, Kind::NoopSearchable | Kind::Booking);
            let (r, platform_cpu_ms) =
                report(&title, &mut tally, duration, began.elapsed(), &before, base_rate.filter(|_| compared));
            if kind == Kind::Noop {
                base_rate = Some(r);
            }
            if mode != "open" && kind != Kind::Bare {
                kept_by_mode.entry(mode).or_default().push((kind.label(), Vec::from(std::mem::take(&mut tally.kept))));
            }
            found.insert((mode, kind), figures(&tally, r, platform_cpu_ms));
        }
        if mode == "serial" {
            // What any answer of the API costs, before the booking's own work: a floor under
            // the API-start figure that a bare start, made over gRPC without the API, does
            // not pay.
            let (mut round_trips, failed) = api_round_trips(&platform, duration).await;
            round_trips.sort();
            let (p50, p99) = (pct(&round_trips, 0.5), pct(&round_trips, 0.99));
            println!(
                "\none at a time: the API's answer with no work (GET /healthz)\n  p50 {p50:.2} ms p99 {p99:.2} ms"
            );
            if failed > 0 {
                println!("  errors: {failed} requests failed");
            }
            http_floor = Some(p50);
        }
    }

    if modes.contains(&"waiters") {
        waiters(&platform).await?;
    }

    let mut paired = None;
    if modes.contains(&"paired") {
        println!("\npaired closed loop: the no-op saga and the booking saga take turns, {seconds} s each");
        let rates = paired_closed_loop(duration, clients, workflow(Kind::Noop), booking.clone()).await;
        let turns: Vec<String> = rates.iter().map(|(kind, rate)| format!("{} {rate:.1}/s", kind.label())).collect();
        println!("  {}", turns.join(", "));
        let (pooled, low, high) = paired_ratio(&rates);
        println!("  booking / no-op saga throughput: {pooled:.2}x over all windows; {low:.2}x to {high:.2}x by pair");
        paired = Some(pooled);
    }

    for mode in MODES.into_iter().filter(|m| kept_by_mode.contains_key(m)) {
        let way = if mode == "serial" { "one at a time" } else { "closed loop" };
        println!(
            "\nwhere the time went, {way}: medians over the last {KEPT_WORKFLOW_IDS} of each, from their histories"
        );
        let mut columns = Vec::new();
        for (label, kept) in &kept_by_mode[mode] {
            columns.push((*label, where_the_time_went(&platform.client, kept).await?));
        }
        print_breakdown(&columns);
    }

    println!("\nresident memory at rest, each binary alone (target under 40 MiB):");
    let at_rest = memory_at_rest(&platform).await;
    for (binary, rss) in &at_rest {
        match rss {
            Ok(mib) => println!("  {binary}: {mib:.1} MiB"),
            Err(why) => println!("  {binary}: {why}"),
        }
    }

    println!("\ntargets, each from this run:");
    let get = |mode, kind| found.get(&(mode, kind));
    let throughput = |mode, kind| Some(get(mode, kind)?.rate / get(mode, Kind::Noop)?.rate);
    let one_at_a_time = |kind| Some(get("serial", kind)?.end_p50_ms / get("serial", Kind::Noop)?.end_p50_ms);
    target("closed loop, booking / no-op saga throughput", throughput("closed", Kind::Booking), "x", 0.9, false);
    target("closed loop, paired windows, booking / no-op saga throughput", paired, "x", 0.9, false);
    target("open loop, booking / no-op saga throughput", throughput("open", Kind::Booking), "x", 0.9, false);
    target("one at a time, booking / no-op saga median request to end", one_at_a_time(Kind::Booking), "x", 1.2, true);
    target(
        "one at a time, API start - bare workflow start, medians",
        get("serial", Kind::Booking).zip(get("serial", Kind::Bare)).map(|(b, bare)| b.start_p50_ms - bare.start_p50_ms),
        " ms",
        1.0,
        true,
    );
    target(
        "closed loop, CPU of the API and the workers per booking",
        get("closed", Kind::Booking).and_then(|f| f.platform_cpu_ms),
        " ms",
        10.0,
        true,
    );
    if let Some(floor) = http_floor {
        println!("    of which any answer of the API costs {floor:.2} ms (GET /healthz, above)");
    }
    let ratio = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.2}x"));
    println!(
        "  for reference, what the booking's search attributes alone cost the no-op saga: throughput {} closed, {} open; one at a time {} the median",
        ratio(throughput("closed", Kind::NoopSearchable)),
        ratio(throughput("open", Kind::NoopSearchable)),
        ratio(one_at_a_time(Kind::NoopSearchable)),
    );
    for (binary, rss) in &at_rest {
        if let Ok(mib) = rss {
            target(&format!("{binary} at rest"), Some(*mib), " MiB", 40.0, true);
        }
    }
    Ok(())
}
