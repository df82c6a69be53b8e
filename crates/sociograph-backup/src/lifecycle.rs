//! `sociograph backup lifecycle s3://bucket/prefix`: the bucket rule that expires backups.
//!
//! S3 replaces a bucket's whole lifecycle configuration on every write, so the current one is
//! read first, the rule with our ID replaced or added, every other rule kept, and the result
//! read back. Requests are signed with SigV4 by `object_store`'s own signer, with the target's
//! credentials (environment or task role).

use object_store::aws::AwsAuthorizer;
use sha2::{Digest, Sha256};

use crate::location::S3Target;
use crate::{Error, Location, Result};

/// What the bucket says after the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRule {
    pub id: String,
    /// The key prefix the rule applies to.
    pub prefix: String,
    pub expiration_days: u32,
    /// Every rule ID in the bucket's configuration, ours included.
    pub all_rule_ids: Vec<String>,
}

/// Expire `backups/` under the target's prefix after `days` days (and abort multipart uploads
/// left incomplete for 7 days).
pub async fn apply_lifecycle(target: &Location, days: u32) -> Result<LifecycleRule> {
    let Some(s3) = &target.s3 else {
        return Err(Error::Invalid(format!(
            "{}: lifecycle rules are for s3:// targets; use `backup --retention-days` for a directory",
            target.url
        )));
    };
    if days == 0 {
        return Err(Error::Invalid("--days must be at least 1".into()));
    }
    let prefix = if target.prefix.is_empty() {
        "backups/".to_owned()
    } else {
        format!("{}/backups/", target.prefix)
    };
    let id = format!(
        "sociograph-{}",
        prefix.trim_end_matches('/').replace('/', "-")
    );
    let current = request(s3, reqwest::Method::GET, None).await?;
    let kept: Vec<String> = match current {
        Some(xml) => rules(&xml)
            .into_iter()
            .filter(|rule| tag(rule, "ID").as_deref() != Some(id.as_str()))
            .collect(),
        None => Vec::new(),
    };
    let ours = format!(
        "<Rule><ID>{id}</ID><Filter><Prefix>{prefix}</Prefix></Filter><Status>Enabled</Status>\
         <Expiration><Days>{days}</Days></Expiration>\
         <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
    );
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{}{ours}</LifecycleConfiguration>",
        kept.concat()
    );
    request(s3, reqwest::Method::PUT, Some(body)).await?;
    read_back(target, &id).await?.ok_or_else(|| {
        Error::Refused(format!(
            "{}: the rule {id} is not in the bucket's lifecycle after writing it",
            target.url
        ))
    })
}

/// Our rule as the bucket reports it now, if present.
pub async fn read_back(target: &Location, id: &str) -> Result<Option<LifecycleRule>> {
    let Some(s3) = &target.s3 else {
        return Ok(None);
    };
    let Some(xml) = request(s3, reqwest::Method::GET, None).await? else {
        return Ok(None);
    };
    let all = rules(&xml);
    let all_rule_ids = all.iter().filter_map(|r| tag(r, "ID")).collect();
    Ok(all
        .iter()
        .find(|r| tag(r, "ID").as_deref() == Some(id))
        .map(|rule| LifecycleRule {
            id: id.to_owned(),
            prefix: tag(rule, "Prefix").unwrap_or_default(),
            expiration_days: tag(rule, "Days").and_then(|d| d.parse().ok()).unwrap_or(0),
            all_rule_ids,
        }))
}

/// `GET`/`PUT /{bucket}?lifecycle`, signed. `Ok(None)` when the bucket has no configuration.
async fn request(
    s3: &S3Target,
    method: reqwest::Method,
    body: Option<String>,
) -> Result<Option<String>> {
    let url = format!("{}/{}?lifecycle", s3.endpoint, s3.bucket);
    let body = body.unwrap_or_default();
    let mut http_request = http::Request::builder()
        .method(method.as_str())
        .uri(&url)
        .body(object_store::client::HttpRequestBody::from(body.clone()))
        .map_err(|e| Error::Invalid(format!("{url}: {e}")))?;
    if !body.is_empty() {
        use base64_md5::content_md5;
        let headers = http_request.headers_mut();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/xml"),
        );
        if let Ok(v) = http::HeaderValue::from_str(&content_md5(body.as_bytes())) {
            headers.insert("content-md5", v);
        }
    }
    let credential = s3.client.credentials().get_credential().await?;
    let digest = Sha256::digest(body.as_bytes());
    AwsAuthorizer::new(&credential, "s3", &s3.region).authorize(&mut http_request, Some(&digest));

    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
    let mut builder = client.request(method, &url).body(body);
    for (name, value) in http_request.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let response = builder
        .send()
        .await
        .map_err(|e| Error::Invalid(format!("{url}: {e}")))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.as_u16() == 404 && text.contains("NoSuchLifecycleConfiguration") {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(Error::Invalid(format!(
            "{url}: {status}: {}",
            tag(&text, "Message").unwrap_or(text.chars().take(300).collect())
        )));
    }
    Ok(Some(text))
}

/// The `<Rule>…</Rule>` elements of a lifecycle configuration, verbatim.
fn rules(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Rule>") {
        let Some(end) = rest[start..].find("</Rule>") else {
            break;
        };
        out.push(rest[start..start + end + "</Rule>".len()].to_owned());
        rest = &rest[start + end + "</Rule>".len()..];
    }
    out
}

/// The text of the first `<name>` element.
fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml[start..end].trim().to_owned())
}

mod base64_md5 {
    use md5::{Digest, Md5};

    /// `Content-MD5`: base64 of the MD5 digest, which S3 requires on lifecycle writes.
    pub(super) fn content_md5(body: &[u8]) -> String {
        const TABLE: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let digest = Md5::digest(body);
        let mut out = String::new();
        for chunk in digest.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn matches_the_rfc_1864_example_shape() {
            // md5("") = d41d8cd98f00b204e9800998ecf8427e → base64 1B2M2Y8AsgTpgAmY7PhCfg==
            assert_eq!(super::content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_rules_are_kept_and_ours_found() {
        let xml = "<LifecycleConfiguration><Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>7</Days></Expiration></Rule><Rule><ID>sociograph-backups</ID><Days>30</Days></Rule></LifecycleConfiguration>";
        let all = rules(xml);
        assert_eq!(all.len(), 2);
        assert_eq!(tag(&all[0], "ID").as_deref(), Some("logs"));
        assert_eq!(tag(&all[0], "Days").as_deref(), Some("7"));
        assert_eq!(tag(&all[1], "ID").as_deref(), Some("sociograph-backups"));
        assert!(tag(xml, "Missing").is_none());
    }
}
