//! Embeds the built web UI (`web/dist`, from `npm --prefix web run build`) into the binary, so
//! a release binary serves `/app` with no Node and no files beside it. `SOCIOGRAPH_UI_DIST`
//! points at another build folder. With no build, the table is empty and `/app` explains how
//! to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=SOCIOGRAPH_UI_DIST");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let web = manifest.join("../../web");
    let dist = std::env::var("SOCIOGRAPH_UI_DIST")
        .ok()
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| web.join("dist"));
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files);
        files.sort();
    } else if web.is_dir() {
        // Watch the parent so that the first build of the UI is noticed (a missing path
        // would make cargo rerun this script on every build).
        println!("cargo:rerun-if-changed={}", web.display());
    }
    let mut out = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (relative, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_default();
        let _ = writeln!(
            out,
            "    Asset {{ path: {relative:?}, bytes: include_bytes!({:?}), etag: \"\\\"{:016x}\\\"\" }},",
            path.display(),
            fnv1a(&bytes)
        );
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("ui_assets.rs");
    if let Err(e) = std::fs::write(&target, out) {
        panic!("cannot write {}: {e}", target.display());
    }
}

/// Every file under `dir`, as (path relative to `root` with `/` separators, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let absolute = path.canonicalize().unwrap_or(path);
            files.push((relative, absolute));
        }
    }
}

/// A content hash for the ETag (FNV-1a, 64 bits): stable for the same bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
