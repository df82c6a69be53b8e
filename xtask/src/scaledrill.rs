//! `cargo xtask drill scale-out`: the scale-out topology survives its two risky moments.
//!
//! Real: the release binary as one `worker` and three `serve --role api` replicas, moto's S3
//! server on 127.0.0.1 as the shared store, and `ab` as the client hitting the replicas
//! directly. The demo corpus is uploaded through a replica and published by the worker. Then:
//!
//! 1. a replica is killed (SIGKILL) while it downloads a new snapshot — caught by its staging
//!    directory (`.v<N>.partial`) existing — while `ab` loads the two others; it is restarted
//!    and must come back on the current snapshot, its partial download cleaned up;
//! 2. the worker is killed (SIGKILL) while it publishes — caught by its snapshot staging
//!    directory holding the packed vector index, i.e. `graph.db.gz` already uploaded — while
//!    `ab` loads all three replicas; the store must hold the interrupted version without a
//!    manifest and `snapshots/current` must not move; a new worker takes the lease once it
//!    expires, redoes the job and publishes the next version, which every replica serves.
//!
//! Zero failed and zero non-2xx requests are required in both phases. The report goes to
//! `docs/drills/scale-out.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::bluegreen::{Ab, finish_ab, start_ab};
use crate::proc::{ChildGuard, Moto, build_release, free_port, log_tail, sociograph};

const BUCKET: &str = "sociograph-scale-drill";
const STORE: &str = "s3://sociograph-scale-drill/prod";
const SEARCH: &str = "/search?q=who+backed+the+minister";
/// The lease time to live the drill's workers use (the default is 30 s; shorter keeps the
/// takeover wait short, and nothing else depends on it).
const LEASE_SECS: &str = "10";

fn step(what: &str) {
    eprintln!("xtask: scale-out drill: == {what}");
}

struct Env {
    bin: PathBuf,
    root: PathBuf,
    dir: PathBuf,
    vars: Vec<(&'static str, String)>,
    http: reqwest::blocking::Client,
}

impl Env {
    fn command(&self, args: &[&str], data: &Path) -> Command {
        let mut cmd = sociograph(&self.bin, &self.root);
        cmd.args(args)
            .args(["--store-url", STORE, "--embedder", "hashing", "--data-dir"])
            .arg(data)
            .envs(self.vars.iter().map(|(k, v)| (*k, v.as_str())));
        cmd
    }

    fn spawn(&self, mut cmd: Command, name: &str) -> anyhow::Result<ChildGuard> {
        let log = self.dir.join(format!("{name}.log"));
        let out = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)?;
        cmd.stdout(out.try_clone()?).stderr(out);
        ChildGuard::spawn(&mut cmd, name)
    }

    fn worker(&self, name: &str) -> anyhow::Result<ChildGuard> {
        let tmp = self.dir.join(format!("{name}-tmp"));
        std::fs::create_dir_all(&tmp)?;
        let mut cmd = self.command(
            &["worker", "--lease-secs", LEASE_SECS],
            &self.dir.join(name),
        );
        // Its snapshot staging directories land here, where the drill can watch them.
        cmd.env("TMPDIR", &tmp);
        self.spawn(cmd, name)
    }

    fn replica(&self, index: usize, port: u16) -> anyhow::Result<ChildGuard> {
        let mut cmd = self.command(
            &[
                "serve",
                "--role",
                "api",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ],
            &self.replica_dir(index),
        );
        cmd.env("SOCIOGRAPH_COLOR", "blue");
        self.spawn(cmd, &format!("api{index}"))
    }

    fn replica_dir(&self, index: usize) -> PathBuf {
        self.dir.join(format!("api{index}"))
    }

