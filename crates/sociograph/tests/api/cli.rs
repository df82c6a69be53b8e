//! The real `sociograph` binary: CLI contract, crash safety, graceful shutdown.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{DEADLINE, repo_root};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sociograph"));
    c.current_dir(repo_root());
    c.env_remove("RUST_LOG").env_remove("SOCIOGRAPH_CONFIG");
    c
}

pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run sociograph")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kills the child if a test fails half-way.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn db(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("graph.db")).expect("open graph.db");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn
}

/// (document id, number of chunks) for every stored document.
fn chunk_counts(conn: &rusqlite::Connection) -> Vec<(String, i64)> {
    let mut stmt = conn
        .prepare("SELECT d.id, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) FROM documents d")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .filter_map(Result::ok)
        .collect()
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
}

#[test]
fn help_documents_every_flag_with_its_environment_variable() {
    let out = run(&["serve", "--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "--data-dir",
        "SOCIOGRAPH_DATA_DIR",
        "--listen",
        "SOCIOGRAPH_LISTEN",
        "--color",
        "--embedder",
        "--extractor",
        "--api-keys",
    ] {
        assert!(help.contains(needle), "serve --help lacks {needle}");
    }
    let out = run(&["search", "--help"], &[]);
    assert!(text(&out.stdout).contains("--mode"));
}

#[test]
fn ingest_prints_a_summary_and_search_prints_ranked_hits_with_pages() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().to_string_lossy().into_owned();
    let pdfs = [
        "testdata/good/three-pages.pdf",
        "testdata/good/brackwater-memo.pdf",
    ];
    let out = run(
        &[
            &["ingest", "--data-dir", &data, "--embedder", "hashing"][..],
            &pdfs,
        ]
        .concat(),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("ingested 2 documents (0 already present, 0 failed)"),
        "{summary}"
    );

    let again = run(
        &[
            &["ingest", "--data-dir", &data, "--embedder", "hashing"][..],
            &pdfs,
        ]
        .concat(),
        &[],
    );
    assert!(text(&again.stdout).contains("ingested 0 documents (2 already present, 0 failed)"));

    let out = run(
        &[
            "search",
            "--data-dir",
            &data,
            "--embedder",
            "hashing",
            "--mode",
            "keyword",
            "zephyrine",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hits = text(&out.stdout);
    assert!(hits.contains("three-pages.pdf, page 2"), "{hits}");
    // Originals are kept, content-addressed.
    let uploads = std::fs::read_dir(dir.path().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(uploads, 2);
}

#[test]
fn ingest_lists_each_failure_with_its_reason_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().to_string_lossy().into_owned();
    let bad = [
        "blank.pdf",
        "empty.txt",
        "encrypted.pdf",
        "image-only.pdf",
        "invalid-utf8.txt",
        "program.pdf",
        "truncated.pdf",
    ]
    .map(|f| format!("testdata/bad/{f}"));
    let mut args = vec![
        "ingest",
        "--data-dir",
        &data,
        "--embedder",
        "hashing",
        "testdata/good/three-pages.pdf",
    ];
    args.extend(bad.iter().map(String::as_str));
    let out = run(&args, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ingested 1 documents (0 already present, 7 failed)"),
        "{stdout}"
    );
    for needle in [
        "encrypted.pdf",
        "encrypted PDF",
        "truncated.pdf",
        "empty (0 bytes)",
        "ELF executable",
        "not valid UTF-8",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks {needle:?}: {stdout}"
        );
    }
}

#[test]
fn a_bad_setting_is_refused_with_the_key_named() {
    let out = run(
        &["serve", "--data-dir", "/nonexistent/never"],
        &[("SOCIOGRAPH__SERVER__MAX_IN_FLIGHT", "lots")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("server.max_in_flight"), "{err}");
    assert_eq!(err.lines().count(), 1, "one-line reason: {err}");
}

#[test]
fn a_different_embedder_is_refused_instead_of_mixing_vectors() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().to_string_lossy().into_owned();
    assert!(
        run(
            &[
                "ingest",
                "--data-dir",
                &data,
                "--embedder",
                "hashing",
                "testdata/good"
            ],
            &[]
        )
        .status
        .success()
    );
    let out = run(
        &[
            "search",
            "--data-dir",
            &data,
            "--embedder",
            "hashing",
            "harbour",
        ],
        &[("SOCIOGRAPH__EMBEDDER__DIMENSIONS", "128")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("built with embedder `hashing-v1:384`"),
        "{err}"
    );
}

#[test]
fn sigkill_in_the_middle_of_an_ingest_leaves_each_document_whole_or_absent() {
    let work = tempfile::tempdir().expect("tmp");
    let files = work.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    let demo = repo_root().join("corpus/demo");
    let mut small: Vec<_> = std::fs::read_dir(&demo)
        .expect("demo")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    small.sort();
    for p in small.iter().take(5) {
        std::fs::copy(p, files.join(p.file_name().expect("name"))).expect("copy");
    }
    // A big last file that takes a while to ingest: the one we kill in the middle of.
    let mut big = String::new();
    let seed = std::fs::read_to_string(&small[0]).expect("read");
    for i in 0..600 {
        big.push_str(&format!("Section {i}. {seed}\n\n"));
    }
    std::fs::write(files.join("zz-big.txt"), &big).expect("write big");
    let files_arg = files.to_string_lossy().into_owned();

    // Reference: the complete ingest, for per-document chunk counts.
    let reference = work.path().join("reference");
    let out = run(
        &[
            "ingest",
            "--data-dir",
            &reference.to_string_lossy(),
            "--embedder",
            "hashing",
            &files_arg,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = chunk_counts(&db(&reference));
    assert_eq!(expected.len(), 6);

    let data = work.path().join("killed");
    let child = bin()
        .args([
            "ingest",
            "--data-dir",
            &data.to_string_lossy(),
            "--embedder",
            "hashing",
            &files_arg,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ingest");
    let mut guard = ChildGuard(child);
    let started = Instant::now();
    loop {
        let docs = if data.join("graph.db").exists() {
            count(&db(&data), "SELECT count(*) FROM documents")
        } else {
            0
        };
        if docs >= 5 {
            break;
        }
        assert!(
            guard.0.try_wait().expect("wait").is_none(),
            "ingest finished before it could be killed"
        );
        assert!(started.elapsed() < DEADLINE, "ingest made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(150));
    assert!(
        guard.0.try_wait().expect("wait").is_none(),
        "ingest finished before it could be killed"
    );
    guard.0.kill().expect("SIGKILL");
    let _ = guard.0.wait();

    let conn = db(&data);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let present = chunk_counts(&conn);
    assert!(present.len() >= 5 && present.len() <= 6);
    for (id, chunks) in &present {
        let want = expected.iter().find(|(e, _)| e == id).map(|(_, c)| *c);
        assert_eq!(Some(*chunks), want, "document {id} is partially written");
    }
    assert_eq!(
        count(&conn, "SELECT count(*) FROM chunks_fts"),
        count(&conn, "SELECT count(*) FROM chunks")
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM mentions WHERE chunk_id NOT IN (SELECT id FROM chunks)"
        ),
        0
    );
    drop(conn);

    // Restart: the rest is ingested, and the vector index (stale after the kill) is rebuilt.
    let out = run(
        &[
            "ingest",
            "--data-dir",
            &data.to_string_lossy(),
            "--embedder",
            "hashing",
            &files_arg,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(&db(&data), "SELECT count(*) FROM documents"), 6);
    let out = run(
        &[
            "search",
            "--data-dir",
            &data.to_string_lossy(),
            "--embedder",
            "hashing",
            "--mode",
            "naive",
            "-k",
            "3",
            "Section 599",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("zz-big.txt"),
        "{}",
        text(&out.stdout)
    );
}
