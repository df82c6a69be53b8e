//! Settings the HTTP layer needs; the binary fills them from its layered configuration.

use std::net::IpAddr;
use std::time::Duration;

use secrecy::SecretString;

#[derive(Clone)]
pub struct ServerSettings {
    /// `HOST:PORT` to bind; port 0 picks a free port.
    pub listen: String,
    /// Deployment color reported by `/health` (blue|green).
    pub color: String,
    /// Largest accepted upload, per file, in bytes.
    pub max_upload_bytes: u64,
    /// Requests served at once before new ones get 429.
    pub max_in_flight: usize,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// After SIGTERM: how long `/health` answers 503 while requests are still served (each
    /// response closing its connection), so the load balancer stops routing here before the
    /// listener closes.
    pub drain: Duration,
    /// After SIGTERM: the most the whole shutdown may take (the notice period above included).
    /// Requests still running then are cut and the process exits; unfinished ingest jobs stay
    /// queued and resume at the next start.
    pub drain_timeout: Duration,
    /// Bearer keys accepted on mutating routes; empty = no auth.
    pub api_keys: Vec<SecretString>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    pub rate_limit: RateLimitSettings,
    pub version: String,
    /// Renders `/metrics`; `None` answers 404 there (no recorder in this process).
    pub metrics: Option<crate::observe::MetricsRender>,
}

/// Per-client token bucket; off by default.
#[derive(Clone, Debug)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub per_second: f64,
    pub burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            enabled: false,
            per_second: 20.0,
            burst: 40,
        }
    }
}
