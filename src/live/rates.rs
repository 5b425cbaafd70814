//! Request rates per AWS operation: which quota each request counts
//! against (`kms:ListGrants`), AWS's published default rate for the
//! operations that have one, the user's `--rate` overrides, and the token
//! bucket that holds one (account, region, operation) to its rate.
//!
//! The rate is applied where the request is sent (the HTTP client every
//! client shares, in `limits`): an interceptor tags each attempt with its
//! operation, which the HTTP client cannot otherwise see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::aws::{CREDENTIAL_OPERATIONS, READ_OPERATIONS};

/// AWS's default request quotas, per second, per account and Region, for
/// the operations the tool sends that have one. AWS KMS Developer Guide,
/// "Request quotas": each quota is calculated independently (requests for
/// one operation have no effect on another's quota), and applies to all
/// requests in the account and Region, from every principal. IAM, AWS STS,
/// AWS Organizations, S3's bucket-configuration calls and S3 Control publish
/// no request rate; S3's 3,500 / 5,500 requests per second are per
/// partitioned prefix of a bucket's objects, not per account (Amazon S3 User
/// Guide, "Best practices design patterns: optimizing Amazon S3
/// performance"), so none is applied to them by default.
pub const PUBLISHED_RATES: &[(&str, u32)] = &[
    ("kms:DescribeKey", 2000),
    ("kms:GetKeyPolicy", 1000),
    ("kms:ListAliases", 500),
    ("kms:ListGrants", 100),
    ("kms:ListKeys", 500),
    ("kms:ListResourceTags", 2000),
];

/// The word a rate is named by for an SDK service name (`S3 Control` is
/// `s3control`): the service as one lowercase word, so that S3's and S3
/// Control's `GetPublicAccessBlock` stay apart.
fn service_word(service: &str) -> String {
    service
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The quota name of an operation: `kms:ListGrants`.
pub(crate) fn quota_name(service: &str, operation: &str) -> String {
    format!("{}:{operation}", service_word(service))
}

/// Every operation the tool may send, by its quota name.
fn operations() -> impl Iterator<Item = String> {
    READ_OPERATIONS
        .iter()
        .chain(CREDENTIAL_OPERATIONS)
        .map(|read| quota_name(read.service, read.operation))
}

/// The quota name of `text` (`kms:listgrants` is `kms:ListGrants`) when it
/// names an operation the tool sends; else why not, with what to give.
pub fn rate_operation(text: &str) -> Result<String, String> {
    if let Some(found) = operations().find(|name| name.eq_ignore_ascii_case(text)) {
        return Ok(found);
    }
    let operation = text
        .split_once(':')
        .map_or(text, |(_, operation)| operation);
    let mut elsewhere: Vec<String> = operations()
        .filter(|name| {
            name.split_once(':')
                .is_some_and(|(_, known)| known.eq_ignore_ascii_case(operation))
        })
        .collect();
    elsewhere.sort();
    elsewhere.dedup();
    let mut services: Vec<String> = READ_OPERATIONS
        .iter()
        .map(|read| service_word(read.service))
        .collect();
    services.dedup();
    services.sort();
    services.dedup();
    Err(if elsewhere.is_empty() {
        format!(
            "`{text}` is not an operation kms-s3-doctor sends: give SERVICE:Operation, such as kms:ListGrants (services: {})",
            services.join(", ")
        )
    } else {
        format!(
            "`{text}` is not an operation kms-s3-doctor sends: did you mean {}?",
            elsewhere.join(" or ")
        )
    })
}

/// A token bucket: at most `burst` requests at once, refilled at `rate`
/// per second. In any window of `w` seconds it grants at most
/// `burst + rate * w` requests. Time is given by the caller (seconds since
/// any fixed origin), so it can be driven by a test's clock.
#[derive(Debug, Clone)]
pub(crate) struct RateBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Duration,
    /// Requests granted, for the tally and tests.
    granted: usize,
}

