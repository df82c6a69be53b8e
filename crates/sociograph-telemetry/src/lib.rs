//! SocioGraph's telemetry contract and its machinery.
//!
//! [`names`] and [`record`] are the metric contract of DESIGN §7 — every name, label and
//! bucket is declared here once, and the rest of the code records through the helpers in
//! [`record`], never by spelling label sets by hand. They depend only on the `metrics` facade,
//! so library crates use this crate with `default-features = false`. With the `exporter`
//! feature (the binary's), [`prometheus`] installs the recorder that renders `/metrics` and
//! [`gpu`] samples NVML.

#[cfg(feature = "exporter")]
pub mod gpu;
pub mod names;
#[cfg(feature = "exporter")]
pub mod prometheus;
pub mod record;
