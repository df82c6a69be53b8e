//! Overload protection: a global in-flight limit and an optional per-client rate limit.
//!
//! Both answer 429 with `Retry-After` instead of queueing, so an overloaded instance sheds
//! load quickly and the caller (or the load balancer) can go elsewhere. The client address is
//! the TCP peer, or the nearest untrusted hop of `X-Forwarded-For` when the peer is a
//! configured proxy — never a header a client could forge.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::settings::RateLimitSettings;
use crate::state::AppState;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct RateLimiter {
    settings: RateLimitSettings,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

const MAX_TRACKED_CLIENTS: usize = 100_000;

impl RateLimiter {
    pub fn new(settings: RateLimitSettings) -> Self {
        RateLimiter {
            settings,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` if `client` may proceed now, else the seconds until a token is available.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if !self.settings.enabled {
            return Ok(());
        }
        let rate = self.settings.per_second.max(0.001);
        let burst = f64::from(self.settings.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS {
            // Forget clients whose buckets have refilled: they are indistinguishable from new.
            buckets.retain(|_, b| (now - b.updated).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The client address for rate limiting.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    // Walk from the nearest hop outwards, skipping our own proxies.
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// Middleware: per-client rate limit, then the global in-flight limit.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.settings.rate_limit.enabled {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let client = client_ip(peer, request.headers(), &state.settings.trusted_proxies);
        if let Err(retry_after_secs) = state.rate_limiter.check(client, Instant::now()) {
            return ApiError::TooManyRequests {
                message: format!("rate limit exceeded for {client}; retry in {retry_after_secs}s"),
                retry_after_secs,
            }
            .into_response();
        }
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return ApiError::TooManyRequests {
            message: "the server is at its in-flight request limit; retry shortly".into(),
            retry_after_secs: 1,
        }
        .into_response();
    };
    next.run(request).await
}

/// Middleware: abandon a request after `request_timeout` with a JSON 503 (the same error
/// contract as every other failure, unlike an empty-bodied timeout response).
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.settings.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit.as_secs()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_refuses_then_refills() {
        let limiter = RateLimiter::new(RateLimitSettings {
            enabled: true,
            per_second: 1.0,
            burst: 2,
        });
        let ip = IpAddr::from([10, 0, 0, 1]);
        let t0 = Instant::now();
        assert!(limiter.check(ip, t0).is_ok());
        assert!(limiter.check(ip, t0).is_ok());
        assert_eq!(limiter.check(ip, t0), Err(1));
        assert!(limiter.check(ip, t0 + Duration::from_millis(1100)).is_ok());
        // Another client has its own bucket.
        assert!(limiter.check(IpAddr::from([10, 0, 0, 2]), t0).is_ok());
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_configured_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "1.2.3.4, 10.0.0.9"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let proxy: IpAddr = [10, 0, 0, 9].into();
        let lb: IpAddr = [10, 0, 0, 1].into();
        assert_eq!(client_ip(lb, &headers, &[]), lb);
        assert_eq!(
            client_ip(lb, &headers, &[lb, proxy]),
            IpAddr::from([1, 2, 3, 4])
        );
    }
}
