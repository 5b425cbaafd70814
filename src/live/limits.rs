//! How hard live mode leans on AWS, and what that cost: the SDK's adaptive
//! retry mode on every client, a bound on the requests in flight per
//! account, region and service (one slot taken by every attempt of every
//! read, at the HTTP client every client shares), and the tally behind the
//! closing summary (requests sent, retried, throttled, failed; accounts read
//! and failed for a reading of several accounts). Each attempt also waits
//! for its operation's rate in its account and region (`rates`) before it
//! takes a slot, so an operation held to its quota holds no slot that
//! another operation could use.
//!
//! One [`Limits`] serves one gathering; a reading of many accounts shares it
//! across their readers, so each account gets its own slots, its own retry
//! quota and its own client-side rate, as AWS counts its quotas per account
//! (and per region for regional services).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_s3::config::retry::{ClientRateLimiter, RetryPartition, TokenBucket};
use aws_sdk_s3::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use tokio::sync::Semaphore;

use super::rates::{QuotaOf, QuotaTag, RateBucket, Rates};

/// Attempts per read, the first included, unless `--max-attempts` says
/// otherwise. The AWS SDKs default to three in both standard and adaptive
/// mode (AWS SDKs and Tools Reference Guide, "Retry behavior"), which leaves
/// a read unknown once in 125 when a fifth of requests are throttled: a
/// chain of a hundred reads then lost a field more often than not. Eight
/// attempts make that one read in 390,000, and adaptive mode slows the
/// client down meanwhile, which the guide recommends for throttling-heavy,
/// latency-tolerant work such as reading a snapshot.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// Requests in flight at once per account, region and service, unless
/// `--max-concurrency` says otherwise. AWS publishes request quotas per
/// second and per account and region for KMS, one per operation ("Request
/// quotas", AWS Key Management Service Developer Guide: `ListGrants` 100,
/// `ListAliases` and `ListKeys` 500, `GetKeyPolicy` 1,000, `DescribeKey`
/// and `ListResourceTags` 2,000), which `rates` holds each operation to,
/// and none for IAM, Organizations or S3's bucket-configuration calls,
/// which only this bound and adaptive retry keep in check.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// The longest wait between two attempts of a read. The SDK's own jittered
/// backoff (a random fraction of one second doubled per attempt) and its
/// adaptive rate are kept; their 20-second ceiling is lowered so that the
/// eight attempts of a read fit well within the default 60-second
/// `--timeout` even along a chain of dependent reads, and a service refusing
/// every request leaves its documents unknown instead of ending the whole
/// reading. Sustained throttling is paced by the adaptive rate, which this
/// does not cap for first attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The user's settings (`--max-attempts`, `--max-concurrency`, `--rate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLimits {
    /// Attempts per read, the first included (at least 1).
    pub max_attempts: u32,
    /// Requests in flight per account, region and service (at least 1).
    pub max_concurrency: usize,
    /// Requests per second per account and region for an operation
    /// (`kms:ListGrants`, as [`rate_operation`](super::rate_operation)
    /// names it), over AWS's published default; a later one wins.
    pub rates: Vec<(String, u32)>,
}

impl Default for LiveLimits {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            rates: Vec::new(),
        }
    }
}

/// Where AWS counts a quota: the account, the region (`global` for IAM and
/// Organizations) and the service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scope {
    pub account: String,
    pub region: String,
    pub service: &'static str,
}

/// What one scope's clients share.
#[derive(Clone)]
struct ScopeState {
    slots: Arc<Semaphore>,
    retry: RetryPartition,
}

