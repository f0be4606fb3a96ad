//! Load benchmark of the booking saga: prints figures, asserts nothing.
//!
//! `cargo run --release -p tests --bin bench-load -- [seconds] [clients] [rate]` (defaults
//! 10 s, 16 clients, 20 bookings/s). On the test platform (real API, workers, Temporal dev
//! server with the project's flags, local PostgreSQL), in one run:
//! - one at a time: a single traveller books, waits for the outcome, and books again;
//! - closed loop: `clients` travellers each book, wait for the outcome, and book again;
//! - open loop: bookings arrive at `rate` per second whatever the platform's pace;
//! - baselines on the same server and worker settings: a workflow running the same number
//!   of no-op activities (5) over three task queues, and a bare workflow start and finish,
//!   driven the same two ways straight through the Temporal client;
//! - CPU and resident memory of this process (API, workers, gateway), the Temporal server and
//!   PostgreSQL over each measurement;
//! - the resident memory at rest of each deployable binary (API, one worker per context),
//!   started as its own process next to this one;
//! - the targets, each as a ratio to its baseline.
//!
//! Throughput counts what completed within each measurement's window; latencies count
//! every request, including those that finished after the window closed.
//!
//! A booking's end is its saga's result, read the way the baselines read theirs (a long poll
//! on the workflow's result), so polling adds nothing to either side.

use serde_json::Value;
use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
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

/// The saga's shape without its work: hold, record, charge, confirm hold, confirm booking.
#[workflow]
#[derive(Default)]
pub struct NoopSaga;

#[workflow_methods]
impl NoopSaga {
    #[run(name = "BenchNoopSaga")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        for (step, queue) in [1, 0, 2, 1, 0].into_iter().enumerate() {
            let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30))
                .task_queue(QUEUES[queue].to_string())
                .build();
            ctx.execute_activity(Noop::noop, step as u32, options).await?;
        }
        Ok(())
    }
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
}

type Shared = Arc<Mutex<Tally>>;

/// One unit of work: `Ok((start latency, end-to-end latency))` or the kind of error.
trait Unit: Fn(u64) -> Self::Fut + Send + Sync + 'static {
    type Fut: Future<Output = Result<(Duration, Duration), String>> + Send;
}
impl<F, Fut> Unit for F
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(Duration, Duration), String>> + Send,
{
    type Fut = Fut;
}

