//! Consistent snapshots of a data directory, for backups: taken from outside the process that
//! owns the directory, while it keeps serving and ingesting.
//!
//! `graph.db` is copied with `VACUUM INTO` on a read-only connection: one read transaction, so
//! the copy is the database at one commit, whatever the writer does meanwhile. The vector index
//! is derived data; it is included only when its manifest says it reflects exactly that
//! commit's generation and the manifest is unchanged across the copy (the owner saves the index
//! by deleting the manifest first and writing it last). Otherwise the snapshot leaves the index
//! out, and [`crate::Store::open`] rebuilds it from `graph.db` after a restore — slower to
//! start, never inconsistent.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::db::{read_counts, read_generation};
use crate::vector::VectorIndex;
use crate::{Counts, Error, Result};

/// What a snapshot holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The `graph.db` write generation captured.
    pub generation: u64,
    /// `PRAGMA user_version` of the copy (the migration level).
    pub schema_version: i64,
    /// `embedder:dimensions` the vectors were made with; `None` for a never-used directory.
    pub embedder: Option<String>,
    pub counts: Counts,
    /// Whether `vector_store/` was included (else it is rebuilt on restore).
    pub index_included: bool,
    /// Files written, relative to the snapshot directory, `/`-separated.
    pub files: Vec<String>,
}

/// Copy `data_dir`'s `graph.db` (and its vector index when consistent with it) into `dest`,
/// which must not exist yet.
pub fn take_snapshot(data_dir: &Path, dest: &Path) -> Result<SnapshotInfo> {
    let db_path = data_dir.join("graph.db");
    if !db_path.is_file() {
        return Err(Error::NotFound(format!(
            "{}: no graph.db, nothing to back up",
            data_dir.display()
        )));
    }
    std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    let source = Connection::open_with_flags(
        &db_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(std::time::Duration::from_secs(30))?;
    let copy = dest.join("graph.db");
    source.execute("VACUUM INTO ?1", [copy.to_string_lossy().as_ref()])?;
    drop(source);

    let check = check_database(&copy)?;
    let mut files = vec!["graph.db".to_owned()];
    let index_included = copy_index(data_dir, dest, check.generation, &mut files)?;
    Ok(SnapshotInfo {
        generation: check.generation,
        schema_version: check.schema_version,
        embedder: check.embedder,
        counts: check.counts,
        index_included,
        files,
    })
}

/// Copy `vector_store/` if its manifest is for `generation` and stays unchanged during the copy.
fn copy_index(
    data_dir: &Path,
    dest: &Path,
    generation: u64,
    files: &mut Vec<String>,
) -> Result<bool> {
    let source = data_dir.join("vector_store");
    let Some(before) = VectorIndex::read_manifest(&source) else {
        return Ok(false);
    };
    if before.generation != generation {
        return Ok(false);
    }
    let target = dest.join("vector_store");
    std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    let mut copied = Vec::new();
    let entries = std::fs::read_dir(&source).map_err(|e| Error::io(&source, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&source, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Temporary files of a save in progress are not part of the index.
        if name.ends_with(".tmp") || !entry.path().is_file() {
            continue;
        }
        let to: PathBuf = target.join(&name);
        std::fs::copy(entry.path(), &to).map_err(|e| Error::io(&to, e))?;
        copied.push(format!("vector_store/{name}"));
    }
    let after = VectorIndex::read_manifest(&source);
    if after.as_ref() != Some(&before) {
        // Saved again while we copied: leave it out rather than risk a torn copy.
        std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
        return Ok(false);
    }
    copied.sort();
    files.extend(copied);
    Ok(true)
}

/// What a `graph.db` file says about itself, after `PRAGMA integrity_check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseCheck {
    pub generation: u64,
    pub schema_version: i64,
    pub embedder: Option<String>,
    pub counts: Counts,
}

/// Open `path` read-only, require `PRAGMA integrity_check` = ok, and read its generation,
/// schema version, embedder and counts. Errors say what is wrong with the file.
pub fn check_database(path: &Path) -> Result<DatabaseCheck> {
    let corrupt = |what: String| Error::Corrupt(format!("{}: {what}", path.display()));
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| corrupt(format!("cannot be opened as SQLite ({e})")))?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| corrupt(format!("integrity check failed ({e})")))?;
    if verdict != "ok" {
        return Err(corrupt(format!("integrity check: {verdict}")));
    }
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let generation = read_generation(&conn).map_err(|e| corrupt(e.to_string()))?;
    let embedder: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'embedder'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| corrupt(format!("no readable meta table ({e})")))?;
    let counts =
        read_counts(&conn).map_err(|e| corrupt(format!("cannot count its contents ({e})")))?;
    Ok(DatabaseCheck {
        generation,
        schema_version,
        embedder,
        counts,
    })
}

