//! The business counters the activities count with the `metrics` crate (bookings confirmed,
//! compensated, expired; refunds; holds refused as sold out), served on the worker's
//! `/metrics` next to the Temporal SDK's own: each counter becomes a counter of the SDK's
//! Prometheus meter.

use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use temporalio_common::telemetry::metrics::{
    CoreMeter, MetricAttributes, MetricKeyValue, MetricParameters, NewAttributes,
};

pub(crate) struct CoreMeterRecorder {
    meter: Arc<dyn CoreMeter>,
    counters: Mutex<HashMap<Key, Counter>>,
}

impl CoreMeterRecorder {
    pub(crate) fn new(meter: Arc<dyn CoreMeter>) -> Self {
        CoreMeterRecorder { meter, counters: Mutex::new(HashMap::new()) }
    }
}

struct Bridged {
    counter: temporalio_common::telemetry::metrics::Counter,
    attributes: MetricAttributes,
}

impl CounterFn for Bridged {
    fn increment(&self, value: u64) {
        self.counter.add(value, &self.attributes);
    }
    fn absolute(&self, _value: u64) {
        // Prometheus counters only go up by increments; nothing sets one absolutely.
    }
}

impl Recorder for CoreMeterRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters
            .entry(key.clone())
            .or_insert_with(|| {
                let counter = self.meter.counter(MetricParameters::builder().name(key.name().to_string()).build());
                let attributes = self.meter.new_attributes(NewAttributes {
                    attributes: key.labels().map(|l| MetricKeyValue::new(l.key(), l.value().to_string())).collect(),
                });
                Counter::from_arc(Arc::new(Bridged { counter, attributes }))
            })
            .clone()
    }

    fn register_gauge(&self, _key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