impl RateBucket {
    /// A full bucket at `now`. One request at a time: requests are spread
    /// evenly over each second rather than sent in a burst at its start,
    /// since AWS does not say over what span it counts its per-second
    /// quotas.
    pub(crate) fn new(rate: u32, now: Duration) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            burst: 1.0,
            tokens: 1.0,
            last: now,
            granted: 0,
        }
    }

    fn refill(&mut self, now: Duration) {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = self.last.max(now);
    }

    /// Takes one request's token at `now`, or says how long until one is
    /// there.
    pub(crate) fn try_take(&mut self, now: Duration) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.granted += 1;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }

    /// How long from `now` until a token is there (zero: now).
    pub(crate) fn wait(&mut self, now: Duration) -> Duration {
        self.refill(now);
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }

    #[cfg(test)]
    pub(crate) fn granted(&self) -> usize {
        self.granted
    }
}

/// Where one rate is counted: the account, the region (`global` for IAM and
/// Organizations) and the operation's quota name.
type RateScope = (String, String, String);

/// The rates of one gathering: the user's overrides over AWS's defaults,
/// and one bucket per (account, region, operation) met so far.
pub(crate) struct Rates {
    overrides: HashMap<String, u32>,
    buckets: Mutex<HashMap<RateScope, Arc<Mutex<RateBucket>>>>,
    origin: Instant,
}

impl std::fmt::Debug for Rates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rates")
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl Rates {
    /// `overrides`: (quota name, requests per second) as `--rate` gave
    /// them, a later one winning.
    pub(crate) fn new(overrides: &[(String, u32)]) -> Self {
        Self {
            overrides: overrides.iter().cloned().collect(),
            buckets: Mutex::new(HashMap::new()),
            origin: Instant::now(),
        }
    }

    /// Requests per second allowed for `quota`: the user's, else AWS's
    /// published default, else none (only the concurrency bound applies).
    pub(crate) fn rate_of(&self, quota: &str) -> Option<u32> {
        self.overrides.get(quota).copied().or_else(|| {
            PUBLISHED_RATES
                .iter()
                .find(|(name, _)| *name == quota)
                .map(|(_, rate)| *rate)
        })
    }

    /// Time since this gathering's rates were made.
    pub(crate) fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// The bucket of `quota` in `account` and `region`, when it has a rate.
    pub(crate) fn bucket(
        &self,
        account: &str,
        region: &str,
        quota: &str,
    ) -> Option<Arc<Mutex<RateBucket>>> {
        let rate = self.rate_of(quota)?;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = self.now();
        Some(
            buckets
                .entry((account.to_string(), region.to_string(), quota.to_string()))
                .or_insert_with(|| Arc::new(Mutex::new(RateBucket::new(rate, now))))
                .clone(),
        )
    }

    /// Requests granted so far in `account`, `region` for `quota`.
    #[cfg(test)]
    pub(crate) fn granted(&self, account: &str, region: &str, quota: &str) -> usize {
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        buckets
            .get(&(account.to_string(), region.to_string(), quota.to_string()))
            .map_or(0, |bucket| {
                bucket
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .granted()
            })
    }
}

/// The quota name an attempt counts against, carried on the HTTP request
/// from the interceptor that knows the operation to the HTTP client that
/// paces it.
#[derive(Debug, Clone)]
pub(crate) struct QuotaOf(pub String);

/// Tags every attempt with its operation's quota name; attached to every
/// client. Before transmission, after signing: the tag is not part of the
/// request sent, and each retry is tagged anew (a retried request is
/// rebuilt from a copy that does not keep it).
#[derive(Debug, Clone, Default)]
pub(crate) struct QuotaTag;

