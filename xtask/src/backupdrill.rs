//! `cargo xtask drill backup`: Phase 9 validation step 5 — a daily backup lands in S3 under
//! today's dated prefix, kept 30 days by a lifecycle rule, and it restores.
//!
//! Real: the release binary serving the demo corpus and answering questions throughout, its
//! `backup`, `backup lifecycle`, `backup verify` and `restore` commands, and an S3-compatible
//! server on 127.0.0.1 (moto, from the project's virtualenv) spoken to through the S3 API. While
//! the backup runs, documents are being uploaded to the server and questions asked; none may
//! fail. The report, with today's listing, goes to `docs/drills/backup.md`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::proc::Moto;
use crate::stack::{AskLoad, Shutdown, Stack};

const BUCKET: &str = "sociograph-drill";
const TARGET: &str = "s3://sociograph-drill/prod";

fn step(what: &str) {
    eprintln!("xtask: backup drill: == {what}");
}

/// Run a `sociograph` subcommand of the stack with the S3 environment; its stdout.
fn sociograph(stack: &Stack, env: &[(&str, String)], args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = stack.command();
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    eprintln!("xtask: $ sociograph {}", args.join(" "));
    let out = cmd.output().context("cannot run sociograph")?;
    ensure!(
        out.status.success(),
        "sociograph {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    eprintln!("{text}");
    Ok(text)
}

pub fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut stack = Stack::start(root, "sociograph-backup-drill-", &["blue"], Shutdown::Quick)?;

    step("moto's S3 server on 127.0.0.1");
    let moto = Moto::start(root, BUCKET)?;
    let endpoint = moto.endpoint.clone();
    let env = moto.env();
    let http = client()?;

    step("back up while questions are asked and documents uploaded");
    let base = stack.servers[0].1.base.clone();
    let asks = AskLoad::start(base.clone(), 4);
    let uploads: Vec<_> = std::fs::read_dir(root.join("testdata/good"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    let uploading = {
        let base = base.clone();
        std::thread::spawn(move || upload_all(&base, &uploads))
    };
    std::thread::sleep(Duration::from_millis(300));
    let data = stack.data_dir(0);
    let backed_up = sociograph(
        &stack,
        &env,
        &[
            "backup",
            "--data-dir",
            &data.to_string_lossy(),
            "--to",
            TARGET,
        ],
    );
    let uploaded = uploading
        .join()
        .map_err(|_| anyhow::anyhow!("the upload thread panicked"))?;
    let tally = asks.stop();
    let backed_up = backed_up?;
    let uploaded = uploaded?;
    ensure!(
        tally.failed() == 0,
        "{} of {} questions failed during the backup: {:?}",
        tally.failed(),
        tally.sent,
        tally.failures
    );

    step("the 30-day lifecycle rule");
    let lifecycle = sociograph(&stack, &env, &["backup", "lifecycle", TARGET])?;
    ensure!(
        lifecycle.contains("expire after 30 days"),
        "unexpected lifecycle output: {lifecycle}"
    );

    step("validation step 5: list today's dated prefix");
    let today = sociograph_date()?;
    let prefix = format!("prod/backups/{today}/");
    let listing = stack.runtime.block_on(async {
        http.get(format!("{endpoint}/{BUCKET}"))
            .query(&[("list-type", "2"), ("prefix", prefix.as_str())])
            .send()
            .await?
            .text()
            .await
    })?;
    let objects = list_objects(&listing);
    ensure!(
        objects.iter().any(|(k, _)| k.ends_with("/manifest.json"))
            && objects.iter().any(|(k, _)| k.ends_with("/graph.db.gz")),
        "today's prefix lacks the manifest or graph.db: {listing}"
    );

    step("verify, then restore into an empty directory");
    let verified = sociograph(&stack, &env, &["backup", "verify", TARGET])?;
    let restored_dir = stack.dir().join("restored");
    let restored = sociograph(
        &stack,
        &env,
        &[
            "restore",
            "--data-dir",
            &restored_dir.to_string_lossy(),
            "--from",
            &format!("{TARGET}/{today}"),
        ],
    )?;
    stack.stop()?;

    let report = render(&Report {
        backed_up: &backed_up,
        lifecycle: &lifecycle,
        prefix: &prefix,
        objects: &objects,
        verified: &verified,
        restored: &restored,
        questions: tally.sent,
        uploaded,
        took: started.elapsed(),
    });
    let path = root.join("docs/drills/backup.md");
    std::fs::write(&path, &report)?;
    eprintln!("{report}");
    eprintln!(
        "xtask: backup drill passed in {:.0} s; report in docs/drills/backup.md",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Upload every file to the server, one request each; how many were accepted.
fn upload_all(base: &str, files: &[std::path::PathBuf]) -> anyhow::Result<usize> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = client()?;
    runtime.block_on(async {
        let mut accepted = 0;
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let part = reqwest::multipart::Part::bytes(std::fs::read(file)?).file_name(name);
            let response = client
                .post(format!("{base}/api/documents"))
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send()
                .await?;
            if !response.status().is_success() {
                bail!(
                    "upload of {} answered {}",
                    file.display(),
                    response.status()
                );
            }
            accepted += 1;
        }
        Ok(accepted)
    })
}

/// A client with no connection pool: the stack's runtime idles between calls, so a pooled
/// connection closed meanwhile would still look reusable.
fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Today's date as the backup keys spell it (UTC).
fn sociograph_date() -> anyhow::Result<String> {
    let out = Command::new("date").args(["-u", "+%F"]).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// (key, size) of each `<Contents>` in a ListObjectsV2 answer.
fn list_objects(xml: &str) -> Vec<(String, u64)> {
    xml.split("<Contents>")
        .skip(1)
        .filter_map(|c| {
            let field = |name: &str| {
                let open = format!("<{name}>");
                let start = c.find(&open)? + open.len();
                let end = c[start..].find(&format!("</{name}>"))? + start;
                Some(c[start..end].to_owned())
            };
            Some((field("Key")?, field("Size")?.parse().ok()?))
        })
        .collect()
}

struct Report<'a> {
    backed_up: &'a str,
    lifecycle: &'a str,
    prefix: &'a str,
    objects: &'a [(String, u64)],
    verified: &'a str,
    restored: &'a str,
    questions: usize,
    uploaded: usize,
    took: Duration,
}

fn render(r: &Report<'_>) -> String {
    let mut md = String::from(
        "# Backup drill\n\n\
         Written by `cargo xtask drill backup` (CI runs it on every change): Phase 9 validation \
         step 5 against moto's S3 server on 127.0.0.1, with the release binary serving the demo \
         corpus. See `docs/operations.md`, \"Backups and restore\".\n\n",
    );
    md.push_str(&format!(
        "While the backup ran, {} files were uploaded to the server and {} questions asked \
         (`POST /api/qa/ask`), none failed.\n\n",
        r.uploaded, r.questions
    ));
    let block = |title: &str, out: &str| format!("`{title}`\n\n```\n{out}\n```\n\n");
    md.push_str(&block(
        "sociograph backup --to s3://sociograph-drill/prod",
        r.backed_up,
    ));
    md.push_str(&block(
        "sociograph backup lifecycle s3://sociograph-drill/prod",
        r.lifecycle,
    ));
    md.push_str(&format!(
        "Today's dated prefix, listed through the S3 API (`ListObjectsV2`, prefix `{}`):\n\n\
         | key | bytes |\n|---|---:|\n",
        r.prefix
    ));
    for (key, size) in r.objects {
        md.push_str(&format!("| `{key}` | {size} |\n"));
    }
    md.push('\n');
    md.push_str(&block(
        "sociograph backup verify s3://sociograph-drill/prod",
        r.verified,
    ));
    md.push_str(&block(
        "sociograph restore --from s3://sociograph-drill/prod/<today>",
        r.restored,
    ));
    md.push_str(&format!(
        "moto stores the lifecycle rule but never expires objects, so the 30 days are checked \
         as configuration read back from the S3 API, not by waiting. The drill took {:.0} s.\n",
        r.took.as_secs_f64()
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_objects_reads_keys_and_sizes() {
        let xml = "<ListBucketResult><Contents><Key>prod/backups/2026-12-04/x/graph.db.gz</Key><Size>1234</Size></Contents><Contents><Key>prod/backups/2026-12-04/x/manifest.json</Key><Size>99</Size></Contents></ListBucketResult>";
        assert_eq!(
            list_objects(xml),
            vec![
                ("prod/backups/2026-12-04/x/graph.db.gz".to_owned(), 1234),
                ("prod/backups/2026-12-04/x/manifest.json".to_owned(), 99)
            ]
        );
        assert!(list_objects("<ListBucketResult/>").is_empty());
    }
}