/// The limits and tally of one gathering (shared by every reader).
pub(crate) struct Limits {
    settings: LiveLimits,
    scopes: Mutex<HashMap<Scope, ScopeState>>,
    /// The SDK's default HTTPS client, built once: every scope's bounded
    /// client wraps it, so connections are pooled across them.
    https: SharedHttpClient,
    /// Each operation's rate per account and region.
    rates: Arc<Rates>,
    pub tally: Arc<Tally>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Limits {
    pub(crate) fn new(settings: LiveLimits) -> Arc<Self> {
        Arc::new(Self {
            rates: Arc::new(Rates::new(&settings.rates)),
            settings: LiveLimits {
                max_attempts: settings.max_attempts.max(1),
                max_concurrency: settings.max_concurrency.max(1),
                rates: settings.rates,
            },
            scopes: Mutex::new(HashMap::new()),
            https: default_https_client(),
            tally: Arc::new(Tally::default()),
        })
    }

    #[cfg(test)]
    fn settings(&self) -> LiveLimits {
        self.settings.clone()
    }

    /// Adaptive mode with the configured attempts: standard mode's
    /// jittered exponential backoff and retry quota, plus a client-side rate
    /// that drops on throttling and recovers on success (AWS SDKs and Tools
    /// Reference Guide, "Retry behavior").
    pub(crate) fn retry_config(&self) -> RetryConfig {
        RetryConfig::adaptive()
            .with_max_attempts(self.settings.max_attempts)
            .with_max_backoff(MAX_BACKOFF)
    }

    fn state(&self, scope: &Scope) -> ScopeState {
        let mut scopes = self
            .scopes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        scopes
            .entry(scope.clone())
            .or_insert_with(|| ScopeState {
                slots: Arc::new(Semaphore::new(self.settings.max_concurrency)),
                // A partition of its own: the adaptive rate and the retry
                // quota of one account's service are not spent by
                // another's throttling (the guide's caution about pooling
                // clients by the scope the service throttles).
                retry: RetryPartition::custom(format!(
                    "kms-s3-doctor/{}/{}/{}",
                    scope.account, scope.region, scope.service
                ))
                .token_bucket(TokenBucket::default())
                // Started now, as the SDK starts the limiter of a default
                // partition: a limiter whose clock starts at the epoch
                // measures a sending rate of nearly zero, and its first
                // throttle would pace every later request at the floor
                // rate of one every two seconds.
                .client_rate_limiter(ClientRateLimiter::new(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_secs_f64(),
                ))
                .build(),
            })
            .clone()
    }

    /// The HTTP client for `scope`'s clients: each attempt waits for its
    /// operation's rate in the scope's account and region, then for one of
    /// the scope's slots.
    pub(crate) fn http_client(&self, scope: &Scope) -> SharedHttpClient {
        SharedHttpClient::new(Bounded {
            inner: self.https.clone(),
            slots: self.state(scope).slots,
            pace: Pace {
                rates: self.rates.clone(),
                account: scope.account.clone(),
                region: scope.region.clone(),
            },
        })
    }

    /// The interceptor that tells the HTTP client which operation each
    /// attempt is, for its rate.
    pub(crate) fn quota_tag(&self) -> QuotaTag {
        QuotaTag
    }

    /// The rates of this gathering (for tests).
    #[cfg(test)]
    pub(crate) fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The retry partition of `scope` (its retry quota and adaptive rate).
    pub(crate) fn retry_partition(&self, scope: &Scope) -> RetryPartition {
        self.state(scope).retry
    }

    /// The interceptor that counts attempts, throttling and failures.
    pub(crate) fn counter(&self) -> Counter {
        Counter {
            tally: self.tally.clone(),
        }
    }

    /// The waiting slots of `scope` right now (for tests).
    #[cfg(test)]
    pub(crate) fn free_slots(&self, scope: &Scope) -> usize {
        self.state(scope).slots.available_permits()
    }
}

/// The SDK's default HTTPS client, as the SDK crates build it (rustls with
/// aws-lc, proxy settings from the environment).
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// Where an HTTP client's requests count their rates.
#[derive(Debug, Clone)]
struct Pace {
    rates: Arc<Rates>,
    account: String,
    region: String,
}

/// An HTTP client whose every request first waits for its operation's rate
/// and then takes a slot.
#[derive(Debug, Clone)]
struct Bounded {
    inner: SharedHttpClient,
    slots: Arc<Semaphore>,
    pace: Pace,
}

impl HttpClient for Bounded {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BoundedConnector {
            inner: self.inner.http_connector(settings, components),
            slots: self.slots.clone(),
            pace: self.pace.clone(),
        })
    }
}

#[derive(Debug, Clone)]
struct BoundedConnector {
    inner: SharedHttpConnector,
    slots: Arc<Semaphore>,
    pace: Pace,
}

impl HttpConnector for BoundedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let slots = self.slots.clone();
        let pace = self.pace.clone();
        HttpConnectorFuture::new(async move {
            let bucket = request
                .extension::<QuotaOf>()
                .and_then(|quota| pace.rates.bucket(&pace.account, &pace.region, &quota.0));
            loop {
                // Wait for the rate without a slot, so that other
                // operations of the service are not held back meanwhile.
                if let Some(bucket) = &bucket {
                    let wait = lock(bucket).wait(pace.rates.now());
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                }
                // The semaphore is never closed, so acquiring only waits.
                let slot = slots.clone().acquire_owned().await.ok();
                // The token is taken only once the request can be sent at
                // once: tokens taken are requests sent, so the rate holds
                // for what AWS receives. Another request of the operation
                // may have taken it meanwhile: then wait again.
                let granted = bucket
                    .as_ref()
                    .is_none_or(|bucket| lock(bucket).try_take(pace.rates.now()).is_ok());
                if granted {
                    let response = inner.call(request).await;
                    drop(slot);
                    return response;
                }
                drop(slot);
            }
        })
    }
}

