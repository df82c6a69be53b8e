//! `cargo xtask drill blue-green`: zero-downtime swaps, rollbacks and process kills through
//! HAProxy (Phase 9 outcome O-9.2, validation steps 2 and 3).
//!
//! The real parts: the release binary serving the demo corpus as blue and green with the
//! service's production defaults (drain 3 s, drain timeout 25 s, no limit relaxed), Debian's
//! HAProxy running `ops/haproxy/haproxy.cfg` unchanged (filled from the environment), the
//! operator's `ops/haproxy/switch.sh` doing every swap and rollback through HAProxy's runtime
//! API, and Apache Bench (`ab`) as the client. The stand-in: the LLM behind `POST /api/qa/ask`.
//!
//! 1. `ab -n200 -c20` on `/search` through HAProxy: p95 must be under 500 ms;
//! 2. a new release on the idle green, then blue → green while `ab -n1000 -c50` runs;
//! 3. rollback green → blue under the same load;
//! 4. the same swap and rollback under `ab -n10000 -c50`;
//! 5. under load, SIGTERM to the active color's process, then (relaunched) SIGKILL;
//!
//! every load must end with 0 failed and 0 non-2xx requests. During 5, a few askers also send
//! `POST /api/qa/ask` (not idempotent, never replayed by HAProxy): after SIGTERM none may fail;
//! after SIGKILL the ones in flight on the killed process fail, and the report counts them and
//! says why. The report goes to `docs/drills/blue-green.md`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::proc::{ChildGuard, free_port, log_tail, run_bounded};
use crate::stack::{AskLoad, Shutdown, Stack, Tally};

/// The search every load sends (one of the plan's example questions).
const SEARCH: &str = "/search?q=who+backed+the+minister";
/// The plan's latency bound for validation step 2.
const P95_LIMIT_MS: u64 = 500;
/// Askers sending POSTs during the kill phases, and how long the model takes per answer then
/// (so that some are in flight when the process dies).
const ASKERS: usize = 4;
const ASK_MODEL_SECONDS: f64 = 0.3;
/// The switch's verification window in the drill (the script's default is 10 s).
const VERIFY_SECS: &str = "4";

fn step(what: &str) {
    eprintln!("xtask: blue-green: == {what}");
}

/// Where Debian puts HAProxy (`/usr/sbin` is not on every user's PATH).
fn haproxy_bin() -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("haproxy"))
}

/// One row of the report.
struct Phase {
    name: String,
    ab: Ab,
    /// What HAProxy did for it: connection retries and redispatches (from `show stat`).
    retries: u64,
    redispatches: u64,
    /// The POST askers' tally, in the kill phases.
    posts: Option<Tally>,
    note: String,
}

/// What `ab` printed.
#[derive(Default)]
pub(crate) struct Ab {
    pub(crate) complete: u64,
    pub(crate) failed: u64,
    pub(crate) non_2xx: u64,
    pub(crate) p50: u64,
    pub(crate) p95: u64,
    pub(crate) p99: u64,
    pub(crate) longest: u64,
    pub(crate) rps: f64,
}

