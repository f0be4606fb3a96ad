//! Signed webhooks, delivered the way the real gateway delivers them: asynchronously, at
//! least once, retried with backoff, and in no guaranteed order.

use crate::{
    faults::Faults,
    ids::{new_id, now},
    settings::SandboxSettings,
};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use tokio::sync::oneshot;

/// The real gateway gives up on an attempt after a few seconds; so does the sandbox, so a
/// stuck receiver cannot hold a delivery forever.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Caps the doubling backoff so a long retry budget does not wait for hours.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One event, serialised once: the signature covers these exact bytes.
pub(crate) struct Event {
    id: String,
    name: &'static str,
    order_id: String,
    body: Vec<u8>,
}

/// Builds a Razorpay-shaped event; `entities` name the payload's entities in the order the
/// event's `contains` lists them.
pub(crate) fn event(name: &'static str, order_id: &str, entities: &[(&'static str, Value)]) -> Event {
    let contains: Vec<&str> = entities.iter().map(|(kind, _)| *kind).collect();
    let payload: Map<String, Value> =
        entities.iter().map(|(kind, entity)| (kind.to_string(), json!({ "entity": entity }))).collect();
    let body = json!({
        "entity": "event",
        "account_id": "acc_sandbox",
        "event": name,
        "contains": contains,
        "payload": payload,
        "created_at": now(),
    });
    Event {
        id: new_id("evt"),
        name,
        order_id: order_id.to_owned(),
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum DeliveryState {
    /// Not yet acknowledged; attempts remain.
    Pending,
    /// A 2xx answer arrived.
    Delivered,
    /// Every attempt failed.
    Failed,
    /// No webhook URL is configured: the event was raised but sent nowhere.
    NotSent,
    /// The `lose_webhooks` switch was on: the event was raised and dropped, as a gateway's
    /// lost delivery would be.
    Lost,
}

/// One delivery of one event. A duplicated event has two entries with the same `event_id`.
#[derive(Debug, Clone, Serialize)]
struct Delivery {
    event_id: String,
    event: &'static str,
    order_id: String,
    /// 1, or 2 for the second copy of a duplicated event.
    copy: u8,
    state: DeliveryState,
    attempts: u32,
    /// The HTTP status of the last attempt; `None` when it got no answer.
    last_status: Option<u16>,
    last_error: Option<String>,
}

#[derive(Clone)]
pub(crate) struct Webhooks {
    target: Option<Arc<Target>>,
    log: Arc<Mutex<Vec<Delivery>>>,
}

struct Target {
    url: String,
    secret: String,
    max_attempts: u32,
    backoff: Duration,
    http: reqwest::Client,
}

impl Webhooks {
    pub(crate) fn new(settings: &SandboxSettings) -> Self {
        let target = settings.webhook_url.as_ref().map(|url| {
            Arc::new(Target {
                url: url.clone(),
                secret: settings.webhook_secret.clone(),
                max_attempts: settings.webhook_max_attempts.max(1),
                backoff: settings.webhook_backoff,
                http: reqwest::Client::new(),
            })
        });
        Webhooks { target, log: Arc::default() }
    }

    fn log(&self) -> MutexGuard<'_, Vec<Delivery>> {
        self.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every delivery so far, in the order they were first sent.
    pub(crate) fn deliveries(&self) -> Value {
        let log = self.log();
        json!({ "entity": "collection", "count": log.len(), "items": *log })
    }

    /// Sends the events one call raised, in a background task: the call that raised them is
    /// answered without waiting. First attempts go out one after another in the order given
    /// (reversed when the switch says so); retries run on their own and may overtake.
    pub(crate) fn dispatch(&self, mut events: Vec<Event>, faults: &Faults) {
        if events.is_empty() {
            return;
        }
        if faults.reorder_webhooks {
            events.reverse();
        }
        let copies: u8 = if faults.duplicate_webhooks { 2 } else { 1 };
        let mut sends = Vec::new();
        {
            let mut log = self.log();
            for event in events {
                let event = Arc::new(event);
                for copy in 1..=copies {
                    sends.push((event.clone(), log.len()));
                    log.push(Delivery {
                        event_id: event.id.clone(),
                        event: event.name,
                        order_id: event.order_id.clone(),
                        copy,
                        state: match (&self.target, faults.lose_webhooks) {
                            (_, true) => DeliveryState::Lost,
                            (Some(_), false) => DeliveryState::Pending,
                            (None, false) => DeliveryState::NotSent,
                        },
                        attempts: 0,
                        last_status: None,
                        last_error: None,
                    });
                }
            }
        }
        let Some(target) = self.target.clone() else { return };
        if faults.lose_webhooks {
            return;
        }
        let webhooks = self.clone();
        tokio::spawn(async move {
            for (event, entry) in sends {
                let (first_attempt_done, first_attempt) = oneshot::channel();
                tokio::spawn(webhooks.clone().deliver(target.clone(), event, entry, first_attempt_done));
                let _ = first_attempt.await;
            }
        });
    }

    async fn deliver(self, target: Arc<Target>, event: Arc<Event>, entry: usize, first_attempt: oneshot::Sender<()>) {
        let signature = sign(&target.secret, &event.body);
        let mut first_attempt = Some(first_attempt);
        for attempt in 1..=target.max_attempts {
            let outcome = target
                .http
                .post(&target.url)
                .timeout(ATTEMPT_TIMEOUT)
                .header("content-type", "application/json")
                .header("x-razorpay-signature", &signature)
                .header("x-razorpay-event-id", &event.id)
                .body(event.body.clone())
                .send()
                .await;
            let delivered = {
                let mut log = self.log();
                let delivery = &mut log[entry];
                delivery.attempts = attempt;
                match &outcome {
                    Ok(response) => {
                        delivery.last_status = Some(response.status().as_u16());
                        delivery.last_error = None;
                    }
                    Err(error) => {
                        delivery.last_status = None;
                        delivery.last_error = Some(error.to_string());
                    }
                }
                let delivered = outcome.as_ref().is_ok_and(|r| r.status().is_success());
                delivery.state = if delivered {
                    DeliveryState::Delivered
                } else if attempt == target.max_attempts {
                    DeliveryState::Failed
                } else {
                    DeliveryState::Pending
                };
                delivered
            };
            if let Some(done) = first_attempt.take() {
                let _ = done.send(());
            }
            if delivered {
                tracing::debug!(event = event.name, event_id = %event.id, attempt, "webhook delivered");
                return;
            }
            tracing::info!(event = event.name, event_id = %event.id, attempt, "webhook not acknowledged");
            if attempt < target.max_attempts {
                let backoff = target.backoff.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF);
                tokio::time::sleep(backoff).await;
            }
        }
        tracing::warn!(event = event.name, event_id = %event.id, "webhook given up");
    }
}

/// `X-Razorpay-Signature`: hex HMAC-SHA256 of the raw body under the webhook secret.
pub(crate) fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