fn lock(bucket: &Mutex<RateBucket>) -> std::sync::MutexGuard<'_, RateBucket> {
    bucket
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts of one gathering.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Reads finished (each after all its attempts).
    pub requests: AtomicUsize,
    /// Attempts after a read's first.
    pub retries: AtomicUsize,
    /// Attempts answered with a throttling error.
    pub throttled: AtomicUsize,
    /// Reads that ended throttled, in a server error or with no answer:
    /// their documents are unknown.
    pub failed: AtomicUsize,
    /// Accounts read in full, and accounts given up on (a reading of
    /// several accounts counts them; a single chain leaves them at zero).
    pub accounts_read: AtomicUsize,
    pub accounts_failed: AtomicUsize,
    started: Mutex<Option<Instant>>,
}

impl Tally {
    /// Marks the start of reading, for the summary's wall time.
    pub(crate) fn start(&self) {
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        started.get_or_insert_with(Instant::now);
    }

    pub(crate) fn summary(&self) -> Summary {
        let load = |counter: &AtomicUsize| counter.load(Ordering::Relaxed);
        Summary {
            requests: load(&self.requests),
            retried: load(&self.retries),
            throttled: load(&self.throttled),
            failed: load(&self.failed),
            accounts_read: load(&self.accounts_read),
            accounts_failed: load(&self.accounts_failed),
            elapsed: self
                .started
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .map(|started| started.elapsed())
                .unwrap_or_default(),
        }
    }
}

/// The closing numbers of a live reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Reads sent (each counted once, however many attempts it took).
    pub requests: usize,
    /// Attempts beyond each read's first.
    pub retried: usize,
    /// Attempts answered with a throttling error.
    pub throttled: usize,
    /// Reads that still failed after their attempts.
    pub failed: usize,
    pub accounts_read: usize,
    pub accounts_failed: usize,
    pub elapsed: Duration,
}

impl Summary {
    /// Anything a user should hear about even when not watching a terminal.
    pub fn eventful(&self) -> bool {
        self.retried > 0 || self.throttled > 0 || self.failed > 0 || self.accounts_failed > 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "read from aws in {:.1}s: {} requests, {} retried, {} throttled, {} failed",
            self.elapsed.as_secs_f64(),
            self.requests,
            self.retried,
            self.throttled,
            self.failed
        )?;
        if self.accounts_read + self.accounts_failed > 1 {
            write!(
                f,
                "; accounts: {} read, {} failed",
                self.accounts_read, self.accounts_failed
            )?;
        }
        Ok(())
    }
}

/// Error codes the services answer when they throttle: S3 `SlowDown`
/// (503), IAM and STS `Throttling`, KMS and Organizations
/// `ThrottlingException`, Organizations `TooManyRequestsException`, and the
/// other codes the AWS SDKs retry as throttling. The SDK already retries
/// each of these as throttling; the list only counts them.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "LimitExceededException",
    "PriorRequestNotComplete",
];

/// True for a response that says the caller is throttled. A 503 without
/// a readable code is S3's `SlowDown` to a `HEAD` request, whose answer has
/// no body ("503 Slow Down", Amazon S3 User Guide, "Amazon S3 error best
/// practices").
pub(crate) fn is_throttling(status: u16, code: Option<&str>) -> bool {
    status == 429
        || (status == 503 && code.is_none())
        || code.is_some_and(|code| THROTTLING_CODES.contains(&code))
}

