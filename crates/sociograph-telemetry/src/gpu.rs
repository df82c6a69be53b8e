//! The GPU sampler: NVML, loaded at run time (`libnvidia-ml.so` is opened by `Nvml::init`, so
//! there is no link-time dependency and the binary runs on machines without a driver).
//!
//! No GPU (no driver, no library, no device) is a normal state, never an error: it exports
//! `sociograph_gpu_available 0` and nothing else.

use std::time::Duration;

use nvml_wrapper::Nvml;

use crate::record;

/// What the sampler found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuState {
    /// NVML answered; this many devices are sampled.
    Available { devices: u32 },
    /// No usable GPU, and why (for the log).
    Unavailable(String),
}

/// Probe NVML and, if it answers, sample every `interval` on a background thread.
pub fn start(interval: Duration) -> GpuState {
    let nvml = match Nvml::init() {
        Ok(nvml) => nvml,
        Err(e) => return unavailable(format!("NVML did not load: {e}")),
    };
    let devices = match nvml.device_count() {
        Ok(0) => return unavailable("NVML found no GPU".into()),
        Ok(n) => n,
        Err(e) => return unavailable(format!("NVML could not count GPUs: {e}")),
    };
    record::gpu_available(true);
    sample(&nvml, devices);
    let spawned = std::thread::Builder::new()
        .name("gpu-sampler".into())
        .spawn(move || {
            loop {
                std::thread::sleep(interval);
                sample(&nvml, devices);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the GPU sampler thread");
    }
    GpuState::Available { devices }
}

/// The no-GPU branch: one gauge, nothing else.
pub fn unavailable(reason: String) -> GpuState {
    record::gpu_available(false);
    GpuState::Unavailable(reason)
}

fn sample(nvml: &Nvml, devices: u32) {
    for index in 0..devices {
        let Ok(device) = nvml.device_by_index(index) else {
            continue;
        };
        let utilization = device
            .utilization_rates()
            .map(|u| f64::from(u.gpu) / 100.0)
            .unwrap_or(0.0);
        let memory = device.memory_info().map(|m| m.used).unwrap_or(0);
        record::gpu(index, utilization, memory);
    }
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    fn rendered(f: impl FnOnce() -> GpuState) -> (GpuState, String) {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let state = metrics::with_local_recorder(&recorder, f);
        (state, handle.render())
    }

    #[test]
    fn without_a_gpu_only_the_availability_gauge_is_exported_as_0() {
        let (state, text) = rendered(|| unavailable("no driver in this test".into()));
        assert_eq!(
            state,
            GpuState::Unavailable("no driver in this test".into())
        );
        assert!(text.contains("sociograph_gpu_available 0"), "{text}");
        assert!(!text.contains("sociograph_gpu_utilization_ratio"), "{text}");
        assert!(!text.contains("sociograph_gpu_memory_used_bytes"), "{text}");
    }

    /// On this machine (no GPU) NVML fails to load and the probe takes the no-GPU branch
    /// without failing; on a machine with a GPU it samples every device once at start.
    #[test]
    fn probing_never_fails_and_exports_what_it_found() {
        let (state, text) = rendered(|| start(Duration::from_secs(3600)));
        match state {
            GpuState::Unavailable(reason) => {
                assert!(!reason.is_empty());
                assert!(text.contains("sociograph_gpu_available 0"), "{text}");
                assert!(!text.contains("sociograph_gpu_utilization_ratio"), "{text}");
            }
            GpuState::Available { devices } => {
                assert!(text.contains("sociograph_gpu_available 1"), "{text}");
                for gpu in 0..devices {
                    assert!(text.contains(&format!(
                        "sociograph_gpu_memory_used_bytes{{gpu=\"{gpu}\"}}"
                    )));
                }
            }
        }
    }
}
