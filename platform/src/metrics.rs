//! One process-wide `metrics` recorder that hands every measurement to each exporter the
//! process added: the API's Prometheus page, the workers' Temporal SDK exporter. The
//! `metrics` crate allows a single global recorder, and tests run the API and workers in
//! one process; with this fan-out each of them still serves every counter on its page.

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use std::sync::{Arc, OnceLock, RwLock};

type Sink = Arc<dyn Recorder + Send + Sync>;

static SINKS: RwLock<Vec<Sink>> = RwLock::new(Vec::new());

/// Adds an exporter; installs the fan-out as the global recorder on first use.
pub fn add_recorder(recorder: impl Recorder + Send + Sync + 'static) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if metrics::set_global_recorder(Fanout).is_err() {
            tracing::warn!("another metrics recorder is installed; business counters go there");
        }
    });
    SINKS.write().unwrap_or_else(|e| e.into_inner()).push(Arc::new(recorder));
}

fn sinks() -> Vec<Sink> {
    SINKS.read().unwrap_or_else(|e| e.into_inner()).clone()
}

struct Fanout;

impl Recorder for Fanout {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        sinks().iter().for_each(|s| s.describe_counter(key.clone(), unit, description.clone()));
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        sinks().iter().for_each(|s| s.describe_gauge(key.clone(), unit, description.clone()));
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        sinks().iter().for_each(|s| s.describe_histogram(key.clone(), unit, description.clone()));
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        let all: Vec<Counter> = sinks().iter().map(|s| s.register_counter(key, metadata)).collect();
        Counter::from_arc(Arc::new(Many(all)))
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        let all: Vec<Gauge> = sinks().iter().map(|s| s.register_gauge(key, metadata)).collect();
        Gauge::from_arc(Arc::new(Many(all)))
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        let all: Vec<Histogram> = sinks().iter().map(|s| s.register_histogram(key, metadata)).collect();
        Histogram::from_arc(Arc::new(Many(all)))
    }
}

struct Many<T>(Vec<T>);

/// Implements a handle trait for [`Many`] of that handle: each method passes its value on to
/// every exporter's handle.
macro_rules! fan_out {
    ($($trait:ident for $handle:ident { $($method:ident($value:ty)),+ })+) => {
        $(impl $trait for Many<$handle> {
            $(fn $method(&self, value: $value) {
                self.0.iter().for_each(|h| h.$method(value));
            })+
        })+
    };
}

fan_out! {
    CounterFn for Counter { increment(u64), absolute(u64) }
    GaugeFn for Gauge { increment(f64), decrement(f64), set(f64) }
    HistogramFn for Histogram { record(f64) }
}
