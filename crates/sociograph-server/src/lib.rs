//! The SocioGraph HTTP service: one port serving the API, health and docs.
//!
//! `router(state)` is a pure function of [`AppState`]; [`Application::build`] binds the
//! listener (port 0 in tests), starts loading the data directory in the background (health
//! answers 503 until it is ready) and runs until SIGTERM/SIGINT, draining gracefully.
//! Handlers are thin: they parse input into `core` types and map `core` errors to statuses.

mod app;
mod auth;
mod error;
mod graph;
mod jobs;
mod limits;
mod observe;
mod openapi;
mod qa;
mod replica;
mod routes;
mod settings;
mod state;
mod ui;

pub use app::{Application, Backend, ExtractorFactory, Loader, Models, shutdown_signal};
pub use error::ApiError;
pub use jobs::public_reason;
pub use observe::MetricsRender;
pub use replica::{Opener, ReplicaSource};
pub use routes::router;
pub use settings::{RateLimitSettings, ServerSettings};
pub use state::{AppState, Readiness, Services, Writes};
