//! Fault switches: the ways a real gateway misbehaves, on demand, so the callers' retry,
//! reconciliation and webhook handling can be exercised without waiting for a bad day.

use axum::{
    Json,
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

/// The switches as set through `POST /v1/sandbox/faults`. Every field is optional and a
/// missing one means "off", so each call states the whole set and no earlier switch lingers.
/// Unknown fields are refused: a misspelt switch would otherwise silently test nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Faults {
    /// Fraction of payments declined whatever the card token.
    pub decline_rate: f64,
    /// Fraction of API calls answered 500, 502 or 503 without acting.
    pub error_rate: f64,
    /// Fraction of state-changing calls that act and then answer 500 or 504.
    pub lose_response_rate: f64,
    /// Delay added before every API call is handled.
    pub latency_ms: u64,
    /// Every webhook is delivered twice, with the same event id.
    pub duplicate_webhooks: bool,
    /// The webhooks one call raises are delivered last-first.
    pub reorder_webhooks: bool,
    /// Every webhook is dropped: recorded as `lost`, never sent.
    pub lose_webhooks: bool,
    /// An order already paid takes another payment and capture, as some gateways allow (a
    /// traveller paying twice from two tabs).
    pub allow_second_payment: bool,
    /// The next this many refund requests are refused (400, nothing refunded), as a gateway
    /// does while a payment is under review; later ones are accepted.
    pub refuse_refunds: u32,
    /// The next this many new payouts are accepted (200, the payout entity) but refused by
    /// the beneficiary's bank: they end as `payout_failure` says, with `status_details` and
    /// `failure_reason` saying so, and no money reaches the beneficiary. Later ones are
    /// processed. A replay under an idempotency key already used is not a new payout.
    pub fail_payouts: u32,
    /// The status the payouts failed by `fail_payouts` end in: `reversed` (the default) or
    /// `failed`.
    pub payout_failure: PayoutFailure,
    /// Seeds the draws above; without it they are seeded from the OS.
    pub seed: Option<u64>,
    /// When set, `error_rate` and `lose_response_rate` apply only to calls whose path
    /// contains one of these (e.g. `/capture`), to aim a fault at one step.
    pub only_paths: Option<Vec<String>>,
}

/// How a payout the bank refuses ends. The real gateway reports most bank-side failures as
/// `reversed` (the money went out and came back, fees included); a payout its partner bank
/// fails before sending ends `failed`. A caller has to take both as "not paid".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PayoutFailure {
    #[default]
    Reversed,
    Failed,
}

impl PayoutFailure {
    pub(crate) fn status(self) -> &'static str {
        match self {
            PayoutFailure::Reversed => "reversed",
            PayoutFailure::Failed => "failed",
        }
    }
}

impl Faults {
    fn targets(&self, path: &str) -> bool {
        self.only_paths.as_ref().is_none_or(|paths| paths.iter().any(|p| path.contains(p.as_str())))
    }
}

impl Faults {
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("decline_rate", self.decline_rate),
            ("error_rate", self.error_rate),
            ("lose_response_rate", self.lose_response_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0.0 and 1.0"));
            }
        }
        Ok(())
    }
}

/// How many faults the switches actually injected since they were last set: a test that
/// sets faults checks they happened, or it may be testing a quiet gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Injected {
    pub errors: u32,
    pub lost_responses: u32,
    pub declines: u32,
    pub refused_refunds: u32,
    pub failed_payouts: u32,
}

/// The active switches and the random source their draws come from, behind one lock so a
/// seeded run draws in the order the calls arrive.
pub(crate) struct FaultSwitch {
    active: Mutex<(Faults, StdRng)>,
    injected: Mutex<Injected>,
}

impl Default for FaultSwitch {
    fn default() -> Self {
        FaultSwitch {
            active: Mutex::new((Faults::default(), StdRng::from_entropy())),
            injected: Mutex::new(Injected::default()),
        }
    }
}

impl FaultSwitch {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Faults, StdRng)> {
        self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn current(&self) -> Faults {
        self.lock().0.clone()
    }