fn record(tally: &Shared, result: Result<(Duration, Duration), String>) {
    let mut t = tally.lock().unwrap();
    t.started += 1;
    match result {
        Ok((start, end)) => {
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
    before: &[(&str, Usage); 3],
    baseline: Option<f64>,
) -> f64 {
    let after = processes();
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
    rate
}

fn run_baseline_workers(client: temporalio_client::Client) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
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

/// What one measurement found.
struct Figures {
    rate: f64,
    start_p50_ms: f64,
    end_p50_ms: f64,
}

fn figures(tally: &Tally, rate: f64) -> Figures {
    Figures { rate, start_p50_ms: pct(&tally.start_latency, 0.5), end_p50_ms: pct(&tally.end_to_end, 0.5) }
}

fn target(name: &str, value: f64, unit: &str, limit: f64, at_most: bool) {
    let met = if at_most { value <= limit } else { value >= limit };
    let bound = if at_most { "at most" } else { "at least" };
    println!("  {name}: {value:.2}{unit} (target {bound} {limit}{unit}): {}", if met { "met" } else { "NOT met" });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let clients: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let rate: f64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(20.0);
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
    println!(
        "API and workers: in this process as the test platform runs them (SDK default slots and pollers, PostgreSQL pools of 4)"
    );
    let options = TestPlatformOptions { rooms_per_night: 1_000_000, ..Default::default() };
    let platform = Arc::new(TestPlatform::spawn_with(options).await?);
    run_baseline_workers(platform.client.clone());

    let booking = {
        let platform = platform.clone();
        Arc::new(move |n: u64| {
            let platform = platform.clone();
            async move {
                // The test platform sells 120 nights from yesterday.
                let body = booking_body(1 + (n % 110) as i64, 1, 1, "tok_success");
                let began = Instant::now();
                let response = platform.post_booking(&body, None).await.map_err(|_| "http".to_string())?;
                let start = began.elapsed();
                if response.status() != 202 {
                    return Err(format!("api {}", response.status()));
                }
                let r: Value = response.json().await.map_err(|_| "body".to_string())?;
                let booking_ref = r["booking_ref"].as_str().unwrap_or_default().to_string();
                let saga =
                    platform.client.get_workflow_handle::<sagas::BookingWorkflow>(format!("booking-{booking_ref}"));
                let outcome = saga
                    .get_result(WorkflowGetResultOptions::default())
                    .await
                    .map_err(|_| "saga result".to_string())?;
                if outcome.status != contracts::saga::BookingStatus::Confirmed {
                    let code = outcome.failure.map(|f| f.code).unwrap_or_default();
                    return Err(format!("booking {}: {code}", outcome.status.as_str()));
                }
                Ok((start, began.elapsed()))
            }
        })
    };
    let workflow = |bare: bool| {
        let client = platform.client.clone();
        Arc::new(move |n: u64| {
            let client = client.clone();
            async move {
                let id = format!("bench-{}-{n}-{}", if bare { "bare" } else { "noop" }, uuid::Uuid::new_v4());
                let options = WorkflowStartOptions::new(QUEUES[0], id).build();
                let began = Instant::now();
                let result = if bare {
                    let handle =
                        client.start_workflow(Bare::run, (), options).await.map_err(|_| "start".to_string())?;
                    let start = began.elapsed();
                    handle.get_result(WorkflowGetResultOptions::default()).await.map(|_| start)
                } else {
                    let handle =
                        client.start_workflow(NoopSaga::run, (), options).await.map_err(|_| "start".to_string())?;
                    let start = began.elapsed();
                    handle.get_result(WorkflowGetResultOptions::default()).await.map(|_| start)
                };
                let start = result.map_err(|_| "result".to_string())?;
                Ok((start, began.elapsed()))
            }
        })
    };

    // Warm up every path.
    for n in 0..5 {
        let _ = booking(n).await;
        let _ = workflow(false)(n).await;
        let _ = workflow(true)(n).await;
    }

    let mut found: BTreeMap<(&str, usize), Figures> = BTreeMap::new();
    for mode in ["serial", "closed", "open"] {
        let mut base_rate = None;
        for (label, which) in
            [("bare workflow", 0), ("no-op saga (5 activities, baseline)", 1), ("booking saga via the API", 2)]
        {
            let before = processes();
            let began = Instant::now();
            let mut tally = match (mode, which) {
                ("serial", 0) => closed_loop(duration, 1, workflow(true)).await,
                ("serial", 1) => closed_loop(duration, 1, workflow(false)).await,
                ("serial", _) => closed_loop(duration, 1, booking.clone()).await,
                ("closed", 0) => closed_loop(duration, clients, workflow(true)).await,
                ("closed", 1) => closed_loop(duration, clients, workflow(false)).await,
                ("closed", _) => closed_loop(duration, clients, booking.clone()).await,
                (_, 0) => open_loop(duration, rate, workflow(true)).await,
                (_, 1) => open_loop(duration, rate, workflow(false)).await,
                _ => open_loop(duration, rate, booking.clone()).await,
            };
            let title = match mode {
                "serial" => format!("one at a time: {label}"),
                _ => format!("{mode} loop: {label}"),
            };
            let r = report(
                &title,
                &mut tally,
                duration,
                began.elapsed(),
                &before,
                if which == 2 { base_rate } else { None },
            );
            if which == 1 {
                base_rate = Some(r);
            }
            found.insert((mode, which), figures(&tally, r));
        }
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
    let get = |mode, which| &found[&(mode, which)];
    target(
        "closed loop, booking / no-op saga throughput",
        get("closed", 2).rate / get("closed", 1).rate,
        "x",
        0.9,
        false,
    );
    target("open loop, booking / no-op saga throughput", get("open", 2).rate / get("open", 1).rate, "x", 0.9, false);
    target(
        "one at a time, booking / no-op saga median request to end",
        get("serial", 2).end_p50_ms / get("serial", 1).end_p50_ms,
        "x",
        1.2,
        true,
    );
    target(
        "one at a time, API start - bare workflow start, medians",
        get("serial", 2).start_p50_ms - get("serial", 0).start_p50_ms,
        " ms",
        1.0,
        true,
    );
    for (binary, rss) in &at_rest {
        if let Ok(mib) = rss {
            target(&format!("{binary} at rest"), *mib, " MiB", 40.0, true);
        }
    }
    Ok(())
}
