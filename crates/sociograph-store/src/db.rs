//! The [`Store`]: `graph.db`, the vector index and `uploads/`, behind one handle.
//!
//! One writer connection (behind a mutex) and a small pool of reader connections; SQLite in WAL
//! mode lets readers proceed while a document is being written. Every document write is one
//! transaction, then the vector index is updated in memory and saved by [`Store::flush_index`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::migrations;
use crate::textnorm;
use crate::types::*;
use crate::vector::{VectorHit, VectorIndex};
use crate::{Error, Result};

/// Where the store lives and which embedder its vectors come from.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub data_dir: PathBuf,
    /// Stable identifier of the embedder (model and dimension), e.g. `all-MiniLM-L6-v2`.
    pub embedder: String,
    pub dimensions: usize,
}

/// The data directory, opened.
pub struct Store {
    data_dir: PathBuf,
    db_path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    index: VectorIndex,
    /// The index changed since it was last saved. Read and written under the writer lock.
    dirty: AtomicBool,
    /// The committed write generation (mirrors `meta.generation`).
    generation: AtomicU64,
}

const READER_POOL_MAX: usize = 16;

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn embedding_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_embedding(blob: &[u8]) -> Result<Vec<f32>> {
    if !blob.len().is_multiple_of(4) {
        return Err(Error::Corrupt(format!(
            "embedding blob of {} bytes",
            blob.len()
        )));
    }
    Ok(blob
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn bump_generation(tx: &Transaction<'_>) -> Result<u64> {
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('generation', '1')
         ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        [],
    )?;
    let generation: String =
        tx.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
            r.get(0)
        })?;
    generation
        .parse()
        .map_err(|_| Error::Corrupt(format!("meta.generation = {generation:?}")))
}

/// Documents, chunks, entities and relations stored, in one statement.
pub(crate) fn read_counts(conn: &Connection) -> rusqlite::Result<Counts> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks),
                (SELECT count(*) FROM entities), (SELECT count(*) FROM relations)",
        [],
        |r| {
            Ok(Counts {
                documents: r.get::<_, i64>(0)? as u64,
                chunks: r.get::<_, i64>(1)? as u64,
                entities: r.get::<_, i64>(2)? as u64,
                relations: r.get::<_, i64>(3)? as u64,
            })
        },
    )
}

pub(crate) fn read_generation(conn: &Connection) -> Result<u64> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match value {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| Error::Corrupt(format!("meta.generation = {v:?}"))),
    }
}

