//! The in-process MiniLM (candle) must agree with an independent NumPy forward pass over the
//! same weights (`tools/minilm_reference.py`, its own safetensors reader, tokenizer and BERT):
//! cosine >= 0.999 on every fixed sentence in `testdata/minilm/sentences.txt`.
//!
//! Needs the model (`scripts/fetch-model.sh`) and the Python venv (`scripts/setup-python.sh`);
//! `scripts/setup-test.sh` installs both. Missing either is a failure, not a skip.
#![cfg(feature = "local")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * y).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn local_minilm_matches_the_numpy_reference() {
    let root = root();
    let model_dir = root.join("models/all-MiniLM-L6-v2");
    let python = root.join(".venv/bin/python");
    assert!(
        model_dir.join("model.safetensors").is_file(),
        "model missing: run scripts/setup-test.sh (or scripts/fetch-model.sh)"
    );
    assert!(
        python.is_file(),
        "python venv missing: run scripts/setup-test.sh"
    );
    let sentences_file = root.join("testdata/minilm/sentences.txt");
    let text = std::fs::read_to_string(&sentences_file).expect("sentences");
    let sentences: Vec<&str> = text.lines().collect();
    assert!(sentences.len() >= 10);

    let output = Command::new(&python)
        .arg(root.join("tools/minilm_reference.py"))
        .arg("--model-dir")
        .arg(&model_dir)
        .arg("--input")
        .arg(&sentences_file)
        .output()
        .expect("run the reference");
    assert!(
        output.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("reference JSON");
    let expected: Vec<Vec<f64>> =
        serde_json::from_value(reference["embeddings"].clone()).expect("embeddings");
    assert_eq!(expected.len(), sentences.len());

    let embedder = sociograph_llm::local_embedder(&model_dir).expect("load local model");
    assert_eq!(embedder.dimensions(), 384);
    let actual = embedder.embed(&sentences).expect("embed");

    let mut worst = 1.0f64;
    let mut max_abs = 0.0f64;
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(a.len(), e.len());
        let c = cosine(a, e);
        let diff = a
            .iter()
            .zip(e)
            .map(|(x, y)| (f64::from(*x) - y).abs())
            .fold(0.0, f64::max);
        eprintln!("sentence {i}: cosine {c:.7}, max |diff| {diff:.2e}");
        worst = worst.min(c);
        max_abs = max_abs.max(diff);
        assert!(
            c >= 0.999,
            "sentence {i} ({:?}…): cosine {c}",
            &sentences[i].chars().take(40).collect::<String>()
        );
    }
    eprintln!(
        "worst cosine {worst:.7}, max |diff| {max_abs:.2e} over {} sentences",
        actual.len()
    );
    // Tighter than the cosine bound: a different GELU (tanh vs erf) moves values by ~3e-4
    // while cosine stays above 0.9999.
    assert!(max_abs < 1e-4, "largest per-value difference {max_abs:e}");

    // The model means something: paraphrases are closer than unrelated sentences.
    let v = embedder
        .embed(&[
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The stock market fell sharply.",
        ])
        .expect("embed");
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!(cos(&v[0], &v[1]) > 0.7 && cos(&v[0], &v[2]) < 0.3);
}