/// After a restore: the index holds one vector per chunk, and a chunk's own embedding finds
/// that chunk first. Needs no model, so it works for any embedder.
pub fn smoke_check(store: &crate::Store) -> Result<()> {
    let counts = store.counts()?;
    if store.vector_count() as u64 != counts.chunks {
        return Err(Error::Corrupt(format!(
            "the vector index holds {} vectors for {} chunks",
            store.vector_count(),
            counts.chunks
        )));
    }
    let first: Option<i64> =
        store.read(|c| Ok(c.query_row("SELECT min(id) FROM chunks", [], |r| r.get(0))?))?;
    let Some(id) = first else {
        return Ok(());
    };
    let Some((_, embedding)) = store.chunk_embeddings(&[id])?.into_iter().next() else {
        return Err(Error::Corrupt(format!("chunk {id} has no embedding")));
    };
    let hits = store.vector_search(&embedding, 1)?;
    match hits.first() {
        // Another chunk with the very same vector may tie with it.
        Some(hit) if hit.key == id || hit.similarity >= 0.9999 => Ok(()),
        other => Err(Error::Corrupt(format!(
            "a search with chunk {id}'s own vector found {other:?} instead"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewChunk, NewDocument, Store, StoreOptions};

    fn store(dir: &Path) -> Result<Store> {
        Store::open(&StoreOptions {
            data_dir: dir.to_path_buf(),
            embedder: "test".into(),
            dimensions: 2,
        })
    }

    fn document(n: u32) -> NewDocument {
        NewDocument {
            id: format!("doc-{n}"),
            content_hash: format!("hash-{n}"),
            title: format!("Document {n}"),
            source: format!("doc-{n}.txt"),
            media_type: "text/plain".into(),
            pages: 1,
            bytes: 10,
            chunks: vec![NewChunk {
                ordinal: 0,
                page: None,
                byte_start: 0,
                byte_end: 10,
                text: format!("chunk of document {n}"),
                embedding: vec![1.0, n as f32],
            }],
            entities: Vec::new(),
            mentions: Vec::new(),
            relations: Vec::new(),
        }
    }

    fn tmp() -> Result<tempfile::TempDir> {
        tempfile::tempdir().map_err(|e| Error::io("tmp", e))
    }

    #[test]
    fn a_snapshot_holds_the_database_and_the_index_of_the_same_generation() -> Result<()> {
        let data = tmp()?;
        let s = store(data.path())?;
        for n in 0..3 {
            s.insert_document(&document(n))?;
        }
        s.flush_index()?;
        let out = tmp()?;
        let snap = take_snapshot(data.path(), &out.path().join("snap"))?;
        assert_eq!(snap.generation, s.generation());
        assert_eq!((snap.counts.documents, snap.counts.chunks), (3, 3));
        assert_eq!(snap.embedder.as_deref(), Some("test:2"));
        assert!(snap.index_included, "{snap:?}");
        assert!(snap.files.iter().any(|f| f == "vector_store/manifest.json"));

        // A write after the last index save: the database moves on, the index does not, so the
        // index is left out (a restore rebuilds it) rather than paired with the wrong commit.
        s.insert_document(&document(3))?;
        let later = take_snapshot(data.path(), &out.path().join("later"))?;
        assert_eq!(later.counts.documents, 4);
        assert!(!later.index_included);
        assert_eq!(later.files, vec!["graph.db".to_owned()]);

        // The copy opens as a store with everything in it (the index rebuilt).
        drop(s);
        let restored = store(&out.path().join("later"))?;
        assert_eq!(restored.counts()?.documents, 4);
        assert_eq!(restored.vector_count(), 4);
        Ok(())
    }

    #[test]
    fn a_damaged_database_is_named_with_what_is_wrong() -> Result<()> {
        let data = tmp()?;
        let s = store(data.path())?;
        s.insert_document(&document(0))?;
        drop(s);
        let out = tmp()?;
        take_snapshot(data.path(), &out.path().join("snap"))?;
        let db = out.path().join("snap/graph.db");
        let bytes = std::fs::read(&db).map_err(|e| Error::io(&db, e))?;
        std::fs::write(&db, &bytes[..bytes.len() / 2]).map_err(|e| Error::io(&db, e))?;
        let err = check_database(&db).expect_err("a truncated database must be refused");
        let text = err.to_string();
        assert!(text.contains("graph.db"), "{text}");

        let none = take_snapshot(&out.path().join("missing"), &out.path().join("x"))
            .expect_err("no graph.db");
        assert!(none.to_string().contains("no graph.db"), "{none}");
        Ok(())
    }
}
