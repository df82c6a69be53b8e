//! Benchmarks (written in a later step).
use std::path::Path;

pub fn run(_root: &Path, _args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("bench is not implemented yet")
}
