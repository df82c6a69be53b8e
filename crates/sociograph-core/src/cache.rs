//! The LLM response cache, kept in `graph.db` so it survives restarts and deletes: re-ingesting
//! a document the extractor has already read costs no model calls.

use std::sync::Arc;

use sociograph_llm::ResponseCache;
use sociograph_store::Store;

/// [`ResponseCache`] over the store's `llm_cache` table. A cache that cannot be read or
/// written is a miss, logged; it never fails the call it serves.
pub struct StoreCache(pub Arc<Store>);

impl ResponseCache for StoreCache {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .cached_reply(key)
            .inspect_err(|e| tracing::warn!(error = %e, "LLM cache read failed"))
            .ok()
            .flatten()
    }

    fn put(&self, key: &str, model: &str, reply: &str) {
        if let Err(e) = self.0.cache_reply(key, model, reply) {
            tracing::warn!(error = %e, "LLM cache write failed");
        }
    }
}