impl Intercept for QuotaTag {
    fn name(&self) -> &'static str {
        "kms-s3-doctor request rate tag"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let quota = quota_name(metadata.service(), metadata.name());
            context.request_mut().add_extension(QuotaOf(quota));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds)
    }

    #[test]
    fn a_bucket_grants_one_then_one_per_interval() {
        let mut bucket = RateBucket::new(4, at(0.0));
        assert_eq!(bucket.try_take(at(0.0)), Ok(()));
        let wait = bucket.try_take(at(0.0)).unwrap_err();
        assert!((wait.as_secs_f64() - 0.25).abs() < 1e-9, "{wait:?}");
        assert!(bucket.try_take(at(0.2)).is_err());
        assert_eq!(bucket.try_take(at(0.25)), Ok(()));
        // Idle time does not bank more than one request.
        assert_eq!(bucket.wait(at(10.0)), Duration::ZERO);
        assert_eq!(bucket.try_take(at(10.0)), Ok(()));
        assert!(bucket.try_take(at(10.0)).is_err());
        assert_eq!(bucket.granted(), 3);
    }

    /// Eight callers on a simulated clock, each asking again when told to
    /// (a little late, as timers are) or after an uneven round trip once
    /// granted: in every window, no more than one request plus the rate
    /// times the window's length is granted, and the rate is used.
    #[test]
    fn no_window_holds_more_than_the_rate_allows() {
        for rate in [1_u32, 3, 10, 100] {
            let mut bucket = RateBucket::new(rate, Duration::ZERO);
            let mut granted = Vec::new();
            let mut next = [0.0_f64; 8];
            let mut step = 0_u64;
            loop {
                let (caller, now) = next
                    .iter()
                    .copied()
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .unwrap_or_default();
                if now >= 5.0 {
                    break;
                }
                step += 1;
                // Uneven amounts between 0.01 and 2.99 ms.
                let uneven = (((step * 7919) % 299) as f64 + 1.0) / 100_000.0;
                next[caller] = match bucket.try_take(at(now)) {
                    Ok(()) => {
                        granted.push(now);
                        now + uneven * 10.0
                    }
                    Err(wait) => now + wait.as_secs_f64() + uneven / 6.0,
                };
            }
            for (first, start) in granted.iter().enumerate() {
                for (last, end) in granted.iter().enumerate().skip(first) {
                    let count = (last - first + 1) as f64;
                    let allowed = 1.0 + f64::from(rate) * (end - start) + 1e-9;
                    assert!(
                        count <= allowed,
                        "rate {rate}: {count} granted in [{start}, {end}]"
                    );
                }
            }
            let expected = f64::from(rate) * 5.0;
            assert!(
                granted.len() as f64 >= expected * 0.9,
                "rate {rate}: {} granted in 5 s",
                granted.len()
            );
        }
    }

    #[test]
    fn published_rates_and_overrides() {
        let rates = Rates::new(&[("kms:ListGrants".to_string(), 7)]);
        assert_eq!(rates.rate_of("kms:ListGrants"), Some(7));
        // AWS KMS Developer Guide, "Request quotas": DescribeKey 2,000,
        // GetKeyPolicy 1,000 per second, each its own quota.
        assert_eq!(rates.rate_of("kms:DescribeKey"), Some(2000));
        assert_eq!(rates.rate_of("kms:GetKeyPolicy"), Some(1000));
        // IAM publishes no request rate.
        assert_eq!(rates.rate_of("iam:GetAccountAuthorizationDetails"), None);
        assert!(rates.bucket("1", "eu-west-1", "iam:GetRole").is_none());
        // One bucket per account, region and operation.
        let one = rates.bucket("1", "eu-west-1", "kms:ListGrants").unwrap();
        let again = rates.bucket("1", "eu-west-1", "kms:ListGrants").unwrap();
        assert!(Arc::ptr_eq(&one, &again));
        for (account, region, quota) in [
            ("2", "eu-west-1", "kms:ListGrants"),
            ("1", "us-east-1", "kms:ListGrants"),
            ("1", "eu-west-1", "kms:DescribeKey"),
        ] {
            let other = rates.bucket(account, region, quota).unwrap();
            assert!(!Arc::ptr_eq(&one, &other), "{account} {region} {quota}");
        }
        for published in PUBLISHED_RATES {
            assert!(rate_operation(published.0).is_ok(), "{published:?}");
        }
    }

    #[test]
    fn rate_names_are_operations_the_tool_sends() {
        assert_eq!(
            rate_operation("kms:listgrants").as_deref(),
            Ok("kms:ListGrants")
        );
        assert_eq!(
            rate_operation("s3control:GetPublicAccessBlock").as_deref(),
            Ok("s3control:GetPublicAccessBlock")
        );
        assert_eq!(
            rate_operation("organizations:ListAccounts").as_deref(),
            Ok("organizations:ListAccounts")
        );
        let error = rate_operation("kms:CreateGrant").unwrap_err();
        assert!(error.contains("kms:ListGrants"), "{error}");
        let error = rate_operation("s3:ListAccessPoints").unwrap_err();
        assert!(
            error.contains("did you mean s3control:ListAccessPoints"),
            "{error}"
        );
        assert!(
            rate_operation("ListGrants")
                .unwrap_err()
                .contains("kms:ListGrants")
        );
    }
}
