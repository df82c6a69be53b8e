//! Metric names, labels and histogram buckets: the contract dashboards and alerts rely on
//! (DESIGN §7). Base units; counters end in `_total`.

// ---- HTTP (OpenTelemetry HTTP server semantic conventions, Prometheus spelling)
pub const HTTP_DURATION: &str = "http_server_request_duration_seconds";
pub const HTTP_ACTIVE: &str = "http_server_active_requests";

// ---- retrieval
/// `stage` ∈ vector, keyword, graph, rerank, total. The dashboard's "vector-DB query time" is
/// `stage="vector"`.
pub const RETRIEVAL_DURATION: &str = "sociograph_retrieval_duration_seconds";

// ---- language models
/// `model`, `operation` (extract, answer, translate, embed, rerank), `outcome` (ok, error,
/// timeout, busy, cached).
pub const LLM_DURATION: &str = "sociograph_llm_request_duration_seconds";
/// `model`, `operation`, `direction` (input, output).
pub const LLM_TOKENS: &str = "sociograph_llm_tokens_total";
/// `model`, `operation`.
pub const LLM_COST: &str = "sociograph_llm_cost_usd_total";

// ---- ingest
/// `outcome` ∈ ingested, duplicate, failed.
pub const INGEST_DOCUMENTS: &str = "sociograph_ingest_documents_total";
/// `stage` ∈ load, chunk, embed, extract, index.
pub const INGEST_STAGE_DURATION: &str = "sociograph_ingest_stage_duration_seconds";
pub const INGEST_QUEUE_DEPTH: &str = "sociograph_ingest_queue_depth";

// ---- corpus
pub const DOCUMENTS: &str = "sociograph_documents";
pub const CHUNKS: &str = "sociograph_chunks";
pub const ENTITIES: &str = "sociograph_entities";
pub const RELATIONS: &str = "sociograph_relations";
pub const VECTORS: &str = "sociograph_vectors";

// ---- GPU (NVML; with no GPU only `available` = 0 exists)
pub const GPU_AVAILABLE: &str = "sociograph_gpu_available";
/// `gpu` = index.
pub const GPU_UTILIZATION: &str = "sociograph_gpu_utilization_ratio";
pub const GPU_MEMORY_USED: &str = "sociograph_gpu_memory_used_bytes";

// ---- backups
pub const BACKUP_LAST_SUCCESS: &str = "sociograph_backup_last_success_timestamp_seconds";
pub const BACKUP_LAST_VERIFIED: &str = "sociograph_backup_last_verified_timestamp_seconds";

// ---- scale-out snapshots
/// The published snapshot version an API replica serves (or the worker last published).
pub const SNAPSHOT_VERSION: &str = "sociograph_snapshot_version";
/// Seconds since that snapshot was published (refreshed at every poll).
pub const SNAPSHOT_AGE: &str = "sociograph_snapshot_age_seconds";
/// `outcome` = swapped, failed: snapshot downloads by a replica; published, failed: by the worker.
pub const SNAPSHOT_UPDATES: &str = "sociograph_snapshot_updates_total";

// ---- the process
/// `version`, `revision`, `color`; always 1.
pub const BUILD_INFO: &str = "sociograph_build_info";
/// 1 while `/health` answers 200.
pub const READY: &str = "sociograph_ready";

/// 1 ms to 60 s: searches take milliseconds, answers can take most of a minute.
pub const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];
/// 100 µs to 5 s.
pub const RETRIEVAL_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// 10 ms to 2 min.
pub const LLM_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
];
/// 1 ms to 10 min (extraction of a long document through a model is slow).
pub const INGEST_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Every histogram with its buckets, for the recorder.
pub const HISTOGRAMS: &[(&str, &[f64])] = &[
    (HTTP_DURATION, HTTP_BUCKETS),
    (RETRIEVAL_DURATION, RETRIEVAL_BUCKETS),
    (LLM_DURATION, LLM_BUCKETS),
    (INGEST_STAGE_DURATION, INGEST_BUCKETS),
];
