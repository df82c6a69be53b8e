//! Versioned schema migrations for `graph.db`.
//!
//! Each entry runs once, in order, inside one transaction that also bumps `user_version`.
//! Never edit a migration that has shipped: append a new one.

use rusqlite::Connection;

use crate::{Error, Result};

const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE documents (
        id           TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        title        TEXT NOT NULL,
        source       TEXT NOT NULL,
        media_type   TEXT NOT NULL,
        pages        INTEGER NOT NULL,
        bytes        INTEGER NOT NULL,
        created_at   TEXT NOT NULL
    );

    -- Byte offsets are into the text of the chunk's page (or the whole document when unpaged).
    CREATE TABLE chunks (
        id          INTEGER PRIMARY KEY,
        document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal     INTEGER NOT NULL,
        page        INTEGER,
        byte_start  INTEGER NOT NULL,
        byte_end    INTEGER NOT NULL,
        text        TEXT NOT NULL,
        embedding   BLOB NOT NULL,
        UNIQUE (document_id, ordinal)
    );

    -- rowid = chunks.id; holds the normalised text (see textnorm) so Arabic variants match.
    CREATE VIRTUAL TABLE chunks_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');

    -- Identity is (key, type): two entities may share a name if their types differ.
    CREATE TABLE entities (
        id          INTEGER PRIMARY KEY,
        key         TEXT NOT NULL,
        type        TEXT NOT NULL,
        name        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        UNIQUE (key, type)
    );

    CREATE TABLE entity_aliases (
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        alias_key TEXT NOT NULL,
        alias     TEXT NOT NULL,
        PRIMARY KEY (entity_id, alias_key)
    );
    CREATE INDEX entity_aliases_by_key ON entity_aliases(alias_key);

    CREATE TABLE mentions (
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        chunk_id  INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
        count     INTEGER NOT NULL,
        PRIMARY KEY (entity_id, chunk_id)
    );
    CREATE INDEX mentions_by_chunk ON mentions(chunk_id);

    CREATE TABLE relations (
        id          INTEGER PRIMARY KEY,
        source_id   INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        target_id   INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        type        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        UNIQUE (source_id, target_id, type)
    );
    CREATE INDEX relations_by_target ON relations(target_id);

    -- Each supporting chunk is one piece of evidence; a relation's weight is its evidence count.
    CREATE TABLE relation_evidence (
        relation_id INTEGER NOT NULL REFERENCES relations(id) ON DELETE CASCADE,
        chunk_id    INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
        description TEXT NOT NULL,
        PRIMARY KEY (relation_id, chunk_id)
    );
    CREATE INDEX relation_evidence_by_chunk ON relation_evidence(chunk_id);

    CREATE TABLE jobs (
        id           TEXT PRIMARY KEY,
        status       TEXT NOT NULL,
        source       TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        document_id  TEXT NOT NULL,
        stage        TEXT NOT NULL DEFAULT '',
        progress     REAL NOT NULL DEFAULT 0,
        error        TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE INDEX jobs_by_status ON jobs(status);
    "#,
    // 2: question history and the LLM response cache.
    r#"
    -- AUTOINCREMENT: an id is never reused, even after deletes, so links to answers stay true.
    CREATE TABLE history (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at     TEXT NOT NULL,
        query          TEXT NOT NULL,
        answer         TEXT NOT NULL,
        mode           TEXT NOT NULL,
        retrieval_mode TEXT NOT NULL,
        model          TEXT,
        language       TEXT,
        citations      TEXT NOT NULL,
        timings        TEXT NOT NULL,
        usage          TEXT
    );

    -- Replies to deterministic LLM calls (extraction), keyed by a hash of the whole request.
    CREATE TABLE llm_cache (
        key        TEXT PRIMARY KEY,
        model      TEXT NOT NULL,
        reply      TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    "#,
];

/// The schema version this binary writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Bring `conn` up to [`LATEST`], refusing databases from a newer binary.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied graph.db migration");
    }
    Ok(())
}
