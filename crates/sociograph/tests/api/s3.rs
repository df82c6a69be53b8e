//! A real S3-compatible server for tests: moto on 127.0.0.1 (installed by
//! `scripts/setup-python.sh`), and a bucket read through the plain S3 REST API.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::{ChildGuard, free_port};
use crate::helpers::{DEADLINE, repo_root};

/// moto's S3 server on a free 127.0.0.1 port.
pub struct Moto {
    _process: ChildGuard,
    pub endpoint: String,
}

pub fn moto() -> Moto {
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

/// A bucket on moto, read and listed through the S3 REST API (moto accepts unsigned requests).
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
}

impl S3 {
    pub async fn new(moto: &Moto, bucket: &str) -> S3 {
        // Readable without signing, so the test can look at what was written.
        let created = reqwest::Client::new()
            .put(format!("{}/{bucket}", moto.endpoint))
            .header("x-amz-acl", "public-read")
            .send()
            .await
            .expect("create bucket");
        assert!(created.status().is_success(), "{}", created.status());
        S3 {
            endpoint: moto.endpoint.clone(),
            bucket: bucket.to_owned(),
        }
    }

    pub fn env_for(endpoint: &str) -> Vec<(&'static str, &str)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", endpoint),
        ]
    }

    pub fn env(&self) -> Vec<(&'static str, &str)> {
        S3::env_for(&self.endpoint)
    }

    pub async fn get(&self, key: &str) -> String {
        let r = reqwest::get(format!("{}/{}/{key}", self.endpoint, self.bucket))
            .await
            .expect("get");
        assert!(r.status().is_success(), "GET {key}: {}", r.status());
        r.text().await.expect("text")
    }

    /// Keys under `prefix` (ListObjectsV2).
    pub async fn list(&self, prefix: &str) -> Vec<String> {
        let xml = reqwest::Client::new()
            .get(format!("{}/{}", self.endpoint, self.bucket))
            .query(&[("list-type", "2"), ("prefix", prefix)])
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("text");
        xml.split("<Key>")
            .skip(1)
            .filter_map(|k| k.split_once("</Key>").map(|(k, _)| k.to_owned()))
            .collect()
    }
}
