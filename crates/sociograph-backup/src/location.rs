//! Where backups live: `s3://bucket[/prefix]` or `file:///absolute/path`.
//!
//! S3 settings come from the standard AWS environment: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), and in
//! ECS or EKS the task or pod role. `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` points at an
//! S3-compatible server (path-style addressing, plain HTTP allowed for `http://`).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

use crate::time::{is_date, is_stamp};
use crate::{Error, Result};

/// A backup target: a store and the prefix under it.
#[derive(Clone)]
pub struct Location {
    pub(crate) store: Arc<dyn ObjectStore>,
    /// For S3 targets: what bucket-level calls (the lifecycle rule) need.
    pub(crate) s3: Option<S3Target>,
    /// For `file://` targets: the directory (object deletes leave empty directories behind).
    pub(crate) local_root: Option<std::path::PathBuf>,
    pub(crate) prefix: String,
    /// The URL without a trailing slash, for messages.
    pub url: String,
}

#[derive(Clone)]
pub(crate) struct S3Target {
    pub(crate) client: Arc<AmazonS3>,
    pub(crate) bucket: String,
    pub(crate) region: String,
    /// `AWS_ENDPOINT_URL…` when set (path-style), else AWS's regional endpoint.
    pub(crate) endpoint: String,
}

/// Which backup a restore means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The `backups/latest` pointer.
    Latest,
    /// The newest complete backup of that day (`YYYY-MM-DD`).
    Day(String),
    /// One backup: `YYYY-MM-DD/YYYYMMDDTHHMMSSZ`.
    Exact(String, String),
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

impl Location {
    /// A target URL, as given to `backup --to`.
    pub fn parse(url: &str) -> Result<Location> {
        let url = url.trim_end_matches('/').to_owned();
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(Error::Invalid(format!(
                    "{url}: a file:// URL needs an absolute path (file:///var/backups/sociograph)"
                )));
            }
            std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
            let store = LocalFileSystem::new_with_prefix(path)?;
            return Ok(Location {
                store: Arc::new(store),
                s3: None,
                local_root: Some(std::path::PathBuf::from(path)),
                prefix: String::new(),
                url,
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::Invalid(format!("{url}: no bucket name")));
            }
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            if let Some(region) = env(&["AWS_REGION", "AWS_DEFAULT_REGION"]) {
                builder = builder.with_region(region);
            }
            let endpoint = env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]);
            if let Some(endpoint) = &endpoint {
                builder = builder
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_endpoint(endpoint.clone());
            }
            let region = builder
                .get_config_value(&AmazonS3ConfigKey::Region)
                .unwrap_or_else(|| "us-east-1".to_owned());
            let client = Arc::new(
                builder
                    .build()
                    .map_err(|e| Error::Invalid(format!("{url}: {e}")))?,
            );
            let endpoint = endpoint
                .map(|e| e.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
            return Ok(Location {
                store: client.clone(),
                s3: Some(S3Target {
                    client,
                    bucket: bucket.to_owned(),
                    region,
                    endpoint,
                }),
                local_root: None,
                prefix: prefix.trim_matches('/').to_owned(),
                url,
            });
        }
        Err(Error::Invalid(format!(
            "{url}: use s3://bucket/prefix or file:///absolute/path"
        )))
    }

    /// A restore source: a target URL optionally ending in `/latest`, `/YYYY-MM-DD` or
    /// `/YYYY-MM-DD/YYYYMMDDTHHMMSSZ` (with or without `backups/` before it).
    pub fn parse_source(url: &str) -> Result<(Location, Selector)> {
        let trimmed = url.trim_end_matches('/');
        let (head, last) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
        let (base, selector) = if is_stamp(last) {
            match head.rsplit_once('/') {
                Some((base, day)) if is_date(day) => {
                    (base, Selector::Exact(day.to_owned(), last.to_owned()))
                }
                _ => {
                    return Err(Error::Invalid(format!(
                        "{url}: a backup time must follow its day (…/YYYY-MM-DD/{last})"
                    )));
                }
            }
        } else if is_date(last) {
            (head, Selector::Day(last.to_owned()))
        } else if last == "latest" {
            (head, Selector::Latest)
        } else {
            (trimmed, Selector::Latest)
        };
        let base = base.strip_suffix("/backups").unwrap_or(base);
        Ok((Location::parse(base)?, selector))
    }

    /// The object path of `key` (relative to the prefix).
    pub(crate) fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// `url/key`, for messages.
    pub fn display(&self, key: &str) -> String {
        format!("{}/{key}", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_the_latest_a_day_or_one_backup() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", e))?;
        let root = format!("file://{}", dir.path().display());
        for (url, want) in [
            (root.clone(), Selector::Latest),
            (format!("{root}/latest"), Selector::Latest),
            (format!("{root}/backups/latest"), Selector::Latest),
            (
                format!("{root}/2026-12-04"),
                Selector::Day("2026-12-04".into()),
            ),
            (
                format!("{root}/backups/2026-12-04/20261204T120509Z/"),
                Selector::Exact("2026-12-04".into(), "20261204T120509Z".into()),
            ),
        ] {
            let (location, selector) = Location::parse_source(&url)?;
            assert_eq!(selector, want, "{url}");
            assert_eq!(location.url, root, "{url}");
        }
        assert!(Location::parse_source(&format!("{root}/20261204T120509Z")).is_err());
        assert!(Location::parse("ftp://x").is_err());
        assert!(Location::parse("file://relative/path").is_err());
        assert!(Location::parse("s3://").is_err());
        Ok(())
    }
}