    fn get_json(&self, url: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.http.get(url).send()?.json()?)
    }

    fn version(&self, port: u16) -> anyhow::Result<u64> {
        let health = self.get_json(&format!("http://127.0.0.1:{port}/health"))?;
        Ok(health["snapshot"].as_u64().unwrap_or(0))
    }

    /// Wait until every port serves at least `version` (bounded).
    fn converge(&self, ports: &[u16], version: u64) -> anyhow::Result<Vec<u64>> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let seen: Vec<u64> = ports
                .iter()
                .map(|p| self.version(*p).unwrap_or(0))
                .collect();
            if seen.iter().all(|v| *v >= version) {
                return Ok(seen);
            }
            ensure!(
                Instant::now() < deadline,
                "replicas stuck at {seen:?}, want {version}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn upload(&self, port: u16, name: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
        let form = reqwest::blocking::multipart::Form::new().part(
            "file",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        let r = self
            .http
            .post(format!("http://127.0.0.1:{port}/api/documents"))
            .multipart(form)
            .send()?;
        let status = r.status();
        let body: serde_json::Value = r.json()?;
        ensure!(
            status.is_success(),
            "upload of {name} answered {status}: {body}"
        );
        Ok(body["job_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Wait for a job to finish; returns its snapshot version.
    fn job_done(&self, port: u16, job: &str) -> anyhow::Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let v = self.get_json(&format!("http://127.0.0.1:{port}/api/jobs/{job}"))?;
            match v["status"].as_str() {
                Some("done") => return Ok(v["snapshot"].as_u64().unwrap_or(0)),
                Some("failed") => bail!("job {job} failed: {v}"),
                _ => {}
            }
            ensure!(Instant::now() < deadline, "job {job} never finished: {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Keys under `prefix` in the drill's bucket.
    fn list(&self, endpoint: &str, prefix: &str) -> anyhow::Result<Vec<String>> {
        let xml = self
            .http
            .get(format!("{endpoint}/{BUCKET}"))
            .query(&[("list-type", "2"), ("prefix", prefix)])
            .send()?
            .text()?;
        Ok(xml
            .split("<Key>")
            .skip(1)
            .filter_map(|k| k.split_once("</Key>").map(|(k, _)| k.to_owned()))
            .collect())
    }
}

/// Poll (every millisecond, bounded) until `found()` holds; false on timeout.
fn watch(limit: Duration, mut found: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if found() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn doc(word: &str) -> Vec<u8> {
    format!(
        "Drill memo {word}\nCouncillor Ines Varga backed the minister on the harbour plan. \
         The drill word {word} marks this document.\n"
    )
    .into_bytes()
}

struct Row {
    phase: &'static str,
    target: String,
    ab: Ab,
}

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let bin = build_release(root)?;
    let work = tempfile::Builder::new()
        .prefix("sociograph-scale-drill-")
        .tempdir()?;

    step("moto's S3 server on 127.0.0.1");
    let moto = Moto::start(root, BUCKET)?;
    let endpoint = moto.endpoint.clone();
    let env = Env {
        bin,
        root: root.to_path_buf(),
        dir: work.path().to_path_buf(),
        vars: moto.env(),
        http: reqwest::blocking::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()?,
    };

    step("one worker, three API replicas");
    let mut worker = env.worker("worker1")?;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect::<Result<_, _>>()?;
    let mut replicas: Vec<ChildGuard> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        replicas.push(env.replica(i, *port)?);
    }
    env.converge(&ports, 1)?;

    step("the demo corpus, uploaded through replica 0 and published by the worker");
    let mut files: Vec<PathBuf> = entries(&root.join("corpus/demo"));
    files.sort();
    let mut last = String::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        last = env.upload(ports[0], &name, std::fs::read(file)?)?;
    }
    let seeded = env.job_done(ports[1], &last)?;
    env.converge(&ports, seeded)?;
    let documents = env.get_json(&format!("http://127.0.0.1:{}/api/documents", ports[2]))?["total"]
        .as_u64()
        .unwrap_or(0);
    ensure!(
        documents as usize == files.len(),
        "replica 2 lists {documents} of {} documents",
        files.len()
    );

    let mut rows = Vec::new();
    let mut notes = Vec::new();

    step("kill replica 2 mid-download while ab loads replicas 0 and 1");
    let before = env.version(ports[0])?;
    let loads: Vec<_> = [0usize, 1]
        .iter()
        .map(|i| {
            start_ab(
                &format!("http://127.0.0.1:{}{SEARCH}", ports[*i]),
                work.path(),
                &["-t", "20", "-n", "1000000"],
                8,
                &format!("download-api{i}"),
            )
            .map(|l| (*i, l))
        })
        .collect::<Result<_, _>>()?;
    std::thread::sleep(Duration::from_secs(1));
    let victim_dir = env.replica_dir(2);
    let mut caught = None;
    for attempt in 1..=5 {
        let job = env.upload(
            ports[0],
            &format!("drill-{attempt}.txt"),
            doc(&format!("quillmark{attempt}")),
        )?;
        let partial = watch(Duration::from_secs(30), || {
            entries(&victim_dir).iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(".partial"))
            })
        });
        if partial {
            replicas[2].signal("KILL")?;
            let _ = replicas[2].wait_for(Duration::from_secs(10));
            let leftover: Vec<String> = entries(&victim_dir)
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .filter(|n| n.ends_with(".partial"))
                .collect();
            caught = Some((attempt, job, leftover));
            break;
        }
        env.job_done(ports[0], &job)?;
    }
    let (attempts, job, leftover) =
        caught.context("replica 2 was never caught mid-download in 5 attempts")?;
    let published = env.job_done(ports[1], &job)?;
    let survivors = env.converge(&ports[..2], published)?;
    for (i, (child, out)) in loads {
        rows.push(Row {
            phase: "replica killed mid-download",
            target: format!("replica {i}"),
            ab: finish_ab(child, &out)?,
        });
    }
    replicas[2] = env.replica(2, ports[2])?;
    let back = env.converge(&ports, published)?;
    let cleaned = !entries(&victim_dir).iter().any(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".partial"))
    });
    ensure!(
        cleaned,
        "the restarted replica left its partial download in place"
    );
    notes.push(format!(
        "Replica 2 was killed with SIGKILL on attempt {attempts} while its staging directory {leftover:?} \
         existed (snapshot {before} → {published}). Replicas 0 and 1 moved to {published} during the load \
         ({survivors:?}); replica 2, restarted, removed the partial download and came up on {} ({back:?}).",
        back[2]
    ));

    step("kill the worker mid-publish while ab loads all three replicas");
    let before = env.version(ports[0])?;
    let loads: Vec<_> = (0..3)
        .map(|i| {
            start_ab(
                &format!("http://127.0.0.1:{}{SEARCH}", ports[i]),
                work.path(),
                &["-t", "20", "-n", "1000000"],
                6,
                &format!("publish-api{i}"),
            )
            .map(|l| (i, l))
        })
        .collect::<Result<_, _>>()?;
    std::thread::sleep(Duration::from_secs(1));
    let tmp = work.path().join("worker1-tmp");
    let job = env.upload(ports[1], "drill-publish.txt", doc("marrowfen"))?;
    // graph.db.gz is uploaded before the vector index is packed.
    let mid = watch(Duration::from_secs(60), || {
        entries(&tmp)
            .iter()
            .any(|staging| staging.join("packed/vector_store").exists())
    });
    ensure!(
        mid,
        "the worker was never seen publishing{}",
        log_tail(&work.path().join("worker1.log"))
    );
    worker.signal("KILL")?;
    let _ = worker.wait_for(Duration::from_secs(10));
    let interrupted = format!("prod/snapshots/v{:012}-", before + 1);
    let objects = env.list(&endpoint, &interrupted)?;
    let pointer: serde_json::Value = serde_json::from_str(
        &env.http
            .get(format!("{endpoint}/{BUCKET}/prod/snapshots/current"))
            .send()?
            .text()?,
    )?;
    ensure!(
        pointer["version"].as_u64() == Some(before),
        "snapshots/current moved to {} after the kill",
        pointer["version"]
    );
    ensure!(
        !objects.iter().any(|k| k.ends_with("manifest.json")),
        "the worker finished publishing before the kill: {objects:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let held: Vec<u64> = ports.iter().map(|p| env.version(*p).unwrap_or(0)).collect();
    ensure!(
        held.iter().all(|v| *v == before),
        "replicas moved off {before}: {held:?}"
    );
    let takeover = Instant::now();
    let _worker2 = env.worker("worker2")?;
    let after = env.job_done(ports[2], &job)?;
    let took = takeover.elapsed();
    let converged = env.converge(&ports, after)?;
    for (i, (child, out)) in loads {
        rows.push(Row {
            phase: "worker killed mid-publish",
            target: format!("replica {i}"),
            ab: finish_ab(child, &out)?,
        });
    }
    let found = env.get_json(&format!(
        "http://127.0.0.1:{}/search?q=marrowfen&mode=keyword",
        ports[0]
    ))?;
    ensure!(
        found["hits"].as_array().is_some_and(|h| !h.is_empty()),
        "the redone job's document is not searchable: {found}"
    );
    notes.push(format!(
        "The worker was killed with SIGKILL while publishing version {}: the store then held {} object(s) \
         of it ({}) and no manifest; `snapshots/current` stayed at {before} and all three replicas kept \
         serving {before} ({held:?}). A second worker took the lease after the first one's expired \
         ({LEASE_SECS} s lease), redid the job and published {after} (the interrupted version is never \
         reused) {:.1} s after it started; every replica moved to it ({converged:?}).",
        before + 1,
        objects.len(),
        objects
            .iter()
            .map(|k| k.rsplit('/').next().unwrap_or(k).to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        took.as_secs_f64()
    ));

    let failed: u64 = rows.iter().map(|r| r.ab.failed + r.ab.non_2xx).sum();
    let report = render(&rows, &notes, documents, started.elapsed());
    let path = root.join("docs/drills/scale-out.md");
    std::fs::write(&path, &report).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("{report}");
    ensure!(
        failed == 0,
        "{failed} failed or non-2xx requests during the drill (see {})",
        path.display()
    );
    eprintln!(
        "xtask: scale-out drill passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn render(rows: &[Row], notes: &[String], documents: u64, took: Duration) -> String {
    let mut md = String::from(
        "# Scale-out drill\n\n\
         Written by `cargo xtask drill scale-out` (CI runs it on every change). The release binary runs \
         as one `sociograph worker` and three `sociograph serve --role api` replicas sharing an S3 \
         store (moto on 127.0.0.1); the demo corpus",
    );
    md.push_str(&format!(
        " ({documents} documents) is uploaded through a replica and published by the worker. The \
         client is `ab -l -r -c 6..8 -t 20` on `GET {SEARCH}` against each replica directly, all on \
         127.0.0.1 (2 cores shared by moto, the worker, three replicas and the clients).\n\n"
    ));
    md.push_str("| phase | target | requests | failed | non-2xx | p50 ms | p95 ms | p99 ms | max ms | req/s |\n");
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |\n",
            r.phase,
            r.target,
            r.ab.complete,
            r.ab.failed,
            r.ab.non_2xx,
            r.ab.p50,
            r.ab.p95,
            r.ab.p99,
            r.ab.longest,
            r.ab.rps
        ));
    }
    md.push_str("\n## What happened\n\n");
    for n in notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push_str(&format!("\nDrill time: {:.0} s.\n", took.as_secs_f64()));
    md
}
