//! The Prometheus recorder: installs the global `metrics` recorder with the contract's buckets
//! (without buckets the exporter renders summaries, and every `histogram_quantile` finds
//! nothing) and renders the text format for `GET /metrics`.

use std::time::Duration;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::names::*;

/// Install the recorder (once per process) and start its upkeep thread. Returns the handle
/// that renders the exposition text.
pub fn install() -> Result<PrometheusHandle, String> {
    let mut builder = PrometheusBuilder::new();
    for (name, buckets) in HISTOGRAMS {
        builder = builder
            .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
            .map_err(|e| format!("metric buckets for {name}: {e}"))?;
    }
    let handle = builder
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    describe();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| format!("cannot start the metrics upkeep thread: {e}"))?;
    Ok(handle)
}

fn describe() {
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP requests by method, route template and status code"
    );
    describe_gauge!(HTTP_ACTIVE, "HTTP requests being served");
    describe_histogram!(
        RETRIEVAL_DURATION,
        Unit::Seconds,
        "Retrieval time by stage (vector = the vector index query)"
    );
    describe_histogram!(
        LLM_DURATION,
        Unit::Seconds,
        "Language model calls by model, operation and outcome"
    );
    describe_counter!(
        LLM_TOKENS,
        "Language model tokens by model, operation and direction"
    );
    describe_gauge!(
        LLM_COST,
        "USD spent on language models, from the price table (only grows)"
    );
    describe_counter!(INGEST_DOCUMENTS, "Documents ingested, by outcome");
    describe_histogram!(
        INGEST_STAGE_DURATION,
        Unit::Seconds,
        "Ingest time per document and stage"
    );
    describe_gauge!(INGEST_QUEUE_DEPTH, "Ingest jobs waiting or running");
    describe_gauge!(DOCUMENTS, "Documents in the corpus");
    describe_gauge!(CHUNKS, "Chunks in the corpus");
    describe_gauge!(ENTITIES, "Entities in the graph");
    describe_gauge!(RELATIONS, "Relations in the graph");
    describe_gauge!(VECTORS, "Vectors in the ANN index");
    describe_gauge!(
        GPU_AVAILABLE,
        "1 when an NVIDIA GPU is visible through NVML"
    );
    describe_gauge!(GPU_UTILIZATION, "GPU utilisation, 0 to 1, per GPU");
    describe_gauge!(GPU_MEMORY_USED, Unit::Bytes, "GPU memory in use, per GPU");
    describe_gauge!(
        BACKUP_LAST_SUCCESS,
        "Unix time of the last successful backup"
    );
    describe_gauge!(
        BACKUP_LAST_VERIFIED,
        "Unix time of the last verified backup"
    );
    describe_gauge!(SNAPSHOT_VERSION, "Published snapshot version being served");
    describe_gauge!(
        SNAPSHOT_AGE,
        Unit::Seconds,
        "Seconds since the served snapshot was published"
    );
    describe_counter!(
        SNAPSHOT_UPDATES,
        "Snapshot downloads (replicas) and publishes (worker), by outcome"
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; labels carry version, revision and color"
    );
    describe_gauge!(READY, "1 while the service reports ready");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every histogram of the contract renders buckets (not a summary) from its first bucket
    /// to its last.
    #[test]
    fn histograms_have_the_contract_buckets() -> Result<(), String> {
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in HISTOGRAMS {
            builder = builder
                .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
                .map_err(|e| e.to_string())?;
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            crate::record::http_request("GET", "/search", 200, Duration::from_millis(3));
            crate::record::retrieval_stage("vector", Duration::from_micros(300));
            crate::record::llm_request("m", "answer", "ok", Duration::from_secs(2));
            crate::record::ingest_stage("embed", Duration::from_millis(40));
        });
        let text = handle.render();
        for (name, buckets) in HISTOGRAMS {
            assert!(text.contains(&format!("{name}_bucket{{")), "{name}: {text}");
            let first = buckets.first().copied().unwrap_or_default();
            let last = buckets.last().copied().unwrap_or_default();
            assert!(
                text.contains(&format!("le=\"{first}\"")),
                "{name} lacks le={first}"
            );
            assert!(
                text.contains(&format!("le=\"{last}\"")),
                "{name} lacks le={last}"
            );
        }
        Ok(())
    }
}