impl Store {
    /// Open (creating if needed) the data directory. Refuses a directory whose vectors were made
    /// by a different embedder; rebuilds the vector index if it is missing or stale.
    pub fn open(options: &StoreOptions) -> Result<Store> {
        let data_dir = options.data_dir.clone();
        for dir in [data_dir.clone(), data_dir.join("uploads")] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let db_path = data_dir.join("graph.db");
        let mut conn = open_connection(&db_path)?;
        migrations::migrate(&mut conn)?;

        let embedder_id = format!("{}:{}", options.embedder, options.dimensions);
        let stored: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'embedder'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match stored {
            Some(stored) if stored != embedder_id => {
                return Err(Error::EmbedderMismatch {
                    stored,
                    requested: embedder_id,
                });
            }
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('embedder', ?1)",
                    params![embedder_id],
                )?;
            }
        }

        let generation = read_generation(&conn)?;
        let vector_dir = data_dir.join("vector_store");
        let chunk_count: i64 = conn.query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))?;
        let loaded = VectorIndex::load_if_current(
            &vector_dir,
            &embedder_id,
            options.dimensions,
            generation,
        )?
        // A saved index that lost vectors (a failed update after a commit) is stale too.
        .filter(|index| index.len() as i64 == chunk_count);
        let index = match loaded {
            Some(index) => index,
            None => {
                let index = VectorIndex::empty(&vector_dir, &embedder_id, options.dimensions)?;
                let mut stmt = conn.prepare("SELECT id, embedding FROM chunks")?;
                let mut rows = stmt.query([])?;
                let mut batch: Vec<(i64, Vec<f32>)> = Vec::new();
                while let Some(row) = rows.next()? {
                    let blob: Vec<u8> = row.get(1)?;
                    batch.push((row.get(0)?, blob_to_embedding(&blob)?));
                }
                drop(rows);
                drop(stmt);
                index.add_all(batch.iter().map(|(k, v)| (*k, v.as_slice())))?;
                index.save(generation)?;
                tracing::info!(vectors = batch.len(), "rebuilt vector index from graph.db");
                index
            }
        };

        Ok(Store {
            data_dir,
            db_path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            index,
            dirty: AtomicBool::new(false),
            generation: AtomicU64::new(generation),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub(crate) fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` on a pooled read-only connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.db_path)?,
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < READER_POOL_MAX {
            pool.push(conn);
        }
        result
    }

    // ---------------------------------------------------------------- uploads

    /// Where the original with this content hash is kept.
    pub fn upload_path(&self, content_hash: &str) -> PathBuf {
        let prefix = content_hash.get(..2).unwrap_or("00");
        self.data_dir
            .join("uploads")
            .join(prefix)
            .join(content_hash)
    }

    /// Keep an original, content-addressed; a no-op if it is already there.
    pub fn save_upload(&self, content_hash: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.upload_path(content_hash);
        if path.exists() {
            return Ok(path);
        }
        let dir = path.parent().unwrap_or(&self.data_dir).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let tmp = dir.join(format!(".{content_hash}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    fn remove_upload(&self, content_hash: &str) {
        let path = self.upload_path(content_hash);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove upload");
        }
    }

    // ---------------------------------------------------------------- documents

    /// Write a whole document in one transaction, then add its vectors to the index.
    pub fn insert_document(&self, doc: &NewDocument) -> Result<InsertOutcome> {
        for chunk in &doc.chunks {
            if chunk.embedding.len() != self.index.dimensions() {
                return Err(Error::DimensionMismatch {
                    expected: self.index.dimensions(),
                    got: chunk.embedding.len(),
                });
            }
        }
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT id FROM documents WHERE content_hash = ?1",
                params![doc.content_hash],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Ok(InsertOutcome::AlreadyPresent);
        }
        tx.execute(
            "INSERT INTO documents(id, content_hash, title, source, media_type, pages, bytes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            params![
                doc.id,
                doc.content_hash,
                doc.title,
                doc.source,
                doc.media_type,
                doc.pages,
                doc.bytes as i64
            ],
        )?;

        let mut chunk_ids = Vec::with_capacity(doc.chunks.len());
        let mut by_ordinal = HashMap::new();
        {
            let mut insert_chunk = tx.prepare_cached(
                "INSERT INTO chunks(document_id, ordinal, page, byte_start, byte_end, text, embedding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut insert_fts =
                tx.prepare_cached("INSERT INTO chunks_fts(rowid, text) VALUES (?1, ?2)")?;
            for chunk in &doc.chunks {
                insert_chunk.execute(params![
                    doc.id,
                    chunk.ordinal,
                    chunk.page,
                    chunk.byte_start as i64,
                    chunk.byte_end as i64,
                    chunk.text,
                    embedding_to_blob(&chunk.embedding)
                ])?;
                let id = tx.last_insert_rowid();
                insert_fts.execute(params![id, textnorm::normalize(&chunk.text)])?;
                chunk_ids.push(id);
                by_ordinal.insert(chunk.ordinal, id);
            }
        }

        let chunk_id = |ordinal: u32| -> Result<i64> {
            by_ordinal
                .get(&ordinal)
                .copied()
                .ok_or_else(|| Error::Corrupt(format!("no chunk with ordinal {ordinal}")))
        };

        let mut entity_ids = Vec::with_capacity(doc.entities.len());
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO entities(key, type, name, description) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(key, type) DO UPDATE SET
                   description = CASE WHEN entities.description = '' THEN excluded.description
                                      ELSE entities.description END
                 RETURNING id",
            )?;
            let mut alias = tx.prepare_cached(
                "INSERT OR IGNORE INTO entity_aliases(entity_id, alias_key, alias) VALUES (?1, ?2, ?3)",
            )?;
            for entity in &doc.entities {
                let key = textnorm::name_key(&entity.name);
                if key.is_empty() {
                    return Err(Error::Corrupt(format!(
                        "entity with empty name {:?}",
                        entity.name
                    )));
                }
                let id: i64 = upsert.query_row(
                    params![
                        key,
                        entity.entity_type,
                        entity.name.trim(),
                        entity.description
                    ],
                    |r| r.get(0),
                )?;
                alias.execute(params![id, key, entity.name.trim()])?;
                for a in &entity.aliases {
                    let akey = textnorm::name_key(a);
                    if !akey.is_empty() {
                        alias.execute(params![id, akey, a.trim()])?;
                    }
                }
                entity_ids.push(id);
            }
        }
        let entity_id = |index: usize| -> Result<i64> {
            entity_ids
                .get(index)
                .copied()
                .ok_or_else(|| Error::Corrupt(format!("no entity at index {index}")))
        };

        {
            let mut mention = tx.prepare_cached(
                "INSERT INTO mentions(entity_id, chunk_id, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT(entity_id, chunk_id) DO UPDATE SET count = count + excluded.count",
            )?;
            for m in &doc.mentions {
                mention.execute(params![entity_id(m.entity)?, chunk_id(m.chunk)?, m.count])?;
            }
            let mut relation = tx.prepare_cached(
                "INSERT INTO relations(source_id, target_id, type, description) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(source_id, target_id, type) DO UPDATE SET
                   description = CASE WHEN relations.description = '' THEN excluded.description
                                      ELSE relations.description END
                 RETURNING id",
            )?;
            let mut evidence = tx.prepare_cached(
                "INSERT OR IGNORE INTO relation_evidence(relation_id, chunk_id, description)
                 VALUES (?1, ?2, ?3)",
            )?;
            for r in &doc.relations {
                let (source, target) = (entity_id(r.source)?, entity_id(r.target)?);
                if source == target {
                    continue;
                }
                let id: i64 = relation.query_row(
                    params![source, target, r.relation_type, r.description],
                    |row| row.get(0),
                )?;
                evidence.execute(params![id, chunk_id(r.chunk)?, r.description])?;
            }
        }
        let generation = bump_generation(&tx)?;
        tx.commit()?;
        // Still holding the writer: no flush or other write can interleave between the commit
        // and the index update, so a saved index always matches its generation.
        self.generation.store(generation, Ordering::SeqCst);
        self.dirty.store(true, Ordering::SeqCst);
        self.index.add_all(
            doc.chunks
                .iter()
                .zip(&chunk_ids)
                .map(|(c, id)| (*id, c.embedding.as_slice())),
        )?;
        drop(conn);
        Ok(InsertOutcome::Inserted { chunk_ids })
    }

    /// Remove a document with its chunks, vectors, mentions, evidence, and every entity and
    /// relation no other document supports. Returns false if there was no such document.
    pub fn delete_document(&self, id: &str) -> Result<bool> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let hash: Option<String> = tx
            .query_row(
                "SELECT content_hash FROM documents WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(hash) = hash else {
            return Ok(false);
        };
        let chunk_ids: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT id FROM chunks WHERE document_id = ?1")?;
            stmt.query_map(params![id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        tx.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = ?1)",
            params![id],
        )?;
        tx.execute("DELETE FROM documents WHERE id = ?1", params![id])?;
        tx.execute(
            "DELETE FROM relations WHERE id NOT IN (SELECT relation_id FROM relation_evidence)",
            [],
        )?;
        tx.execute(
            "DELETE FROM entities WHERE id NOT IN (SELECT entity_id FROM mentions)
               AND id NOT IN (SELECT source_id FROM relations)
               AND id NOT IN (SELECT target_id FROM relations)",
            [],
        )?;
        let generation = bump_generation(&tx)?;
        tx.commit()?;
        self.generation.store(generation, Ordering::SeqCst);
        self.dirty.store(true, Ordering::SeqCst);
        self.index.remove_all(chunk_ids)?;
        drop(conn);
        self.flush_index()?;
        self.remove_upload(&hash);
        Ok(true)
    }

    /// Save the vector index if anything changed since the last save.
    pub fn flush_index(&self) -> Result<()> {
        // The writer lock orders saves after the commits and index updates they reflect.
        let _writer = self.writer();
        if !self.dirty.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        if let Err(e) = self.index.save(self.generation.load(Ordering::SeqCst)) {
            self.dirty.store(true, Ordering::SeqCst);
            return Err(e);
        }
        Ok(())
    }

    pub fn document_id_for_hash(&self, content_hash: &str) -> Result<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT id FROM documents WHERE content_hash = ?1",
                params![content_hash],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    pub fn document(&self, id: &str) -> Result<Option<DocumentRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(DOCUMENT_SELECT_ONE)?;
            Ok(stmt.query_row(params![id], document_row).optional()?)
        })
    }

    pub fn documents(&self) -> Result<Vec<DocumentRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(DOCUMENT_SELECT_ALL)?;
            Ok(stmt
                .query_map([], document_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    pub fn counts(&self) -> Result<Counts> {
        self.read(|c| Ok(read_counts(c)?))
    }

    /// The write generation: bumped by every committed document insert or delete. Cheap (no
    /// I/O), so health checks can report it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn vector_count(&self) -> usize {
        self.index.len()
    }

    /// `PRAGMA integrity_check` result ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        self.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }

    // ---------------------------------------------------------------- chunks and search

    /// Chunks by id, in the order given; unknown ids are skipped.
    pub fn chunks(&self, ids: &[i64]) -> Result<Vec<ChunkRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT c.id, c.ordinal, c.page, c.byte_start, c.byte_end, c.text,
                        d.id, d.title, d.source
                 FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let row = stmt
                    .query_row(params![id], |r| {
                        Ok(ChunkRecord {
                            id: r.get(0)?,
                            ordinal: r.get(1)?,
                            page: r.get(2)?,
                            byte_start: r.get::<_, i64>(3)? as usize,
                            byte_end: r.get::<_, i64>(4)? as usize,
                            text: r.get(5)?,
                            document: DocumentRef {
                                id: r.get(6)?,
                                title: r.get(7)?,
                                source: r.get(8)?,
                            },
                        })
                    })
                    .optional()?;
                out.extend(row);
            }
            Ok(out)
        })
    }

    /// BM25 keyword search. `terms` are already-normalised words; any of them may match.
    /// Returns chunk ids, best first, with the (positive) BM25 score.
    pub fn keyword_search(&self, terms: &[String], k: usize) -> Result<Vec<(i64, f64)>> {
        let expr = terms
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" OR ");
        if expr.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts
                 WHERE chunks_fts MATCH ?1 ORDER BY score LIMIT ?2",
            )?;
            Ok(stmt
                .query_map(params![expr, k as i64], |r| {
                    Ok((r.get::<_, i64>(0)?, -r.get::<_, f64>(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Approximate nearest chunks to `query`.
    pub fn vector_search(&self, query: &[f32], k: usize) -> Result<Vec<VectorHit>> {
        self.index.search(query, k)
    }

    /// Stored embeddings of the given chunks (unknown ids are skipped).
    pub fn chunk_embeddings(&self, ids: &[i64]) -> Result<Vec<(i64, Vec<f32>)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT embedding FROM chunks WHERE id = ?1")?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let blob: Option<Vec<u8>> = stmt.query_row(params![id], |r| r.get(0)).optional()?;
                if let Some(blob) = blob {
                    out.push((*id, blob_to_embedding(&blob)?));
                }
            }
            Ok(out)
        })
    }

    /// Exact nearest chunks by brute force over every stored embedding (for recall checks).
    pub fn exact_vector_search(&self, query: &[f32], k: usize) -> Result<Vec<VectorHit>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, embedding FROM chunks")?;
            let mut rows = stmt.query([])?;
            let mut hits = Vec::new();
            while let Some(row) = rows.next()? {
                let blob: Vec<u8> = row.get(1)?;
                let v = blob_to_embedding(&blob)?;
                let dot: f32 = v.iter().zip(query).map(|(a, b)| a * b).sum();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt()
                    * query.iter().map(|x| x * x).sum::<f32>().sqrt();
                let similarity = if norm > 0.0 { dot / norm } else { 0.0 };
                hits.push(VectorHit {
                    key: row.get(0)?,
                    similarity,
                });
            }
            hits.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
            hits.truncate(k);
            Ok(hits)
        })
    }

    // ---------------------------------------------------------------- graph

    /// Entities whose name or alias key equals one of `keys` (normalised names).
    pub fn entities_by_keys(&self, keys: &[String]) -> Result<Vec<EntitySummary>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT e.id, e.name, e.type FROM entity_aliases a
                 JOIN entities e ON e.id = a.entity_id WHERE a.alias_key = ?1",
            )?;
            let mut out: Vec<EntitySummary> = Vec::new();
            for key in keys {
                for row in stmt.query_map(params![key], entity_summary_row)? {
                    let row = row?;
                    if !out.iter().any(|e| e.id == row.id) {
                        out.push(row);
                    }
                }
            }
            Ok(out)
        })
    }

    /// Entity search by name prefix/substring (normalised) and optional type.
    pub fn search_entities(
        &self,
        query: Option<&str>,
        entity_type: Option<&str>,
        limit: usize,
    ) -> Result<Vec<EntityRecord>> {
        let pattern = query
            .map(textnorm::name_key)
            .filter(|q| !q.is_empty())
            .map(|q| format!("%{}%", q.replace(['%', '_'], "")));
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT e.id FROM entities e
                 WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM entity_aliases a
                                              WHERE a.entity_id = e.id AND a.alias_key LIKE ?1))
                   AND (?2 IS NULL OR e.type = ?2)
                 ORDER BY (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) DESC, e.name
                 LIMIT ?3",
            )?;
            let ids: Vec<i64> = stmt
                .query_map(params![pattern, entity_type, limit as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.iter()
                .filter_map(|id| entity_record(c, *id).transpose())
                .collect()
        })
    }

    pub fn entity(&self, id: i64) -> Result<Option<EntityRecord>> {
        self.read(|c| entity_record(c, id))
    }

    /// Relations in which `entity_id` is source or target, heaviest first, with evidence.
    pub fn relations_of(&self, entity_id: i64, limit: usize) -> Result<Vec<RelationRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT r.id, r.type, r.description,
                        s.id, s.name, s.type, t.id, t.name, t.type,
                        (SELECT count(*) FROM relation_evidence ev WHERE ev.relation_id = r.id) AS w
                 FROM relations r
                 JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id
                 WHERE r.source_id = ?1 OR r.target_id = ?1
                 ORDER BY w DESC, r.id LIMIT ?2",
            )?;
            let mut relations: Vec<RelationRecord> = stmt
                .query_map(params![entity_id, limit as i64], |r| {
                    Ok(RelationRecord {
                        id: r.get(0)?,
                        relation_type: r.get(1)?,
                        description: r.get(2)?,
                        source: EntitySummary {
                            id: r.get(3)?,
                            name: r.get(4)?,
                            entity_type: r.get(5)?,
                        },
                        target: EntitySummary {
                            id: r.get(6)?,
                            name: r.get(7)?,
                            entity_type: r.get(8)?,
                        },
                        weight: r.get::<_, i64>(9)? as u64,
                        evidence: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut ev = c.prepare_cached(
                "SELECT ev.chunk_id, ev.description, c.page, d.id, d.title, d.source
                 FROM relation_evidence ev JOIN chunks c ON c.id = ev.chunk_id
                 JOIN documents d ON d.id = c.document_id
                 WHERE ev.relation_id = ?1 ORDER BY ev.chunk_id LIMIT 10",
            )?;
            for relation in &mut relations {
                relation.evidence = ev
                    .query_map(params![relation.id], |r| {
                        Ok(Evidence {
                            chunk_id: r.get(0)?,
                            description: r.get(1)?,
                            page: r.get(2)?,
                            document: DocumentRef {
                                id: r.get(3)?,
                                title: r.get(4)?,
                                source: r.get(5)?,
                            },
                        })
                    })?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(relations)
        })
    }

    /// Chunks that support the neighbourhood of `seeds`, best first.
    ///
    /// Scores: evidence of a relation touching a seed, 2 × the relation's weight (+1 when both
    /// ends are seeds); a mention of a seed, 1; then for each one-hop neighbour reached through a
    /// relation of weight w, its relations' evidence (w × weight) and its mentions (0.25 × w),
    /// both divided by ln(e + degree) so hubs (the city everything happens in) do not flood the
    /// ranking. Co-occurrence (`associated_with`) weighs 0.3, stated relations 1, and relations
    /// of a type the question asks about (`focus`, e.g. `funds` for "who paid for…") 3.
    pub fn graph_chunks(
        &self,
        seeds: &[i64],
        focus: &[&str],
        limit: usize,
    ) -> Result<Vec<(i64, f64)>> {
        let weight = |relation_type: &str| -> f64 {
            if focus.contains(&relation_type) {
                3.0
            } else if relation_type == "associated_with" {
                0.3
            } else {
                1.0
            }
        };
        if seeds.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|c| {
            let mut scores: HashMap<i64, f64> = HashMap::new();
            // neighbour → strongest weight of a relation linking it to a seed
            let mut neighbours: HashMap<i64, f64> = HashMap::new();
            let mut rel = c.prepare_cached(
                "SELECT r.source_id, r.target_id, r.type, ev.chunk_id FROM relations r
                 JOIN relation_evidence ev ON ev.relation_id = r.id
                 WHERE r.source_id = ?1 OR r.target_id = ?1",
            )?;
            let rows = |stmt: &mut rusqlite::CachedStatement<'_>,
                        entity: i64|
             -> Result<Vec<(i64, i64, String, i64)>> {
                Ok(stmt
                    .query_map(params![entity], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?)
            };
            for seed in seeds {
                for (s, t, ty, chunk) in rows(&mut rel, *seed)? {
                    let other = if s == *seed { t } else { s };
                    let bonus = if seeds.contains(&other) { 1.0 } else { 0.0 };
                    *scores.entry(chunk).or_default() += 2.0 * weight(&ty) + bonus;
                    if !seeds.contains(&other) {
                        let w = neighbours.entry(other).or_default();
                        *w = w.max(weight(&ty));
                    }
                }
            }
            let mut mention =
                c.prepare_cached("SELECT chunk_id FROM mentions WHERE entity_id = ?1")?;
            for seed in seeds {
                for chunk in mention.query_map(params![seed], |r| r.get::<_, i64>(0))? {
                    *scores.entry(chunk?).or_default() += 1.0;
                }
            }
            let mut degree = c.prepare_cached(
                "SELECT count(*) FROM relations WHERE source_id = ?1 OR target_id = ?1",
            )?;
            let mut ranked_neighbours: Vec<(i64, f64)> = neighbours.into_iter().collect();
            ranked_neighbours.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked_neighbours.truncate(50);
            for (n, w) in ranked_neighbours {
                let deg: i64 = degree.query_row(params![n], |r| r.get(0))?;
                let damp = w / (std::f64::consts::E + deg as f64).ln();
                for (_, _, ty, chunk) in rows(&mut rel, n)? {
                    *scores.entry(chunk).or_default() += damp * weight(&ty);
                }
                for chunk in mention.query_map(params![n], |r| r.get::<_, i64>(0))? {
                    *scores.entry(chunk?).or_default() += 0.25 * damp;
                }
            }
            let mut ranked: Vec<(i64, f64)> = scores.into_iter().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(limit);
            Ok(ranked)
        })
    }

    /// Entities mentioned in each chunk, for annotating hits.
    pub fn chunk_entities(&self, chunk_id: i64) -> Result<Vec<EntitySummary>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT e.id, e.name, e.type FROM mentions m JOIN entities e ON e.id = m.entity_id
                 WHERE m.chunk_id = ?1 ORDER BY m.count DESC, e.name LIMIT 20",
            )?;
            Ok(stmt
                .query_map(params![chunk_id], entity_summary_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    // ---------------------------------------------------------------- jobs

    pub fn create_job(
        &self,
        id: &str,
        source: &str,
        content_hash: &str,
        document_id: &str,
    ) -> Result<()> {
        self.writer().execute(
            "INSERT INTO jobs(id, status, source, content_hash, document_id, created_at, updated_at)
             VALUES (?1, 'queued', ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ','now'),
                     strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
            params![id, source, content_hash, document_id],
        )?;
        Ok(())
    }

    pub fn update_job(
        &self,
        id: &str,
        status: JobStatus,
        stage: &str,
        progress: f64,
        error: Option<&str>,
    ) -> Result<()> {
        self.writer().execute(
            "UPDATE jobs SET status = ?2, stage = ?3, progress = ?4, error = ?5,
                    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?1",
            params![id, status.as_str(), stage, progress, error],
        )?;
        Ok(())
    }

    pub fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{JOB_SELECT} WHERE id = ?1"))?;
            Ok(stmt.query_row(params![id], job_row).optional()?)
        })
    }

    /// Jobs that were queued or running when the process last stopped, oldest first.
    pub fn unfinished_jobs(&self) -> Result<Vec<JobRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{JOB_SELECT} WHERE status IN ('queued', 'running') ORDER BY created_at"
            ))?;
            Ok(stmt
                .query_map([], job_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The newest job for a document (queued, running or finished), if any.
    pub fn job_for_document(&self, document_id: &str) -> Result<Option<JobRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{JOB_SELECT} WHERE document_id = ?1 ORDER BY created_at DESC LIMIT 1"
            ))?;
            Ok(stmt.query_row(params![document_id], job_row).optional()?)
        })
    }
}

const DOCUMENT_SELECT_ALL: &str =
    "SELECT d.id, d.content_hash, d.title, d.source, d.media_type, d.pages, d.bytes,
        d.created_at, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)
 FROM documents d ORDER BY d.created_at, d.id";
const DOCUMENT_SELECT_ONE: &str =
    "SELECT d.id, d.content_hash, d.title, d.source, d.media_type, d.pages, d.bytes,
        d.created_at, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)
 FROM documents d WHERE d.id = ?1";

fn document_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocumentRecord> {
    Ok(DocumentRecord {
        id: r.get(0)?,
        content_hash: r.get(1)?,
        title: r.get(2)?,
        source: r.get(3)?,
        media_type: r.get(4)?,
        pages: r.get(5)?,
        bytes: r.get::<_, i64>(6)? as u64,
        created_at: r.get(7)?,
        chunks: r.get::<_, i64>(8)? as u64,
    })
}

pub(crate) fn entity_summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EntitySummary> {
    Ok(EntitySummary {
        id: r.get(0)?,
        name: r.get(1)?,
        entity_type: r.get(2)?,
    })
}

fn entity_record(c: &Connection, id: i64) -> Result<Option<EntityRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT e.id, e.name, e.type, e.description,
                (SELECT coalesce(sum(m.count), 0) FROM mentions m WHERE m.entity_id = e.id),
                (SELECT count(DISTINCT c.document_id) FROM mentions m
                   JOIN chunks c ON c.id = m.chunk_id WHERE m.entity_id = e.id)
         FROM entities e WHERE e.id = ?1",
    )?;
    let Some(mut record) = stmt
        .query_row(params![id], |r| {
            Ok(EntityRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                entity_type: r.get(2)?,
                description: r.get(3)?,
                mentions: r.get::<_, i64>(4)? as u64,
                documents: r.get::<_, i64>(5)? as u64,
                aliases: Vec::new(),
            })
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut aliases =
        c.prepare_cached("SELECT alias FROM entity_aliases WHERE entity_id = ?1 ORDER BY alias")?;
    record.aliases = aliases
        .query_map(params![id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|a| a != &record.name)
        .collect();
    Ok(Some(record))
}

const JOB_SELECT: &str =
    "SELECT id, status, source, content_hash, document_id, stage, progress, error,
        created_at, updated_at FROM jobs";

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let status: String = r.get(1)?;
    Ok(JobRecord {
        id: r.get(0)?,
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
        source: r.get(2)?,
        content_hash: r.get(3)?,
        document_id: r.get(4)?,
        stage: r.get(5)?,
        progress: r.get(6)?,
        error: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}
