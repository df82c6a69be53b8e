//! Question history and the LLM response cache, both in `graph.db`.
//!
//! History rows are what an answer was (question, answer, citations, timings, usage) under an
//! id that never changes or gets reused. Citations, timings and usage are stored as the JSON the
//! answer layer hands over; this module does not interpret them.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Result, Store};

/// An answer to remember.
#[derive(Debug, Clone)]
pub struct NewHistory {
    pub query: String,
    pub answer: String,
    /// How the answer was made: `llm` or `extractive`.
    pub mode: String,
    pub retrieval_mode: String,
    pub model: Option<String>,
    pub language: Option<String>,
    pub citations: serde_json::Value,
    pub timings: serde_json::Value,
    pub usage: Option<serde_json::Value>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRecord {
    pub id: i64,
    pub created_at: String,
    pub query: String,
    pub answer: String,
    pub mode: String,
    pub retrieval_mode: String,
    pub model: Option<String>,
    pub language: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub citations: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub timings: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub usage: Option<serde_json::Value>,
}

/// One page of history, newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub items: Vec<HistoryRecord>,
    pub page: u32,
    pub per_page: u32,
    /// Entries matching the filter, over all pages.
    pub total: u64,
}

const HISTORY_SELECT: &str = "SELECT id, created_at, query, answer, mode, retrieval_mode, model,
        language, citations, timings, usage FROM history";

fn json_column(text: Option<String>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn history_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRecord> {
    let usage = json_column(r.get(10)?);
    Ok(HistoryRecord {
        id: r.get(0)?,
        created_at: r.get(1)?,
        query: r.get(2)?,
        answer: r.get(3)?,
        mode: r.get(4)?,
        retrieval_mode: r.get(5)?,
        model: r.get(6)?,
        language: r.get(7)?,
        citations: json_column(r.get(8)?),
        timings: json_column(r.get(9)?),
        usage: (!usage.is_null()).then_some(usage),
    })
}

/// `%needle%` for LIKE, with the wildcards in `needle` escaped (`ESCAPE '\'`).
fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// Remember an answer; returns its id.
    pub fn add_history(&self, entry: &NewHistory) -> Result<i64> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO history(created_at, query, answer, mode, retrieval_mode, model, language,
                                 citations, timings, usage)
             VALUES (strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                entry.query,
                entry.answer,
                entry.mode,
                entry.retrieval_mode,
                entry.model,
                entry.language,
                entry.citations.to_string(),
                entry.timings.to_string(),
                entry.usage.as_ref().map(|u| u.to_string()),
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn history_entry(&self, id: i64) -> Result<Option<HistoryRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{HISTORY_SELECT} WHERE id = ?1"))?;
            Ok(stmt.query_row(params![id], history_row).optional()?)
        })
    }

    /// Page `page` (1-based) of `per_page` entries, newest first, optionally only those whose
    /// question or answer contains `filter` (case-insensitive for ASCII).
    pub fn history(&self, page: u32, per_page: u32, filter: Option<&str>) -> Result<HistoryPage> {
        let pattern = filter.map(like_pattern);
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        self.read(|c| {
            const WHERE: &str =
                "WHERE ?1 IS NULL OR query LIKE ?1 ESCAPE '\\' OR answer LIKE ?1 ESCAPE '\\'";
            let total: i64 = c.query_row(
                &format!("SELECT count(*) FROM history {WHERE}"),
                params![pattern],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare_cached(&format!(
                "{HISTORY_SELECT} {WHERE} ORDER BY id DESC LIMIT ?2 OFFSET ?3"
            ))?;
            let items = stmt
                .query_map(params![pattern, i64::from(per_page), offset], history_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(HistoryPage {
                items,
                page,
                per_page,
                total: total as u64,
            })
        })
    }

    /// Forget one answer; false if there was none with this id.
    pub fn delete_history_entry(&self, id: i64) -> Result<bool> {
        Ok(self
            .writer()
            .execute("DELETE FROM history WHERE id = ?1", params![id])?
            > 0)
    }

    /// Forget every answer; returns how many there were. Ids are still never reused.
    pub fn clear_history(&self) -> Result<u64> {
        Ok(self.writer().execute("DELETE FROM history", [])? as u64)
    }

    // ---------------------------------------------------------------- LLM response cache

    pub fn cached_reply(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT reply FROM llm_cache WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    pub fn cache_reply(&self, key: &str, model: &str, reply: &str) -> Result<()> {
        self.writer().execute(
            "INSERT INTO llm_cache(key, model, reply, created_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ','now'))
             ON CONFLICT(key) DO UPDATE SET reply = excluded.reply",
            params![key, model, reply],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreOptions;

    fn store(dir: &std::path::Path) -> Result<Store> {
        Store::open(&StoreOptions {
            data_dir: dir.to_path_buf(),
            embedder: "test".into(),
            dimensions: 2,
        })
    }

    fn entry(query: &str) -> NewHistory {
        NewHistory {
            query: query.into(),
            answer: format!("answer to {query}"),
            mode: "extractive".into(),
            retrieval_mode: "hybrid".into(),
            model: None,
            language: None,
            citations: serde_json::json!([]),
            timings: serde_json::json!({"total_ms": 1.0}),
            usage: None,
        }
    }

    #[test]
    fn ids_are_never_reused_and_survive_reopening() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tmp", e))?;
        let (a, b) = {
            let s = store(dir.path())?;
            let a = s.add_history(&entry("first"))?;
            let b = s.add_history(&entry("second"))?;
            assert!(s.delete_history_entry(b)?);
            (a, b)
        };
        let s = store(dir.path())?;
        assert_eq!(s.history_entry(a)?.map(|e| e.query), Some("first".into()));
        let c = s.add_history(&entry("third"))?;
        assert!(c > b, "id {b} was reused as {c}");
        assert_eq!(s.clear_history()?, 2);
        let d = s.add_history(&entry("fourth"))?;
        assert!(d > c);
        Ok(())
    }

    #[test]
    fn pages_are_newest_first_and_the_filter_treats_wildcards_literally() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tmp", e))?;
        let s = store(dir.path())?;
        for q in [
            "who backed Lund",
            "100% of the vote",
            "who funded Marsh",
            "1000 votes",
        ] {
            s.add_history(&entry(q))?;
        }
        let page = s.history(1, 2, None)?;
        assert_eq!(page.total, 4);
        let queries: Vec<_> = page.items.iter().map(|e| e.query.as_str()).collect();
        assert_eq!(queries, ["1000 votes", "who funded Marsh"]);
        let page2 = s.history(2, 2, None)?;
        assert_eq!(page2.items[1].query, "who backed Lund");
        let pct = s.history(1, 10, Some("0%"))?;
        assert_eq!(pct.total, 1);
        assert_eq!(s.history(1, 10, Some("WHO"))?.total, 2);
        Ok(())
    }
}