fn parse_ab(out: &str) -> anyhow::Result<Ab> {
    let number = |label: &str| -> Option<f64> {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    let ab = Ab {
        complete: number("Complete requests:").context("ab printed no 'Complete requests'")? as u64,
        failed: number("Failed requests:").context("ab printed no 'Failed requests'")? as u64,
        // ab prints this line only when there were some.
        non_2xx: number("Non-2xx responses:").unwrap_or(0.0) as u64,
        p50: number("50%").context("ab printed no percentiles")? as u64,
        p95: number("95%").context("ab printed no 95%")? as u64,
        p99: number("99%").context("ab printed no 99%")? as u64,
        longest: number("100%").unwrap_or(0.0) as u64,
        rps: number("Requests per second:").unwrap_or(0.0),
    };
    Ok(ab)
}

struct Haproxy {
    _process: ChildGuard,
    socket: PathBuf,
    base: String,
}

impl Haproxy {
    fn start(root: &Path, dir: &Path, blue: u16, green: u16) -> anyhow::Result<Haproxy> {
        let port = free_port()?;
        let socket = dir.join("haproxy.sock");
        let config = root.join("ops/haproxy/haproxy.cfg");
        let env = [
            ("SG_LISTEN", format!("127.0.0.1:{port}")),
            ("SG_BLUE", format!("127.0.0.1:{blue}")),
            ("SG_GREEN", format!("127.0.0.1:{green}")),
            ("SG_BLUE_WEIGHT", "100".to_owned()),
            ("SG_GREEN_WEIGHT", "0".to_owned()),
            ("SG_ADMIN_SOCKET", socket.display().to_string()),
        ];
        let mut check = Command::new(haproxy_bin());
        check.arg("-c").arg("-f").arg(&config).envs(env.clone());
        run_bounded(
            &mut check,
            Duration::from_secs(30),
            Some(&dir.join("haproxy-check.log")),
        )
        .context("ops/haproxy/haproxy.cfg does not pass `haproxy -c`")?;
        let log = dir.join("haproxy.log");
        let out = std::fs::File::create(&log)?;
        let mut process = ChildGuard::spawn(
            Command::new(haproxy_bin())
                .arg("-db")
                .arg("-f")
                .arg(&config)
                .envs(env)
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out),
            "haproxy",
        )?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            if let Some(status) = process.try_wait()? {
                bail!("HAProxy exited with {status}{}", log_tail(&log));
            }
            ensure!(
                Instant::now() < deadline,
                "HAProxy made no admin socket in 30 s{}",
                log_tail(&log)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Haproxy {
            _process: process,
            socket,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// One runtime API command's answer.
    fn api(&self, command: &str) -> anyhow::Result<String> {
        let mut stream = UnixStream::connect(&self.socket)
            .with_context(|| format!("cannot reach HAProxy at {}", self.socket.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(format!("{command}\n").as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// (retries, redispatches) summed over the backend's servers.
    fn retries(&self) -> anyhow::Result<(u64, u64)> {
        let stat = self.api("show stat -1 4 -1")?;
        let mut lines = stat.lines();
        let header: Vec<&str> = lines
            .next()
            .context("empty `show stat`")?
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (wretr, wredis) = (
            col("wretr").context("no wretr column")?,
            col("wredis").context("no wredis column")?,
        );
        let mut sums = (0, 0);
        for line in lines.filter(|l| l.starts_with("sociograph,")) {
            let fields: Vec<&str> = line.split(',').collect();
            let value =
                |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
            sums.0 += value(wretr);
            sums.1 += value(wredis);
        }
        Ok(sums)
    }

    /// Wait until HAProxy's checks see `server` up (or down, with `up = false`).
    fn wait_state(&self, server: &str, up: bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = self.api("show servers state sociograph")?;
            let running = state
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .any(|f| f.len() > 5 && f[3] == server && f[5] == "2");
            if running == up {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "HAProxy did not see {server} {} within 60 s",
                if up { "up" } else { "down" }
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Runs a load through HAProxy while something happens, and records it.
struct Load<'a> {
    haproxy: &'a Haproxy,
    base: &'a str,
    dir: &'a Path,
}

impl Load<'_> {
    /// `ab -nN -cC` on the search through HAProxy while `during` runs (its return value is the
    /// phase's note); the phase's figures once `ab` has finished.
    fn measure(
        &self,
        name: String,
        n: u32,
        c: u32,
        stack: &mut Stack,
        during: &mut dyn FnMut(&mut Stack) -> anyhow::Result<String>,
    ) -> anyhow::Result<Phase> {
        step(&name);
        let (r0, d0) = self.haproxy.retries()?;
        let tag: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        let (ab, out) = start_ab(
            &format!("{}{SEARCH}", self.base),
            self.dir,
            &["-n", &n.to_string()],
            c,
            &tag,
        )?;
        let note = during(stack)?;
        let ab = finish_ab(ab, &out)?;
        let (r1, d1) = self.haproxy.retries()?;
        eprintln!(
            "xtask: blue-green: {} requests, {} failed, {} non-2xx, p95 {} ms",
            ab.complete, ab.failed, ab.non_2xx, ab.p95
        );
        Ok(Phase {
            name,
            ab,
            retries: r1.saturating_sub(r0),
            redispatches: d1.saturating_sub(d0),
            posts: None,
            note,
        })
    }
}

/// `ops/haproxy/switch.sh` with `args`; its output, or its error.
fn switch(root: &Path, haproxy: &Haproxy, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let log = dir.join("switch.log");
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("ops/haproxy/switch.sh"))
        .arg("--socket")
        .arg(&haproxy.socket)
        .args(["--verify-secs", VERIFY_SECS])
        .args(args);
    run_bounded(&mut cmd, Duration::from_secs(300), Some(&log))
        .with_context(|| format!("switch.sh {} failed", args.join(" ")))?;
    let out = std::fs::read_to_string(&log)?;
    eprint!("{out}");
    Ok(out)
}

/// `ab -l -r <limit> -c C url`, started in the background (`limit`: `-n N`, or `-t SECS -n MAX`).
pub(crate) fn start_ab(
    url: &str,
    dir: &Path,
    limit: &[&str],
    c: u32,
    tag: &str,
) -> anyhow::Result<(ChildGuard, PathBuf)> {
    let out_path = dir.join(format!("ab-{tag}.txt"));
    let out = std::fs::File::create(&out_path)?;
    // -l: blue and green bodies differ in length, which ab would otherwise count as failures;
    // -r: keep going on a socket error, so it is counted instead of ending the run.
    let child = ChildGuard::spawn(
        Command::new("ab")
            .args(["-l", "-r", "-s", "60", "-c", &c.to_string()])
            .args(limit)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out),
        "ab",
    )?;
    Ok((child, out_path))
}

pub(crate) fn finish_ab(mut child: ChildGuard, out: &Path) -> anyhow::Result<Ab> {
    let status = child.wait_for(Duration::from_secs(900))?;
    let text = std::fs::read_to_string(out)?;
    ensure!(status.success(), "ab failed with {status}:\n{text}");
    parse_ab(&text)
}

/// The color answering through HAProxy now.
fn serving(stack: &Stack, base: &str) -> anyhow::Result<String> {
    // A fresh connection each time: the stack's runtime is idle between calls, so a pooled
    // connection that HAProxy closed meanwhile would still look reusable.
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()?;
    let response = stack
        .runtime
        .block_on(async { client.get(format!("{base}{SEARCH}")).send().await })?;
    ensure!(
        response.status().is_success(),
        "{base}{SEARCH} answered {}",
        response.status()
    );
    Ok(response
        .headers()
        .get("x-sociograph-color")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned())
}

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    for tool in ["ab", "bash", "socat", "curl"] {
        ensure!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()?
                .success(),
            "{tool} is not installed (scripts/setup-ops.sh installs it)"
        );
    }
    ensure!(
        haproxy_bin().is_file(),
        "HAProxy is not installed (scripts/setup-ops.sh installs it)"
    );
    let mut stack = Stack::start(
        root,
        "sociograph-bluegreen-",
        &["blue", "green"],
        Shutdown::Production,
    )?;
    let dir = stack.dir().to_path_buf();
    step("HAProxy with ops/haproxy/haproxy.cfg: blue active, green idle");
    let blue_port = stack.server("blue")?.port();
    let green_port = stack.server("green")?.port();
    let haproxy = Haproxy::start(root, &dir, blue_port, green_port)?;
    haproxy.wait_state("blue", true)?;
    haproxy.wait_state("green", true)?;
    let base = haproxy.base.clone();
    ensure!(
        serving(&stack, &base)? == "blue",
        "HAProxy does not start on blue"
    );

    let mut phases = Vec::new();
    let load = Load {
        haproxy: &haproxy,
        base: &base,
        dir: &dir,
    };

    // 1. Validation step 2: latency through HAProxy.
    phases.push(load.measure(
        "search through HAProxy, ab -n200 -c20".into(),
        200,
        20,
        &mut stack,
        &mut |_| Ok(String::new()),
    )?);

    // 2–4. Swaps and rollbacks under load.
    for n in [1000, 10_000] {
        step("a new release on the idle green (restart it)");
        stack.server("green")?.stop(Duration::from_secs(60))?;
        stack.relaunch("green")?;
        for (name, args, lands_on) in [
            ("swap blue → green", &["to", "green"][..], "green"),
            ("rollback green → blue", &["rollback"][..], "blue"),
        ] {
            phases.push(load.measure(
                format!("{name}, ab -n{n} -c50"),
                n,
                50,
                &mut stack,
                &mut |_| {
                    std::thread::sleep(Duration::from_secs(1));
                    let out = switch(root, &haproxy, &dir, args)?;
                    Ok(verified(&out))
                },
            )?);
            ensure!(
                serving(&stack, &base)? == lands_on,
                "traffic is not on {lands_on} after: {name}"
            );
        }
    }

    // 5. Validation step 3: the active color's process stops under load.
    stack.set_llm_delay(ASK_MODEL_SECONDS)?;
    for signal in ["TERM", "KILL"] {
        let asks = AskLoad::start(base.clone(), ASKERS);
        let name = format!("SIG{signal} to blue (active) under ab -n3000 -c50");
        let mut phase = load.measure(name, 3000, 50, &mut stack, &mut |stack| {
            std::thread::sleep(Duration::from_secs(3));
            let blue = stack.server("blue")?;
            blue.signal(signal)?;
            let signalled = Instant::now();
            let status = blue.wait_exit(Duration::from_secs(60))?;
            let exited = signalled.elapsed();
            haproxy.wait_state("blue", false)?;
            Ok(format!(
                "blue exited {:.1} s after SIG{signal} ({status}) and HAProxy had marked it down by {:.1} s; \
                 green, idle at weight 0, took the traffic as standby",
                exited.as_secs_f64(),
                signalled.elapsed().as_secs_f64()
            ))
        })?;
        phase.posts = Some(asks.stop());
        phases.push(phase);
        step("relaunch blue");
        stack.relaunch("blue")?;
        haproxy.wait_state("blue", true)?;
        ensure!(
            serving(&stack, &base)? == "blue",
            "traffic did not return to blue"
        );
    }
    stack.set_llm_delay(0.0)?;

    step("switch.sh refuses a color that is not up");
    stack.server("green")?.stop(Duration::from_secs(60))?;
    haproxy.wait_state("green", false)?;
    let refused = match switch(root, &haproxy, &dir, &["--timeout", "3", "to", "green"]) {
        Ok(out) => bail!("switch.sh moved traffic to a stopped green:\n{out}"),
        Err(_) => std::fs::read_to_string(dir.join("switch.log"))?,
    };
    let reason = refused
        .lines()
        .find(|l| l.starts_with("switch: error:"))
        .context("switch.sh failed without saying why")?
        .trim_start_matches("switch: error:")
        .trim()
        .to_owned();
    ensure!(
        serving(&stack, &base)? == "blue",
        "traffic left blue after a refused switch"
    );

    let report = render(&phases, &reason, started.elapsed());
    let path = root.join("docs/drills/blue-green.md");
    std::fs::create_dir_all(path.parent().context("no parent")?)?;
    std::fs::write(&path, &report)?;
    eprintln!("{report}");

    // The verdict, after the report is written so a failure can be read there too.
    let mut problems = Vec::new();
    if let Some(first) = phases.first()
        && first.ab.p95 >= P95_LIMIT_MS
    {
        problems.push(format!(
            "p95 {} ms ≥ {P95_LIMIT_MS} ms on {}",
            first.ab.p95, first.name
        ));
    }
    for phase in &phases {
        if phase.ab.failed > 0 || phase.ab.non_2xx > 0 || phase.ab.complete == 0 {
            problems.push(format!(
                "{}: {} complete, {} failed, {} non-2xx",
                phase.name, phase.ab.complete, phase.ab.failed, phase.ab.non_2xx
            ));
        }
        if let Some(posts) = &phase.posts {
            if posts.sent == 0 {
                problems.push(format!("{}: no POST was sent", phase.name));
            }
            if phase.name.contains("SIGTERM") && posts.failed() > 0 {
                problems.push(format!(
                    "{}: {} POSTs failed after a graceful stop: {:?}",
                    phase.name,
                    posts.failed(),
                    posts.failures
                ));
            }
        }
    }
    stack.stop()?;
    ensure!(
        problems.is_empty(),
        "blue-green drill failed: {}",
        problems.join("; ")
    );
    eprintln!(
        "xtask: blue-green drill passed in {:.0} s; report in docs/drills/blue-green.md",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The verification line switch.sh printed ("green served N requests, 0 5xx, …").
fn verified(out: &str) -> String {
    out.lines()
        .find(|l| l.contains(" served "))
        .map(|l| {
            format!(
                "switch.sh verified: {}",
                l.trim_start_matches("switch:").trim()
            )
        })
        .unwrap_or_default()
}

fn render(phases: &[Phase], refused: &str, took: Duration) -> String {
    let mut md = String::new();
    md.push_str(
        "# Blue-green drill\n\n\
         Written by `cargo xtask drill blue-green` (CI runs it on every change). Blue and green are the \
         release binary serving the demo corpus with production defaults; HAProxy runs \
         `ops/haproxy/haproxy.cfg`; every swap and rollback is `ops/haproxy/switch.sh`; the client \
         is `ab -l -r` on `GET /search?q=who+backed+the+minister` through HAProxy. All on \
         127.0.0.1 (2 cores shared by client, proxy and both services).\n\n",
    );
    md.push_str("| phase | requests | failed | non-2xx | p50 ms | p95 ms | p99 ms | max ms | req/s | HAProxy retries / redispatches |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for p in phases {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} / {} |\n",
            p.name,
            p.ab.complete,
            p.ab.failed,
            p.ab.non_2xx,
            p.ab.p50,
            p.ab.p95,
            p.ab.p99,
            p.ab.longest,
            p.ab.rps,
            p.retries,
            p.redispatches
        ));
    }
    md.push_str("\n## Notes per phase\n\n");
    for p in phases
        .iter()
        .filter(|p| !p.note.is_empty() || p.posts.is_some())
    {
        md.push_str(&format!("- **{}**: {}", p.name, p.note));
        if let Some(posts) = &p.posts {
            md.push_str(&format!(
                ". Alongside, {ASKERS} askers sent {} `POST /api/qa/ask` (model {ASK_MODEL_SECONDS} s per answer): {} answered ({}), {} failed{}",
                posts.sent,
                posts.ok,
                posts
                    .by_color
                    .iter()
                    .map(|(c, n)| format!("{n} by {c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                posts.failed(),
                if posts.failures.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        posts
                            .failures
                            .iter()
                            .map(|(k, n)| format!("{n} × {k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
            if p.name.contains("SIGKILL") && posts.failed() > 0 {
                md.push_str(
                    ". These POSTs were in flight on the killed process, which died before \
                     answering. HAProxy replays a request that reached a server only if it is a GET \
                     or HEAD (`http-request disable-l7-retry unless METH_GET`): a question may \
                     already have been answered and recorded in the history, so replaying it is the \
                     client's decision. For such a request HAProxy answers 502, or, when the request \
                     went out on a reused server connection, closes the client's connection \
                     without an answer (as a server closing a keep-alive connection would, so the \
                     client may retry). GETs in flight were replayed on green, hence 0 failed above",
                );
            }
        }
        md.push_str(".\n");
    }
    md.push_str(&format!(
        "\nLast, with green stopped, `switch.sh --timeout 3 to green` was refused (\"{refused}\") \
         and traffic stayed on blue.\n"
    ));
    md.push_str(&format!(
        "\nThe drill took {:.0} s. What makes each step safe is in `docs/operations.md` (\"Blue-green\").\n",
        took.as_secs_f64()
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ab_output_is_read_including_the_optional_non_2xx_line() {
        let out = "Complete requests:      1000\nFailed requests:        2\n   (Connect: 0, Receive: 0, Length: 2, Exceptions: 0)\nNon-2xx responses:      3\nRequests per second:    130.14 [#/sec] (mean)\n  50%    151\n  66%    160\n  95%    367\n  99%    401\n 100%    512 (longest request)\n";
        let ab = parse_ab(out).expect("parse");
        assert_eq!((ab.complete, ab.failed, ab.non_2xx), (1000, 2, 3));
        assert_eq!((ab.p50, ab.p95, ab.p99, ab.longest), (151, 367, 401, 512));
        let clean = out.replace("Non-2xx responses:      3\n", "");
        assert_eq!(parse_ab(&clean).expect("parse").non_2xx, 0);
        assert!(parse_ab("apr_socket_connect(): Connection refused (111)").is_err());
    }
}