    /// Replaces every switch; the random source restarts from the seed, so the same seed and
    /// the same sequence of calls give the same faults.
    pub(crate) fn replace(&self, faults: Faults) {
        let rng = faults.seed.map_or_else(StdRng::from_entropy, StdRng::seed_from_u64);
        *self.lock() = (faults, rng);
        *self.counts() = Injected::default();
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Injected> {
        self.injected.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The faults injected since the switches were last set.
    pub(crate) fn injected(&self) -> Injected {
        *self.counts()
    }

    /// Counts a decline the `decline_rate` switch caused.
    pub(crate) fn count_decline(&self) {
        self.counts().declines += 1;
    }

    /// Whether this refund request is one of the `refuse_refunds` still to refuse (and
    /// counts it down).
    pub(crate) fn refuse_refund(&self) -> bool {
        let mut active = self.lock();
        if active.0.refuse_refunds == 0 {
            return false;
        }
        active.0.refuse_refunds -= 1;
        drop(active);
        self.counts().refused_refunds += 1;
        true
    }

    /// How this new payout ends if it is one of the `fail_payouts` still to fail (and counts
    /// it down); `None` when the bank pays it.
    pub(crate) fn fail_payout(&self) -> Option<PayoutFailure> {
        let mut active = self.lock();
        if active.0.fail_payouts == 0 {
            return None;
        }
        active.0.fail_payouts -= 1;
        let failure = active.0.payout_failure;
        drop(active);
        self.counts().failed_payouts += 1;
        Some(failure)
    }

    /// True for the fraction of calls `rate` picks. A switch that is off draws nothing, so
    /// turning one on does not shift the draws of a seeded run that only uses another.
    pub(crate) fn roll(&self, rate: impl Fn(&Faults) -> f64) -> bool {
        let (faults, rng) = &mut *self.lock();
        let rate = rate(faults);
        rate > 0.0 && rng.gen_bool(rate.min(1.0))
    }

    fn pick<T: Copy>(&self, options: &[T]) -> T {
        let (_, rng) = &mut *self.lock();
        options[rng.gen_range(0..options.len())]
    }
}

/// Applies latency, errors and lost responses around the gateway API. `/healthz` and the
/// `/v1/sandbox/*` control endpoints are never touched: the tests driving the faults must be
/// able to rely on them. The checkout page is only slowed down, never failed: it stands for
/// the traveller's browser loading a page, not for a call the platform makes. It is given the
/// switches alone rather than the whole sandbox, which keeps this module free of the books.
pub(crate) async fn inject(State(switch): State<Arc<FaultSwitch>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/healthz" || path.starts_with("/v1/sandbox/") {
        return next.run(request).await;
    }
    let checkout_page = request.method() == Method::GET && path.starts_with("/v1/checkout/");
    // Every POST of the API changes state: order creation, payment creation, capture,
    // refund, payout and the checkout payment.
    let changes_state = request.method() == Method::POST;

    let latency = switch.current().latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let targeted = switch.current().targets(&path);
    if targeted && !checkout_page && switch.roll(|f| f.error_rate) {
        let status =
            switch.pick(&[StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY, StatusCode::SERVICE_UNAVAILABLE]);
        tracing::info!(%path, %status, "fault: failing the call without acting");
        switch.counts().errors += 1;
        return server_error(status);
    }
    let response = next.run(request).await;
    if targeted && changes_state && switch.roll(|f| f.lose_response_rate) {
        let status = switch.pick(&[StatusCode::INTERNAL_SERVER_ERROR, StatusCode::GATEWAY_TIMEOUT]);
        tracing::info!(%path, %status, acted = %response.status(), "fault: losing the response of a call that acted");
        switch.counts().lost_responses += 1;
        return server_error(status);
    }
    response
}

/// A 500 comes from the gateway itself, in its error shape; 502, 503 and 504 come from the
/// proxies in front of it and carry plain text, which callers must cope with too.
fn server_error(status: StatusCode) -> Response {
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        let body = json!({ "error": {
            "code": "SERVER_ERROR",
            "description": "The server encountered an error. The incident has been reported to admins.",
            "source": "NA", "step": "NA", "reason": "NA", "metadata": {},
        }});
        (status, Json(body)).into_response()
    } else {
        (status, status.canonical_reason().unwrap_or("error")).into_response()
    }
}
