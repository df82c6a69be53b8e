//! `sociograph backup` / `restore` / `backup verify` on the real binary: to a directory
//! (`file://`) and to a real S3-compatible server on 127.0.0.1 (moto, installed by
//! `scripts/setup-python.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cli::{ChildGuard, bin, free_port, run, text};
use crate::helpers::DEADLINE;
use crate::s3::{S3, moto};

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
fn back_up(data: &Path, target: &str, env: &[(&str, &str)]) -> String {
    ok(
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            target,
        ],
        env,
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
                .map(|h| {
                    assert!(h["chunk_id"].is_i64() && h["score"].is_f64(), "{h}");
                    (h["chunk_id"].to_string(), h["score"].to_string())
                })
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
    let moto = moto();
    let s3 = S3::new(&moto, "live").await;
    let env = s3.env();
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
    let target = "s3://live/sociograph".to_owned();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let printed = {
        let (data, target, endpoint) = (data.clone(), target.clone(), moto.endpoint.clone());
        tokio::task::spawn_blocking(move || back_up(&data, &target, &S3::env_for(&endpoint)))
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

    // The dated layout, listed through the S3 API: the files, the manifest, the pointer.
    let keys = s3.list(&format!("sociograph/backups/{}/", today())).await;
    for name in ["/manifest.json", "/graph.db.gz"] {
        assert!(
            keys.iter().any(|k| k.contains(name)),
            "no {name} in {keys:?}"
        );
    }
    let latest = s3.get("sociograph/backups/latest").await;
    let manifest: Value = serde_json::from_str(
        &s3.get(&format!("sociograph/{}/manifest.json", latest.trim()))
            .await,
    )
    .expect("manifest json");
    let documents = manifest["counts"]["documents"].as_u64().expect("documents");
    assert!((32..=44).contains(&documents), "{manifest}");
    assert_eq!(manifest["format_version"], 1);
    // Mid-ingest, the index is included only if it reflected the copied commit.
    assert_eq!(
        manifest["index_included"].as_bool(),
        Some(keys.iter().any(|k| k.contains("/vector_store/"))),
        "{manifest} {keys:?}"
    );

    // The backup taken mid-ingest restores and verifies as the state it captured.
    let verified = ok(&["backup", "verify", &target], &env);
    assert!(verified.contains("every checksum matched"), "{verified}");
    // The verification is recorded in the target, for the metric.
    let last = s3.get("sociograph/backups/last-verified").await;
    assert_eq!(last.trim(), latest.trim());
    let record = s3
        .get(&format!("sociograph/{}/verified.json", last.trim()))
        .await;
    assert!(record.contains("verified_at_unix"), "{record}");
    let mid = work.path().join("mid");
    ok(
        &[
            "restore",
            "--data-dir",
            &mid.to_string_lossy(),
            "--from",
            &target,
        ],
        &env,
    );
    let restored: i64 = rusqlite::Connection::open(mid.join("graph.db"))
        .expect("open")
        .query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        restored as u64, documents,
        "the restore is the state the backup captured"
    );
    assert!(results(&mid).iter().all(|r| !r.is_empty()));

    // Quiet now: a backup restores to exactly the same search results.
    let after = results(&data);
    std::thread::sleep(Duration::from_millis(1100)); // a distinct timestamp key
    back_up(&data, &target, &env);
    let copy = work.path().join("copy");
    let out = ok(
        &[
            "restore",
            "--data-dir",
            &copy.to_string_lossy(),
            "--from",
            &format!("{target}/latest"),
        ],
        &env,
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
    back_up(&data, &format!("file://{}", store.display()), &[]);
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

#[tokio::test(flavor = "multi_thread")]
async fn backups_round_trip_through_a_real_s3_server() {
    let moto = moto();
    let client = reqwest::Client::new();
    let s3 = S3::new(&moto, "sociograph-backups").await;
    let env = s3.env();
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
    let keys = s3.list(&format!("prod/backups/{}/", today())).await;
    for name in ["/graph.db.gz", "/manifest.json", "/vector_store/"] {
        assert!(
            keys.iter().any(|k| k.contains(name)),
            "no {name} in {keys:?}"
        );
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

    // The 30-day lifecycle rule: put, with a rule already there kept, and read back from S3.
    let other = "<LifecycleConfiguration><Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>";
    let put = client
        .put(format!("{}/sociograph-backups?lifecycle", moto.endpoint))
        .body(other)
        .send()
        .await
        .expect("put lifecycle");
    assert!(
        put.status().is_success(),
        "{}",
        put.text().await.unwrap_or_default()
    );
    let out = ok(&["backup", "lifecycle", target], &env);
    assert!(
        out.contains("objects under prod/backups/ expire after 30 days") && out.contains("logs"),
        "{out}"
    );
    let read = client
        .get(format!("{}/sociograph-backups?lifecycle", moto.endpoint))
        .send()
        .await
        .expect("get lifecycle")
        .text()
        .await
        .expect("text");
    let ours = read
        .split("<Rule>")
        .find(|r| r.contains("prod/backups/"))
        .unwrap_or_else(|| panic!("no rule for prod/backups/ in {read}"));
    assert!(
        ours.contains("<Days>30</Days>") && ours.contains("Enabled"),
        "{read}"
    );
    assert!(
        read.contains("<ID>logs</ID>"),
        "the other rule was dropped: {read}"
    );
    let err = refused(
        &[
            "backup",
            "lifecycle",
            &format!("file://{}", work.path().display()),
        ],
        &env,
    );
    assert!(
        err.contains("lifecycle rules are for s3:// targets"),
        "{err}"
    );

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

/// `serve` on a free port with `args` added; waits for `/health` 200.
async fn serve(args: &[&str]) -> (ChildGuard, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut cmd = bin();
    cmd.args(["serve", "--embedder", "hashing", "--listen", &listen])
        .args(args)
        .env("SOCIOGRAPH__SERVER__DRAIN_SECS", "0")
        .env("SOCIOGRAPH__BACKUP__CHECK_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut guard = ChildGuard(cmd.spawn().expect("serve"));
    let started = Instant::now();
    loop {
        if let Some(status) = guard.0.try_wait().expect("wait") {
            panic!("serve {args:?} exited with {status}");
        }
        if reqwest::get(format!("http://{listen}/health"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return (guard, listen);
        }
        assert!(started.elapsed() < DEADLINE, "serve {args:?} never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of an unlabelled gauge in `/metrics`, once present.
async fn gauge(listen: &str, name: &str) -> f64 {
    let started = Instant::now();
    loop {
        let text = reqwest::get(format!("http://{listen}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if let Some(value) = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
        {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "{name} never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn backup_count(root: &Path) -> usize {
    let day = root.join("backups").join(today());
    std::fs::read_dir(&day).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_backs_up_on_schedule_reports_it_and_a_replica_starts_from_it() {
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    ingest(&data, "corpus/demo");
    let store = work.path().join("store");
    let target = format!("file://{}", store.display());
    let data_arg = data.to_string_lossy().into_owned();

    // A single box: backs up at once (no backup yet), verifies it, reports both.
    let (mut first, listen) = serve(&[
        "--data-dir",
        &data_arg,
        "--backup-to",
        &target,
        "--backup-every",
        "24h",
    ])
    .await;
    let success = gauge(&listen, "sociograph_backup_last_success_timestamp_seconds").await;
    let verified = gauge(&listen, "sociograph_backup_last_verified_timestamp_seconds").await;
    assert!(
        verified >= success && success > 1.7e9,
        "{success} {verified}"
    );
    assert_eq!(backup_count(&store), 1);
    assert!(store.join("backups/last-verified").is_file());
    let search = reqwest::get(format!("http://{listen}/search?q=harbour"))
        .await
        .expect("search")
        .text()
        .await
        .expect("text");
    let _ = first.0.kill();
    let _ = first.0.wait();

    // A stateless replica: starts from the backup, reports the same times, and does not make
    // a second backup (the newest is younger than 24 h).
    let replica = work.path().join("replica");
    let (_second, listen) = serve(&[
        "--data-dir",
        &replica.to_string_lossy(),
        "--restore-from",
        &target,
        "--backup-to",
        &target,
        "--backup-every",
        "24h",
    ])
    .await;
    assert_eq!(
        gauge(&listen, "sociograph_backup_last_success_timestamp_seconds").await,
        success
    );
    assert_eq!(
        gauge(&listen, "sociograph_backup_last_verified_timestamp_seconds").await,
        verified
    );
    assert_eq!(
        backup_count(&store),
        1,
        "a backup younger than 24 h was repeated"
    );
    let replica_search = reqwest::get(format!("http://{listen}/search?q=harbour"))
        .await
        .expect("search")
        .text()
        .await
        .expect("text");
    let hits = |body: &str| -> Value {
        let v: Value = serde_json::from_str(body).expect("json");
        v["hits"].clone()
    };
    assert!(
        hits(&search).as_array().is_some_and(|h| !h.is_empty()),
        "{search}"
    );
    assert_eq!(hits(&replica_search), hits(&search));

    // A bad --restore-from stops the start with the reason.
    let out = run(
        &[
            "serve",
            "--embedder",
            "hashing",
            "--data-dir",
            &work.path().join("third").to_string_lossy(),
            "--restore-from",
            &format!("file://{}", work.path().join("nothing").display()),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no backups/latest pointer"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn retention_removes_old_days_but_never_the_latest() {
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("data");
    ingest(&data, "testdata/good");
    let store = work.path().join("store");
    let old = store.join("backups/2020-01-01/20200101T000000Z");
    std::fs::create_dir_all(&old).expect("mkdir");
    std::fs::write(old.join("manifest.json"), "{}").expect("write");
    let out = ok(
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            &format!("file://{}", store.display()),
            "--retention-days",
            "30",
        ],
        &[],
    );
    assert!(
        out.contains("removed backups older than 30 days: 2020-01-01"),
        "{out}"
    );
    assert!(!old.exists());
    assert_eq!(backup_count(&store), 1);
}