/// Counts every attempt and its outcome; attached to every client.
#[derive(Debug, Clone)]
pub(crate) struct Counter {
    tally: Arc<Tally>,
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "kms-s3-doctor request tally"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The orchestrator numbers each attempt from 1 before this hook.
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|attempts| attempts.attempts() > 1)
        {
            self.tally.retries.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(response) = context.response() {
            let code = super::call_log::error_code(response);
            if is_throttling(response.status().as_u16(), code.as_deref()) {
                self.tally.throttled.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A read refused by the read-only guard was never sent.
        if matches!(context.output_or_error(), Some(Err(error)) if error.is_interceptor_error()) {
            return Ok(());
        }
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let gave_up = match (context.output_or_error(), context.response()) {
            (Some(Ok(_)), _) => false,
            (_, Some(response)) => {
                let status = response.status().as_u16();
                let code = super::call_log::error_code(response);
                status >= 500 || is_throttling(status, code.as_deref())
            }
            // No answer at all: timed out or the connection failed.
            _ => true,
        };
        if gave_up {
            self.tally.failed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_throttling_code_is_counted() {
        // Amazon S3 API Reference, "Error responses": SlowDown, 503.
        assert!(is_throttling(503, Some("SlowDown")));
        // IAM and STS (query protocol): Throttling, 400.
        assert!(is_throttling(400, Some("Throttling")));
        // KMS and Organizations: ThrottlingException / TooManyRequestsException.
        assert!(is_throttling(400, Some("ThrottlingException")));
        assert!(is_throttling(400, Some("TooManyRequestsException")));
        assert!(is_throttling(429, None));
        // HeadObject's 503 has no body to carry the code.
        assert!(is_throttling(503, None));
        assert!(!is_throttling(503, Some("ServiceUnavailable")));
        assert!(!is_throttling(403, Some("AccessDenied")));
        assert!(!is_throttling(404, Some("NoSuchBucketPolicy")));
    }

    #[test]
    fn settings_below_one_are_raised_to_one() {
        let limits = Limits::new(LiveLimits {
            max_attempts: 0,
            max_concurrency: 0,
            rates: Vec::new(),
        });
        assert_eq!(limits.settings().max_attempts, 1);
        assert_eq!(limits.settings().max_concurrency, 1);
        assert_eq!(limits.retry_config().max_attempts(), 1);
    }

    #[test]
    fn scopes_share_nothing_but_their_own() {
        let limits = Limits::new(LiveLimits {
            max_attempts: 3,
            max_concurrency: 2,
            rates: Vec::new(),
        });
        let kms = |account: &str| Scope {
            account: account.to_string(),
            region: "eu-west-1".to_string(),
            service: "kms",
        };
        assert_eq!(
            limits.retry_partition(&kms("1")),
            limits.retry_partition(&kms("1"))
        );
        assert_ne!(
            limits.retry_partition(&kms("1")),
            limits.retry_partition(&kms("2"))
        );
        assert_eq!(limits.free_slots(&kms("1")), 2);
    }

    /// What reached AWS, in order: each request's quota name.
    #[derive(Debug, Clone, Default)]
    struct Recorder {
        sent: Arc<Mutex<Vec<String>>>,
    }

    impl HttpConnector for Recorder {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let quota = request
                .extension::<QuotaOf>()
                .map_or_else(|| "untagged".to_string(), |quota| quota.0.clone());
            self.sent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(quota);
            HttpConnectorFuture::ready(Ok(aws_smithy_runtime_api::http::Response::new(
                200.try_into().expect("status"),
                aws_smithy_types::body::SdkBody::empty(),
            )))
        }
    }

    /// Requests of an operation held to 4 a second wait for their turn
    /// without a slot: with two slots, another operation's requests all go
    /// out before the held operation's third (half a second after its
    /// first at the least), and the limiter granted each held request once.
    #[tokio::test]
    async fn a_held_operation_holds_no_slot() {
        let limits = Limits::new(LiveLimits {
            max_attempts: 1,
            max_concurrency: 2,
            rates: vec![("kms:ListGrants".to_string(), 4)],
        });
        let scope = Scope {
            account: "111111111111".to_string(),
            region: "eu-west-1".to_string(),
            service: "kms",
        };
        let recorder = Recorder::default();
        let connector = BoundedConnector {
            inner: SharedHttpConnector::new(recorder.clone()),
            slots: limits.state(&scope).slots,
            pace: Pace {
                rates: limits.rates.clone(),
                account: scope.account.clone(),
                region: scope.region.clone(),
            },
        };
        let send = |quota: &str| {
            let mut request = HttpRequest::new(aws_smithy_types::body::SdkBody::empty());
            request.add_extension(QuotaOf(quota.to_string()));
            connector.call(request)
        };
        let mut calls = Vec::new();
        for _ in 0..4 {
            calls.push(tokio::spawn(send("kms:ListGrants")));
        }
        for _ in 0..6 {
            calls.push(tokio::spawn(send("kms:GetKeyPolicy")));
        }
        for call in calls {
            assert!(matches!(call.await, Ok(Ok(_))));
        }
        let sent = recorder
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let third = sent
            .iter()
            .enumerate()
            .filter(|(_, quota)| *quota == "kms:ListGrants")
            .nth(2)
            .map(|(at, _)| at)
            .expect("a third ListGrants");
        let policies_before = sent[..third]
            .iter()
            .filter(|quota| *quota == "kms:GetKeyPolicy")
            .count();
        assert_eq!(policies_before, 6, "{sent:?}");
        assert_eq!(
            limits
                .rates()
                .granted("111111111111", "eu-west-1", "kms:ListGrants"),
            4
        );
        assert_eq!(limits.free_slots(&scope), 2);
    }

    #[test]
    fn the_summary_names_retries_and_failures() {
        let tally = Tally::default();
        tally.requests.store(40, Ordering::Relaxed);
        tally.retries.store(12, Ordering::Relaxed);
        tally.throttled.store(12, Ordering::Relaxed);
        let summary = tally.summary();
        assert_eq!(summary.retried, 12);
        assert!(summary.eventful());
        let text = summary.to_string();
        assert!(
            text.contains("40 requests, 12 retried, 12 throttled, 0 failed"),
            "{text}"
        );
        assert!(!text.contains("accounts"), "one account: {text}");
        assert!(!Tally::default().summary().eventful());
    }
}
