//! The scale-out topology on 127.0.0.1: moto (a real S3-compatible server), `sociograph
//! worker` processes and three `serve --role api` replicas, all the real binary.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{ChildGuard, bin, free_port, run, text};
use crate::helpers::DEADLINE;
use crate::s3::{S3, moto};

/// How long anything in the topology may take to propagate.
const PROPAGATION: Duration = Duration::from_secs(60);
const LEASE_SECS: &str = "3";

struct Process {
    guard: ChildGuard,
    log: PathBuf,
}

impl Process {
    fn start(role_args: &[&str], data: &Path, store_url: &str, env: &[(&str, &str)]) -> Process {
        let log = data.with_extension("log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = bin();
        cmd.args(role_args)
            .args([
                "--data-dir",
                &data.to_string_lossy(),
                "--store-url",
                store_url,
                "--embedder",
                "hashing",
                "--poll-secs",
                "0.2",
            ])
            .env("SOCIOGRAPH__SERVER__DRAIN_SECS", "0")
            .env("SOCIOGRAPH_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Process {
            guard: ChildGuard(cmd.spawn().expect("spawn sociograph")),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn alive(&mut self) -> bool {
        self.guard.0.try_wait().expect("try_wait").is_none()
    }
}

struct Replica {
    process: Process,
    base: String,
}

impl Replica {
    async fn start(dir: &Path, store_url: &str, env: &[(&str, &str)]) -> Replica {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut process = Process::start(
            &["serve", "--role", "api", "--listen", &listen],
            dir,
            store_url,
            env,
        );
        let base = format!("http://{listen}");
        let started = Instant::now();
        loop {
            assert!(process.alive(), "replica exited: {}", process.log());
            if reqwest::get(format!("{base}/health"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Replica { process, base };
            }
            assert!(
                started.elapsed() < PROPAGATION,
                "replica never ready: {}",
                process.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn health(&self) -> Value {
        reqwest::get(format!("{}/health", self.base))
            .await
            .expect("health")
            .json()
            .await
            .expect("json")
    }

    async fn upload(&self, name: &str, body: &str) -> (u16, Value) {
        let part =
            reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = reqwest::Client::new()
            .post(format!("{}/api/documents", self.base))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    /// Document ids of the keyword hits for `q`.
    async fn found(&self, q: &str) -> Vec<String> {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/search", self.base))
            .query(&[("q", q), ("mode", "keyword")])
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("json");
        v["hits"]
            .as_array()
            .map(|hits| {
                hits.iter()
                    .filter_map(|h| h["document"]["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn job(&self, id: &str) -> Value {
        reqwest::get(format!("{}/api/jobs/{id}", self.base))
            .await
            .expect("job")
            .json()
            .await
            .expect("json")
    }
}

/// Poll `job` on `replica` until it is finished; returns the record.
async fn finished(replica: &Replica, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let job = replica.job(id).await;
        if matches!(job["status"].as_str(), Some("done" | "failed")) {
            return job;
        }
        assert!(
            started.elapsed() < PROPAGATION,
            "job {id} never finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until every replica serves at least `version`; returns the versions seen.
async fn converge(replicas: &[Replica], version: u64) -> Vec<u64> {
    let started = Instant::now();
    loop {
        let mut seen = Vec::new();
        for r in replicas {
            seen.push(r.health().await["snapshot"].as_u64().unwrap_or(0));
        }
        if seen.iter().all(|v| *v >= version) {
            return seen;
        }
        assert!(
            started.elapsed() < PROPAGATION,
            "replicas never reached snapshot {version}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn doc(word: &str) -> String {
    format!(
        "Council Minutes {word}\nCouncillor Ines Varga backed the harbour plan. The ledger word {word} \
         appears in this document only, to prove which replica can find it.\n"
    )
}

async fn current(s3: &S3) -> Value {
    serde_json::from_str(&s3.get("prod/snapshots/current").await).expect("pointer json")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_worker_feeds_three_replicas_and_a_second_worker_waits_then_takes_over() {
    let moto = moto();
    let s3 = S3::new(&moto, "sociograph-scale").await;
    let env = s3.env();
    let store_url = "s3://sociograph-scale/prod";
    let work = tempfile::tempdir().expect("tmp");
    let worker_env: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .chain([("SOCIOGRAPH_LEASE_SECS", LEASE_SECS)])
        .collect();

    let mut first = Process::start(&["worker"], &work.path().join("w1"), store_url, &worker_env);
    let mut replicas = Vec::new();
    for i in 0..3 {
        replicas.push(Replica::start(&work.path().join(format!("api{i}")), store_url, &env).await);
    }
    let start_version = converge(&replicas, 1).await;
    let first_holder = current(&s3).await["publisher"]
        .as_str()
        .expect("publisher")
        .to_owned();

    // Bad input is refused by the replica at once, and nothing is queued.
    let (status, body) = replicas[0].upload("empty.txt", "").await;
    assert_eq!(status, 422, "{body}");
    assert!(s3.list("prod/queue/").await.is_empty());

    // Readers keep asking replica 0 through every snapshot swap below: none may fail.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let (base, stop) = (replicas[0].base.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let (mut ok, mut failed) = (0u32, Vec::new());
                let path = [
                    "/search?q=harbour+plan",
                    "/api/graph/entities?q=Varga",
                    "/api/documents",
                ][i % 3];
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match client.get(format!("{base}{path}")).send().await {
                        Ok(r) if r.status() == 200 => ok += 1,
                        Ok(r) => failed.push(format!("{path}: {}", r.status())),
                        Err(e) => failed.push(format!("{path}: {e}")),
                    }
                }
                (ok, failed)
            })
        })
        .collect();

    // Uploads to different replicas all become searchable on every replica.
    let words = ["quorvantis", "pellodrine", "skarnwise"];
    let mut docs = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let (status, body) = replicas[i].upload(&format!("{word}.txt"), &doc(word)).await;
        assert_eq!(status, 202, "{body}");
        let job_id = body["job_id"].as_str().expect("job id").to_owned();
        docs.push((
            body["document_id"].as_str().expect("doc id").to_owned(),
            job_id,
        ));
    }
    let mut version = 0;
    for (i, (doc_id, job_id)) in docs.iter().enumerate() {
        // Job status is visible from another replica than the one that took the upload.
        let job = finished(&replicas[(i + 1) % 3], job_id).await;
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(job["document_id"].as_str(), Some(doc_id.as_str()));
        version = version.max(job["snapshot"].as_u64().expect("snapshot version"));
    }
    assert!(version > start_version[0], "{version} {start_version:?}");
    let seen = converge(&replicas, version).await;
    assert!(seen.iter().all(|v| *v == seen[0]), "{seen:?}");
    for r in &replicas {
        for (word, (doc_id, _)) in words.iter().zip(&docs) {
            assert_eq!(
                r.found(word).await,
                vec![doc_id.clone()],
                "{word} on {}",
                r.base
            );
        }
    }

    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut served = 0;
    for reader in readers {
        let (ok, failed) = reader.await.expect("reader");
        assert!(
            failed.is_empty(),
            "requests failed during snapshot swaps: {failed:?}"
        );
        served += ok;
    }
    assert!(served > 0);

    // A second worker waits: while the first holds the lease, everything is published by it.
    let mut second = Process::start(&["worker"], &work.path().join("w2"), store_url, &worker_env);
    let started = Instant::now();
    while !second.log().contains("waiting for its lease") {
        assert!(second.alive(), "second worker exited: {}", second.log());
        assert!(
            started.elapsed() < DEADLINE,
            "second worker never waited: {}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = replicas[1].upload("fenwold.txt", &doc("fenwold")).await;
    assert_eq!(status, 202, "{body}");
    let job = finished(&replicas[2], body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "done", "{job}");
    // Hold for more than a lease period: the second worker must keep waiting.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let pointer = current(&s3).await;
    assert_eq!(
        pointer["publisher"].as_str(),
        Some(first_holder.as_str()),
        "{pointer}"
    );
    assert!(
        !second.log().contains("writer lease taken"),
        "{}",
        second.log()
    );
    let before_kill = pointer["version"].as_u64().expect("version");

    // Kill the writer; queue work while no worker runs; the second takes over and finishes it.
    first.guard.0.kill().expect("kill");
    let _ = first.guard.0.wait();
    let (status, body) = replicas[0].upload("garrowick.txt", &doc("garrowick")).await;
    assert_eq!(status, 202, "{body}");
    let upload_job = body["job_id"].as_str().expect("job").to_owned();
    let garrowick = body["document_id"].as_str().expect("doc").to_owned();
    // A delete goes through the queue the same way.
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/documents/{}", replicas[2].base, docs[0].0))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 202);
    let deleted: Value = deleted.json().await.expect("json");
    let delete_job = deleted["job_id"].as_str().expect("job").to_owned();

    for job_id in [&upload_job, &delete_job] {
        let job = finished(&replicas[1], job_id).await;
        assert_eq!(job["status"], "done", "{job}");
    }
    let pointer = current(&s3).await;
    let second_holder = pointer["publisher"].as_str().expect("publisher").to_owned();
    assert_ne!(second_holder, first_holder, "{pointer}");
    assert!(
        second.log().contains("writer lease taken"),
        "{}",
        second.log()
    );
    let version = pointer["version"].as_u64().expect("version");
    assert!(version > before_kill);
    let seen = converge(&replicas, version).await;
    assert!(seen.iter().all(|v| *v == version), "{seen:?}");
    for r in &replicas {
        assert_eq!(r.found("garrowick").await, vec![garrowick.clone()]);
        assert!(
            r.found(words[0]).await.is_empty(),
            "deleted doc still found on {}",
            r.base
        );
        let gone = reqwest::get(format!("{}/api/documents/{}", r.base, docs[0].0))
            .await
            .expect("get");
        assert_eq!(gone.status(), 404);
    }
    assert!(s3.list("prod/queue/").await.is_empty(), "queue not drained");
    // The worker makes the topology's daily backup in the same store.
    let latest = s3.get("prod/backups/latest").await;
    assert!(latest.starts_with("backups/"), "{latest}");
    assert!(
        s3.list(&format!("prod/{}/manifest.json", latest.trim()))
            .await
            .len()
            == 1,
        "no manifest for {latest}"
    );
    for r in &mut replicas {
        assert!(r.process.alive(), "replica died: {}", r.process.log());
    }

    // SIGTERM: the worker releases its lease on the way out.
    let pid = second.guard.0.id().to_string();
    assert!(run_kill("-TERM", &pid));
    let started = Instant::now();
    while second.alive() {
        assert!(
            started.elapsed() < DEADLINE,
            "worker did not stop: {}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lease: Value = serde_json::from_str(&s3.get("prod/worker/lease").await).expect("lease");
    assert_eq!(lease["expires_at_ms"], 0, "{lease}");

    // Data rollback: a worker started from a backup publishes it as the next snapshot. The
    // only backup was made when the first worker started (before the uploads, as a rule).
    let backup = s3.get("prod/backups/latest").await;
    let manifest: Value = serde_json::from_str(
        &s3.get(&format!("prod/{}/manifest.json", backup.trim()))
            .await,
    )
    .expect("manifest");
    let backed_up = manifest["counts"]["documents"].as_u64().expect("documents");
    let mut rollback = Process::start(
        &["worker", "--restore-from", store_url],
        &work.path().join("w3"),
        store_url,
        &worker_env,
    );
    let seen = converge(&replicas, version + 1).await;
    assert!(seen.iter().all(|v| *v == version + 1), "{seen:?}");
    for r in &replicas {
        let listed: Value = reqwest::get(format!("{}/api/documents", r.base))
            .await
            .expect("documents")
            .json()
            .await
            .expect("json");
        assert_eq!(listed["total"].as_u64(), Some(backed_up), "{listed}");
        assert_ne!(backed_up, 4, "the backup should predate the last uploads");
    }
    assert!(rollback.alive(), "{}", rollback.log());
}

fn run_kill(signal: &str, pid: &str) -> bool {
    std::process::Command::new("kill")
        .args([signal, pid])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn roles_refuse_incomplete_settings() {
    let out = run(&["serve", "--role", "api"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--store-url"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["worker"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--store-url"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["worker", "--store-url", "ftp://x"], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("s3://"), "{}", text(&out.stderr));
}
