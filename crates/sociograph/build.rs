//! Records the git revision the binary was built from (`sociograph_build_info{revision}`);
//! `SOCIOGRAPH_REVISION` in the environment wins (CI, Docker builds without `.git`).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SOCIOGRAPH_REVISION");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs");
    let revision = std::env::var("SOCIOGRAPH_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SOCIOGRAPH_REVISION={revision}");
}
