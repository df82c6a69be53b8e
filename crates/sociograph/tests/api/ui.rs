//! The web UI's server side: `/app` from the files embedded at build time, and the settings
//! the UI reads.

use serde_json::Value;

use crate::helpers::spawn_app;

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn app_serves_the_built_ui_or_says_how_to_build_it() {
    let app = spawn_app().await;
    let built = crate::helpers::repo_root()
        .join("web/dist/index.html")
        .is_file();
    let index = app.get("/app/").await;
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    if !built {
        assert_eq!(index.status(), 404);
        let page = index.text().await.expect("body");
        assert!(page.contains("npm --prefix web run build"), "{page}");
        app.shutdown().await;
        return;
    }
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, "cache-control"), "no-cache");
    assert!(header(&index, "content-security-policy").contains("script-src 'self'"));
    let etag = header(&index, "etag");
    let page = index.text().await.expect("body");
    // Client routes get the same page; the assets it names are served, cached for good.
    for route in ["/app", "/app/graph", "/app/documents"] {
        let r = app.get(route).await;
        assert_eq!(r.status(), 200, "{route}");
        assert_eq!(r.text().await.expect("body"), page, "{route}");
    }
    let script = page
        .split('"')
        .find(|s| s.starts_with("/app/assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no script in {page}"));
    let js = app.get(script).await;
    assert_eq!(js.status(), 200);
    assert_eq!(
        header(&js, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(header(&js, "cache-control").contains("immutable"));
    let missing = app.get("/app/assets/missing-0000.js").await;
    assert_eq!(missing.status(), 404);
    // Revalidation.
    let again = reqwest::Client::new()
        .get(app.url("/app/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);
    app.shutdown().await;
}

#[tokio::test]
async fn settings_describe_the_defaults_and_capabilities() {
    let app = spawn_app().await;
    let settings: Value = app.get("/api/settings").await.json().await.expect("json");
    assert_eq!(settings["generator"], "extractive", "{settings}");
    assert_eq!(settings["model"], Value::Null);
    assert_eq!(settings["translation"], false);
    assert_eq!(settings["default_mode"], "hybrid");
    assert_eq!(settings["top_k"]["default"], 6);
    assert_eq!(settings["top_k"]["max"], 100);
    assert_eq!(settings["api_key_required"], false);
    let modes: Vec<&str> = settings["modes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(modes, vec!["hybrid", "naive", "keyword", "local"]);
    app.shutdown().await;
}
