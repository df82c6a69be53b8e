//! What tracing costs: `/search` throughput with OpenTelemetry disabled (`OTEL_SDK_DISABLED`),
//! enabled without export (the default), and exporting every span over OTLP/HTTP to a sink on
//! 127.0.0.1 — in one run, rounds interleaved so drift in the machine's load hits every
//! variant alike.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

/// One way of running the server.
#[derive(Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    otel_disabled: bool,
    export: bool,
}

pub const VARIANTS: [Variant; 3] = [
    Variant {
        name: "OpenTelemetry disabled (`OTEL_SDK_DISABLED=true`)",
        otel_disabled: true,
        export: false,
    },
    Variant {
        name: "tracing on, export off (default)",
        otel_disabled: false,
        export: false,
    },
    Variant {
        name: "tracing on, OTLP/HTTP export on",
        otel_disabled: false,
        export: true,
    },
];

/// Throughput of each variant over every round.
pub struct TracingCost {
    pub concurrency: usize,
    pub requests: usize,
    pub rounds: usize,
    /// Per variant: req/s of each round, and p95 ms of each round.
    pub per_variant: Vec<(Variant, Vec<f64>, Vec<f64>)>,
    pub export_requests: u64,
    pub export_bytes: u64,
    pub failures: usize,
}

impl TracingCost {
    pub fn mean_rps(&self, i: usize) -> f64 {
        let r = &self.per_variant[i].1;
        r.iter().sum::<f64>() / r.len().max(1) as f64
    }
}

/// An OTLP/HTTP sink: answers every POST with 200 and counts requests and bytes. Bounded:
/// it serves until the process ends (the bench is short) on its own thread.
fn start_sink() -> anyhow::Result<(u16, Arc<AtomicU64>, Arc<AtomicU64>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let requests = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let (r, b) = (requests.clone(), bytes.clone());
    std::thread::Builder::new()
        .name("otlp-sink".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, b) = (r.clone(), b.clone());
                std::thread::spawn(move || serve_connection(stream, &r, &b));
            }
        })?;
    Ok((port, requests, bytes))
}

/// HTTP/1.1 keep-alive: read a request (headers, then `content-length` bytes), answer 200.
fn serve_connection(mut stream: TcpStream, requests: &AtomicU64, bytes: &AtomicU64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + 4 + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + 4 + length);
        requests.fetch_add(1, Ordering::Relaxed);
        bytes.fetch_add(length as u64, Ordering::Relaxed);
        let reply =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if stream.write_all(reply).is_err() {
            return;
        }
    }
}

/// Serve `data_dir` (hashing embedder) once per variant per round and load it.
pub fn measure(
    bin: &Path,
    data_dir: &Path,
    work: &Path,
    concurrency: usize,
    requests: usize,
    rounds: usize,
) -> anyhow::Result<TracingCost> {
    let (sink_port, export_requests, export_bytes) = start_sink()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut per_variant: Vec<(Variant, Vec<f64>, Vec<f64>)> = VARIANTS
        .iter()
        .map(|v| (*v, Vec::new(), Vec::new()))
        .collect();
    let mut failures = 0;
    for round in 0..rounds {
        for (i, variant) in VARIANTS.iter().enumerate() {
            let mut cmd = sociograph(bin, work);
            cmd.arg("serve")
                .arg("--data-dir")
                .arg(data_dir)
                .args(["--embedder", "hashing"])
                .env_remove("OTEL_SDK_DISABLED")
                .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
                .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
            if variant.otel_disabled {
                cmd.env("OTEL_SDK_DISABLED", "true");
            }
            if variant.export {
                cmd.env(
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("http://127.0.0.1:{sink_port}"),
                );
            }
            let log = work.join(format!("serve-tracing-{i}-{round}.log"));
            let mut server = Served::start(&mut cmd, &log, "sociograph serve (tracing cost)")?;
            let base = server.base.clone();
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(128)
                .build()?;
            server.wait_ready(&runtime, &client, Duration::from_secs(120))?;
            // Warm-up, untimed.
            let _ = runtime.block_on(load(&client, &base, "hybrid", concurrency, requests / 5));
            let level = runtime.block_on(load(&client, &base, "hybrid", concurrency, requests));
            eprintln!(
                "xtask: bench: {} (round {}): {}",
                variant.name,
                round + 1,
                level.summary()
            );
            failures += level.failures();
            per_variant[i].1.push(level.rps());
            per_variant[i].2.push(level.percentile(95.0));
            drop(client);
            server.stop(Duration::from_secs(30))?;
        }
    }
    Ok(TracingCost {
        concurrency,
        requests,
        rounds,
        per_variant,
        export_requests: export_requests.load(Ordering::Relaxed),
        export_bytes: export_bytes.load(Ordering::Relaxed),
        failures,
    })
}

/// The report's section.
pub fn render(md: &mut String, t: &TracingCost) -> anyhow::Result<()> {
    writeln!(md, "## Cost of tracing")?;
    writeln!(md)?;
    writeln!(
        md,
        "`GET /search` (hybrid, k=10) on the hashing data dir at concurrency {}, {} timed requests \
         per run after an untimed warm-up, {} rounds with the three variants interleaved; each \
         run is a fresh `serve` process. Export goes over OTLP/HTTP (protobuf, batch processor) to \
         a sink on 127.0.0.1 that answers 200 ({} export requests, {:.1} MB received). Targets: \
         ≤ 5 % cost with export off, ≤ 15 % with export on, relative to OpenTelemetry disabled.",
        t.concurrency,
        t.requests,
        t.rounds,
        t.export_requests,
        t.export_bytes as f64 / 1e6
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "| Variant | Req/s per round | Mean req/s | p95 per round (ms) | Throughput vs disabled |"
    )?;
    writeln!(md, "|---|---|---:|---|---:|")?;
    let baseline = t.mean_rps(0);
    for (i, (variant, rps, p95)) in t.per_variant.iter().enumerate() {
        let mean = t.mean_rps(i);
        let join = |v: &[f64], digits: usize| {
            v.iter()
                .map(|x| format!("{x:.digits$}"))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let ratio = if baseline > 0.0 {
            format!("{:+.1} %", (mean / baseline - 1.0) * 100.0)
        } else {
            "—".into()
        };
        writeln!(
            md,
            "| {} | {} | {:.1} | {} | {} |",
            variant.name,
            join(rps, 1),
            mean,
            join(p95, 1),
            if i == 0 { "baseline".into() } else { ratio }
        )?;
    }
    writeln!(md)?;
    // How far apart rounds of one variant land: differences between variants smaller than
    // this are this machine's noise, not a cost.
    let noise = t
        .per_variant
        .iter()
        .map(|(_, rps, _)| {
            let (lo, hi) = rps
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
            let mean = rps.iter().sum::<f64>() / rps.len().max(1) as f64;
            if mean > 0.0 && rps.len() > 1 {
                (hi - lo) / mean * 100.0
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max);
    if t.rounds > 1 {
        writeln!(
            md,
            "Rounds of the same variant differ by up to {noise:.1} % in throughput on this machine \
             (the load generator shares its two CPUs with the server), so differences between \
             variants smaller than that are noise rather than a cost of tracing."
        )?;
        writeln!(md)?;
    }
    Ok(())
}
