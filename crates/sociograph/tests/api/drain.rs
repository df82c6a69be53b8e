//! Graceful shutdown of the real binary: what a load balancer and its clients see between
//! SIGTERM and exit.
//!
//! The contract (README "Shutdown"): readiness flips to 503 at once and every response carries
//! `Connection: close`; requests are still served for `drain_secs` (so a balancer that has not
//! yet seen the 503 loses nothing); then the listener closes — a new connection is refused, never
//! accepted and reset — while requests already running finish; the process exits by
//! `drain_timeout_secs`, cutting whatever still runs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{ChildGuard, bin, free_port, run};
use crate::helpers::DEADLINE;
use crate::llm_server::{self, Reply};

const MODEL: &str = "drain-model";

/// A data directory with `testdata/good` ingested (hashing embedder: no model files).
fn ingested() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let out = run(
        &[
            "ingest",
            "--data-dir",
            &dir.path().to_string_lossy(),
            "--embedder",
            "hashing",
            "testdata/good",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `serve` on a free port with answers from `llm_base`; returns the guard and `host:port`.
fn serve(data: &tempfile::TempDir, llm_base: &str, env: &[(&str, &str)]) -> (ChildGuard, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut cmd = bin();
    cmd.args([
        "serve",
        "--data-dir",
        &data.path().to_string_lossy(),
        "--embedder",
        "hashing",
        "--listen",
        &listen,
        "--color",
        "green",
    ])
    .env("SOCIOGRAPH_LLM_BASE_URL", llm_base)
    .env("SOCIOGRAPH__LLM__ANSWER_MODEL", MODEL)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    (ChildGuard(cmd.spawn().expect("spawn serve")), listen)
}

async fn wait_health(client: &reqwest::Client, url: &str, want: u16) {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().as_u16() == want
        {
            return;
        }
        assert!(started.elapsed() < DEADLINE, "{url} never answered {want}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Send a question to `listen` and return once it is waiting on the model: a request in flight.
async fn ask_in_flight(
    listen: &str,
    llm: &llm_server::LlmServer,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let url = format!("http://{listen}/api/qa/ask");
    let asking = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({"query": "What about the harbour?"}))
            .send()
            .await
    });
    let started = Instant::now();
    while llm.behaviour.calls_for(MODEL) == 0 {
        assert!(
            started.elapsed() < DEADLINE,
            "the answer never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    asking
}

fn sigterm(guard: &ChildGuard) {
    let pid = guard.0.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

async fn wait_exit(guard: &mut ChildGuard) -> (ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = guard.0.try_wait().expect("wait") {
            return (status, started.elapsed());
        }
        assert!(
            started.elapsed() < DEADLINE,
            "server did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a fresh connection sees: refused, or a whole HTTP response. A connection accepted and
/// then reset, or closed before the response ended, fails the test.
enum Fresh {
    Refused,
    Answered(u16),
}

fn fresh_get(addr: &str, path: &str) -> Fresh {
    let mut stream = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Fresh::Refused,
        Err(e) => panic!("connect to {addr}: {e}"),
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("a connection accepted during the drain failed on write: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("a connection accepted during the drain was reset: {e}"));
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| {
        panic!("a connection accepted during the drain ended mid-response: {text:?}")
    });
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let length: Option<usize> = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    });
    if let Some(length) = length {
        assert_eq!(body.len(), length, "a response was cut short: {text:?}");
    }
    Fresh::Answered(status)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_requests_finish_new_connections_are_refused_and_the_process_exits() {
    let data = ingested();
    let llm = llm_server::spawn().await;
    // The slow request: an answer whose model takes 4 s, far past the 1 s notice period.
    llm.behaviour.script(
        MODEL,
        [Reply::text("The harbour answer {{cite:harbour}}.").delayed(Duration::from_secs(4))],
    );
    let (mut guard, listen) = serve(
        &data,
        &llm.base_url,
        &[
            ("SOCIOGRAPH__SERVER__DRAIN_SECS", "1"),
            ("SOCIOGRAPH__SERVER__DRAIN_TIMEOUT_SECS", "20"),
        ],
    );
    let health = format!("http://{listen}/health");
    let fresh_client = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client")
    };
    wait_health(&fresh_client(), &health, 200).await;

    // A second writer on the same data directory is refused while the server runs.
    let out = run(
        &[
            "ingest",
            "--data-dir",
            &data.path().to_string_lossy(),
            "--embedder",
            "hashing",
            "testdata/good",
        ],
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in use by another sociograph process"),
        "{err}"
    );

    // A keep-alive client, connected before the signal.
    let kept = reqwest::Client::new();
    let r = kept
        .get(format!("http://{listen}/search?q=harbour"))
        .send()
        .await
        .expect("search");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-sociograph-color"], "green");
    assert!(
        r.headers().get("connection").is_none(),
        "keep-alive before the drain"
    );

    let asking = ask_in_flight(&listen, &llm).await;

    sigterm(&guard);
    wait_health(&fresh_client(), &health, 503).await;
    let body: serde_json::Value = fresh_client()
        .get(&health)
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(body["status"], "draining");
    assert_eq!(body["color"], "green");

    // Still served during the notice period, but the connection is handed back.
    let r = kept
        .get(format!("http://{listen}/search?q=harbour"))
        .send()
        .await
        .expect("search during the drain");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["connection"], "close");
    assert_eq!(r.headers()["x-sociograph-color"], "green");

    // Fresh connections: answered whole (503 on /health) until the listener closes, then
    // refused — never accepted and reset.
    let addr = listen.clone();
    let seen = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut answered = 0;
        loop {
            match fresh_get(&addr, "/health") {
                Fresh::Answered(status) => {
                    assert_eq!(status, 503, "/health during the drain");
                    answered += 1;
                }
                Fresh::Refused => return answered,
            }
            assert!(started.elapsed() < DEADLINE, "the listener never closed");
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .expect("join");
    assert!(
        seen > 0,
        "no fresh connection was answered during the notice period"
    );

    // The request that started before the signal finishes, after the listener closed.
    let answer = asking.await.expect("join").expect("the in-flight answer");
    assert_eq!(answer.status(), 200);
    let answer: serde_json::Value = answer.json().await.expect("json");
    assert!(
        answer["answer"]
            .as_str()
            .is_some_and(|a| a.starts_with("The harbour answer")),
        "{answer}"
    );

    let (status, _) = wait_exit(&mut guard).await;
    assert!(status.success(), "exit status {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_drain_timeout_bounds_the_shutdown_even_with_a_request_still_running() {
    let data = ingested();
    let llm = llm_server::spawn().await;
    // A model that would take two minutes; the drain timeout is 1 s.
    llm.behaviour.script(
        MODEL,
        [Reply::text("Too late.").delayed(Duration::from_secs(120))],
    );
    let (mut guard, listen) = serve(
        &data,
        &llm.base_url,
        &[
            ("SOCIOGRAPH__SERVER__DRAIN_SECS", "0"),
            ("SOCIOGRAPH__SERVER__DRAIN_TIMEOUT_SECS", "1"),
        ],
    );
    wait_health(
        &reqwest::Client::new(),
        &format!("http://{listen}/health"),
        200,
    )
    .await;
    let asking = ask_in_flight(&listen, &llm).await;
    sigterm(&guard);
    let (status, took) = wait_exit(&mut guard).await;
    assert!(status.success(), "exit status {status}");
    // Not a timing assertion on speed: the process must not have waited for the model.
    assert!(
        took < Duration::from_secs(60),
        "shutdown waited {took:?} for a request past the drain timeout"
    );
    assert!(
        asking.await.expect("join").is_err(),
        "the request past the drain timeout is cut, not answered"
    );
}

#[test]
fn a_drain_timeout_shorter_than_the_notice_period_is_refused() {
    let out = run(
        &[
            "serve",
            "--embedder",
            "hashing",
            "--data-dir",
            "/nonexistent-sociograph",
        ],
        &[
            ("SOCIOGRAPH__SERVER__DRAIN_SECS", "5"),
            ("SOCIOGRAPH__SERVER__DRAIN_TIMEOUT_SECS", "2"),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.drain_timeout_secs"), "{err}");
}
