//! SocioGraph's telemetry contract and its machinery.
//!
//! [`names`] and [`record`] are the metric contract of DESIGN §7 — every name, label and
//! bucket is declared here once, and the rest of the code records through the helpers in
//! [`record`], never by spelling label sets by hand. They depend only on the `metrics` facade,
//! so library crates use this crate with `default-features = false`. With the `full`
//! feature (the binary's and the server's), [`prometheus`] installs the recorder that renders
//! `/metrics`, [`gpu`] samples NVML, and [`trace`] sets up logs and OpenTelemetry traces.

#[cfg(feature = "full")]
pub mod gpu;
#[cfg(feature = "full")]
mod logs;
pub mod names;
#[cfg(feature = "full")]
pub mod prometheus;
pub mod record;
#[cfg(feature = "full")]
pub mod trace;
