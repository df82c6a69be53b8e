//! `sociograph backup` / `restore` / `backup verify` on the real binary: to a directory
//! (`file://`) and to a real S3-compatible server on 127.0.0.1 (moto, installed by
//! `scripts/setup-python.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cli::{ChildGuard, bin, free_port, run, text};
use crate::helpers::{DEADLINE, repo_root};

const QUERIES: [&str; 3] = ["harbour", "Councillor Reyes", "contract award"];

fn ingest(data: &Path, path: &str) {
    let out = run(
        &[
            "ingest",
            "--data-dir",
            &data.to_string_lossy(),
            "--embedder",
            "hashing",
            path,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `sociograph <args>` with the hashing embedder's data dir flags where needed; returns stdout
/// on success, or panics with stderr.
fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(args, env);
    assert!(
        out.status.success(),
        "sociograph {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `sociograph backup --data-dir DATA --to TARGET`; returns what it printed.
fn back_up(data: &Path, target: &str) -> String {
    ok(
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            target,
        ],
        &[],
    )
}

/// `sociograph <args>` that must fail; returns stderr.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(args, env);
    assert!(
        !out.status.success(),
        "sociograph {args:?} should have failed: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// The ranked hits (document, chunk, score) of each query, from `search --json`.
fn results(data: &Path) -> Vec<Vec<(String, String)>> {
    QUERIES
        .iter()
        .map(|q| {
            let out = ok(
                &[
                    "search",
                    "--data-dir",
                    &data.to_string_lossy(),
                    "--embedder",
                    "hashing",
                    "--json",
                    q,
                ],
                &[],
            );
            let v: Value = serde_json::from_str(&out).expect("search --json");
            let hits = v["hits"]
                .as_array()
                .or(v.as_array())
                .cloned()
                .unwrap_or_default();
            hits.iter()
                .map(|h| (h["chunk_id"].to_string(), h["score"].to_string()))
                .collect()
        })
        .collect()
}

fn today() -> String {
    let out = Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .expect("date");
    text(&out.stdout).trim().to_owned()
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The single backup directory under `root/backups/<today>/`.
fn backup_dir(root: &Path) -> PathBuf {
    let day = root.join("backups").join(today());
    let mut stamps: Vec<PathBuf> = std::fs::read_dir(&day)
        .unwrap_or_else(|e| panic!("{}: {e}", day.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    stamps.sort();
    stamps.pop().expect("a backup directory")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_during_an_ingest_restores_to_the_same_answers() {
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    ingest(&data, "corpus/demo");
    let before = results(&data);
    assert!(before.iter().all(|r| !r.is_empty()), "{before:?}");

    // Serve it and keep uploading new documents while the backup runs.
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = ChildGuard(
        bin()
            .args([
                "serve",
                "--data-dir",
                &data.to_string_lossy(),
                "--embedder",
                "hashing",
                "--listen",
                &listen,
            ])
            .env("SOCIOGRAPH__SERVER__DRAIN_SECS", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !client
        .get(format!("http://{listen}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(started.elapsed() < DEADLINE, "server never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let uploads = tokio::spawn({
        let (client, listen) = (client.clone(), listen.clone());
        async move {
            let mut jobs = Vec::new();
            for i in 0..12 {
                let body = format!(
                    "Memo {i}. Councillor Ada Brightwater{i} met the harbour board about contract {i}. \
                     The board approved the contract award to Tidewell Dredging {i}."
                );
                let part = reqwest::multipart::Part::bytes(body.into_bytes())
                    .file_name(format!("memo-{i}.txt"));
                let form = reqwest::multipart::Form::new().part("file", part);
                let r: Value = client
                    .post(format!("http://{listen}/api/documents"))
                    .multipart(form)
                    .send()
                    .await
                    .expect("upload")
                    .json()
                    .await
                    .expect("json");
                jobs.push(
                    r["jobs"][0]["job_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            jobs
        }
    });
    let target = format!("file://{}", work.path().join("store").display());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let printed = {
        let (data, target) = (data.clone(), target.clone());
        tokio::task::spawn_blocking(move || back_up(&data, &target))
            .await
            .expect("join")
    };
    assert!(printed.starts_with("backed up "), "{printed}");
    let jobs = uploads.await.expect("uploads");
    for job in jobs.iter().filter(|j| !j.is_empty()) {
        let started = Instant::now();
        loop {
            let j: Value = client
                .get(format!("http://{listen}/api/jobs/{job}"))
                .send()
                .await
                .expect("job")
                .json()
                .await
                .expect("json");
            if j["status"] == "done" {
                break;
            }
            assert_ne!(j["status"], "failed", "{j}");
            assert!(started.elapsed() < DEADLINE, "job {job} never finished");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let pid = server.0.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let _ = server.0.wait();

    // The dated layout: the files, the manifest, and the latest pointer.
    let store = work.path().join("store");
    let first = backup_dir(&store);
    for name in ["manifest.json", "graph.db.gz"] {
        assert!(
            first.join(name).is_file(),
            "no {name} in {}",
            first.display()
        );
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(first.join("manifest.json")).expect("manifest"))
            .expect("json");
    let documents = manifest["counts"]["documents"].as_u64().expect("documents");
    assert!((32..=44).contains(&documents), "{manifest}");
    assert_eq!(manifest["format_version"], 1);
    let key = std::fs::read_to_string(store.join("backups/latest")).expect("latest");
    assert!(
        first.ends_with(key.trim().trim_start_matches("backups/")),
        "{key}"
    );

    // The backup taken mid-ingest restores and verifies as the state it captured.
    let verified = ok(&["backup", "verify", &target], &[]);
    assert!(verified.contains("every checksum matched"), "{verified}");
    let mid = work.path().join("mid");
    ok(
        &[
            "restore",
            "--data-dir",
            &mid.to_string_lossy(),
            "--from",
            &target,
        ],
        &[],
    );
    let restored = results(&mid);
    assert_eq!(restored.len(), QUERIES.len());

    // Quiet now: a backup restores to exactly the same search results.
    let after = results(&data);
    std::thread::sleep(Duration::from_millis(1100)); // a distinct timestamp key
    back_up(&data, &target);
    let copy = work.path().join("copy");
    let out = ok(
        &[
            "restore",
            "--data-dir",
            &copy.to_string_lossy(),
            "--from",
            &format!("{target}/latest"),
        ],
        &[],
    );
    assert!(out.starts_with("restored "), "{out}");
    assert_eq!(results(&copy), after);
    assert_ne!(after, before, "the uploads changed the results");
}

#[test]
fn corrupt_partial_or_newer_backups_are_refused_and_the_data_is_untouched() {
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    ingest(&data, "testdata/good");
    let store = work.path().join("good");
    back_up(&data, &format!("file://{}", store.display()));
    let live = work.path().join("live");
    ingest(&live, "testdata/good");
    let live_db = sha(&live.join("graph.db"));

    type Damage = fn(&Path);
    let cases: [(&str, Damage, &str); 4] = [
        (
            "a flipped byte in the index",
            |dir| {
                let index = std::fs::read_dir(dir.join("vector_store"))
                    .expect("vector_store in the backup")
                    .map(|e| e.expect("entry").path())
                    .find(|p| !p.ends_with("manifest.json.gz"))
                    .expect("index file");
                let mut bytes = std::fs::read(&index).expect("read");
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x01;
                std::fs::write(&index, bytes).expect("write");
            },
            "does not match the manifest",
        ),
        (
            "a missing file",
            |dir| std::fs::remove_file(dir.join("graph.db.gz")).expect("rm"),
            "graph.db.gz: listed in the manifest but missing",
        ),
        (
            "a truncated database",
            |dir| {
                let db = dir.join("graph.db.gz");
                let bytes = std::fs::read(&db).expect("read");
                std::fs::write(&db, &bytes[..bytes.len() / 3]).expect("write");
            },
            "(truncated or replaced)",
        ),
        (
            "a manifest from a newer format",
            |dir| {
                let path = dir.join("manifest.json");
                let mut m: Value =
                    serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
                m["format_version"] = 2.into();
                std::fs::write(&path, m.to_string()).expect("write");
            },
            "backup format 2 is newer than this sociograph reads (1)",
        ),
    ];
    for (i, (what, damage, expected)) in cases.iter().enumerate() {
        let copy = work.path().join(format!("case-{i}"));
        copy_tree(&store, &copy);
        damage(&backup_dir(&copy));
        let from = format!("file://{}", copy.display());
        let err = refused(
            &[
                "restore",
                "--data-dir",
                &live.to_string_lossy(),
                "--from",
                &from,
            ],
            &[],
        );
        assert!(err.contains(expected), "{what}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: one line: {err}");
        let err = refused(&["backup", "verify", &from], &[]);
        assert!(err.contains(expected), "{what} (verify): {err}");
        assert_eq!(
            sha(&live.join("graph.db")),
            live_db,
            "{what}: live data changed"
        );
        let leftovers: Vec<_> = std::fs::read_dir(work.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restore"))
            .collect();
        assert!(leftovers.is_empty(), "{what}: left {leftovers:?}");
    }

    // No backup at all, and an interrupted one (no manifest yet).
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let err = refused(
        &["backup", "verify", &format!("file://{}", empty.display())],
        &[],
    );
    assert!(err.contains("no backups/latest pointer"), "{err}");
    let partial = work.path().join("partial");
    copy_tree(&store, &partial);
    let dir = backup_dir(&partial);
    std::fs::remove_file(dir.join("manifest.json")).expect("rm");
    let exact = format!(
        "file://{}/backups/{}/{}",
        partial.display(),
        today(),
        dir.file_name().expect("name").to_string_lossy()
    );
    let err = refused(&["backup", "verify", &exact], &[]);
    assert!(
        err.contains("no manifest.json, so not a complete backup"),
        "{err}"
    );
    let err = refused(
        &[
            "backup",
            "verify",
            &format!("file://{}/{}", partial.display(), today()),
        ],
        &[],
    );
    assert!(err.contains("no complete backup on"), "{err}");

    // A target that is not a URL we know.
    let err = refused(
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            "ftp://x/y",
        ],
        &[],
    );
    assert!(
        err.contains("use s3://bucket/prefix or file:///absolute/path"),
        "{err}"
    );
}

/// moto's S3 server on a free 127.0.0.1 port.
struct Moto {
    _process: ChildGuard,
    endpoint: String,
}

fn moto() -> Moto {
    let server = repo_root().join(".venv/bin/moto_server");
    assert!(
        server.is_file(),
        "{} is missing: run scripts/setup-test.sh (it installs moto)",
        server.display()
    );
    let port = free_port();
    let process = ChildGuard(
        Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < DEADLINE, "moto never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        _process: process,
        endpoint,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn backups_round_trip_through_a_real_s3_server() {
    let moto = moto();
    let client = reqwest::Client::new();
    let created = client
        .put(format!("{}/sociograph-backups", moto.endpoint))
        .send()
        .await
        .expect("create bucket");
    assert!(created.status().is_success(), "{}", created.status());
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
    ];
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    ingest(&data, "corpus/demo");
    let before = results(&data);
    let target = "s3://sociograph-backups/prod";
    let out = ok(
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            target,
        ],
        &env,
    );
    assert!(
        out.contains("to s3://sociograph-backups/prod/backups/"),
        "{out}"
    );

    // Validation step 5: today's dated prefix lists the files and the manifest.
    let listing = client
        .get(format!("{}/sociograph-backups", moto.endpoint))
        .query(&[
            ("list-type", "2"),
            ("prefix", &format!("prod/backups/{}/", today())),
        ])
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    for name in [
        "/graph.db.gz</Key>",
        "/manifest.json</Key>",
        "/vector_store/",
    ] {
        assert!(listing.contains(name), "no {name} in {listing}");
    }

    let verified = ok(
        &["backup", "verify", &format!("{target}/{}", today())],
        &env,
    );
    assert!(verified.contains("every checksum matched"), "{verified}");
    let restored = work.path().join("restored");
    ok(
        &[
            "restore",
            "--data-dir",
            &restored.to_string_lossy(),
            "--from",
            target,
        ],
        &env,
    );
    assert_eq!(results(&restored), before);

    // A bucket that does not exist is an error that names the store, not a silent success.
    let err = refused(
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            "s3://no-such-bucket/x",
        ],
        &env,
    );
    assert!(
        err.contains("upload of s3://no-such-bucket/x/backups/") && err.contains("NoSuchBucket"),
        "{err}"
    );
}
