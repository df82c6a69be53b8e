//! The web UI at `/app`: the files of `web/dist`, embedded at build time (see `build.rs`).
//!
//! Hashed files under `assets/` are cached for a year (their names change with their content);
//! everything else is revalidated with its ETag. A path that names no file and has no extension
//! is a client-side route (`/app/graph`) and gets `index.html`. When the binary was built
//! without the UI, `/app` says how to build it.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub struct Asset {
    /// Relative to `web/dist`, with `/` separators.
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// Quoted content hash.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>SocioGraph: web UI not built</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">\
<h1>The web UI is not in this build</h1>\
<p>This binary was built before the UI was. Build the UI, then the binary:</p>\
<pre>npm --prefix web ci\nnpm --prefix web run build\ncargo build --release -p sociograph</pre>\
<p><code>scripts/demo.sh</code> does all of this. The API is unaffected: see <a href=\"/docs\">/docs</a>.</p>\
</body></html>";

/// Scripts only from this origin; inline styles allowed (the graph view sets them).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

pub async fn serve(request: Request) -> Response {
    let path = request
        .uri()
        .path()
        .strip_prefix("/app")
        .unwrap_or_default()
        .trim_start_matches('/');
    respond(ASSETS, path, request.headers())
}

/// The response for `path` (relative to `/app/`) from `assets`.
fn respond(assets: &[Asset], path: &str, headers: &HeaderMap) -> Response {
    let Some(index) = assets.iter().find(|a| a.path == "index.html") else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    };
    let asset = match assets.iter().find(|a| a.path == path) {
        Some(asset) => asset,
        None if is_client_route(path) => index,
        None => {
            return (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "no such file in the web UI\n",
            )
                .into_response();
        }
    };
    let cache = if asset.path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(asset.path))],
            asset.bytes,
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.path.ends_with(".html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

/// `graph`, `documents/x` — a route of the single-page app, not a file.
fn is_client_route(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !last.contains('.')
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &[Asset] = &[
        Asset {
            path: "index.html",
            bytes: b"<!doctype html><title>app</title>",
            etag: "\"i1\"",
        },
        Asset {
            path: "assets/index-abc123.js",
            bytes: b"console.log(1)",
            etag: "\"j1\"",
        },
        Asset {
            path: "favicon.svg",
            bytes: b"<svg/>",
            etag: "\"s1\"",
        },
    ];

    fn get(assets: &[Asset], path: &str, etag: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(tag) = etag {
            headers.insert(
                header::IF_NONE_MATCH,
                HeaderValue::from_str(tag).unwrap_or(HeaderValue::from_static("")),
            );
        }
        respond(assets, path, &headers)
    }

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    #[test]
    fn files_have_their_types_and_cache_policies() {
        let js = get(FAKE, "assets/index-abc123.js", None);
        assert_eq!(js.status(), StatusCode::OK);
        assert_eq!(
            header_of(&js, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert!(header_of(&js, header::CACHE_CONTROL).contains("immutable"));
        let index = get(FAKE, "", None);
        assert_eq!(
            header_of(&index, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&index, header::CACHE_CONTROL), "no-cache");
        assert!(header_of(&index, header::CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
        assert_eq!(
            header_of(&get(FAKE, "favicon.svg", None), header::CONTENT_TYPE),
            "image/svg+xml"
        );
    }

    #[test]
    fn client_routes_fall_back_to_the_index_but_missing_files_do_not() {
        for route in ["graph", "documents/doc_1", "history/"] {
            let r = get(FAKE, route, None);
            assert_eq!(r.status(), StatusCode::OK, "{route}");
            assert_eq!(header_of(&r, header::ETAG), "\"i1\"", "{route}");
        }
        assert_eq!(
            get(FAKE, "assets/missing-1.js", None).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn a_matching_etag_is_not_modified() {
        let r = get(FAKE, "favicon.svg", Some("\"x\", \"s1\""));
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(
            get(FAKE, "favicon.svg", Some("\"x\"")).status(),
            StatusCode::OK
        );
    }

    #[test]
    fn without_a_build_the_app_says_how_to_build_it() {
        for path in ["", "graph", "assets/a.js"] {
            let r = get(&[], path, None);
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            assert_eq!(
                header_of(&r, header::CONTENT_TYPE),
                "text/html; charset=utf-8"
            );
        }
    }
}
