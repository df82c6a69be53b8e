//! `sociograph ask`: extractive answers on the demo corpus, streamed model answers, failures.

use std::sync::OnceLock;

use serde_json::Value;

use crate::cli::{run, text};
use crate::llm_server::{self, Reply};

/// The demo corpus ingested once (hashing embedder, offline extractor).
fn demo_template() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().to_string_lossy().into_owned();
        let out = run(
            &[
                "ingest",
                "--data-dir",
                &data,
                "--embedder",
                "hashing",
                "corpus/demo",
            ],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        dir
    })
    .path()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A private copy of the ingested demo corpus: `ask` locks its data directory (it writes the
/// history), so tests running side by side each need their own.
fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(demo_template(), dir.path());
    dir
}

/// Questions about the demo city, each with the words the answer must contain.
const DEMO_QUESTIONS: &[(&str, &str)] = &[
    ("Who chairs the Harbour Trust?", "Ingrid Valtersen"),
    ("Who leads the Dockworkers Union?", "Edward Marsh"),
    (
        "Who funded the demolition of the Saltmarket Fish Hall?",
        "Harbour Trust",
    ),
    (
        "Who chairs the Harbour Contracts Commission?",
        "Ruth Calloway",
    ),
    (
        "Which union endorsed Rosa Delgado?",
        "Construction Workers Union",
    ),
    (
        "Who is the procurement director of the Port Authority?",
        "Anders Holm",
    ),
    ("Who founded the Civic Renewal Party?", "Helena Brandt"),
];

fn ask_json(dir: &std::path::Path, question: &str) -> Value {
    let data = dir.to_string_lossy().into_owned();
    let out = run(
        &[
            "ask",
            "--data-dir",
            &data,
            "--embedder",
            "hashing",
            "--json",
            question,
        ],
        &[],
    );
    assert!(out.status.success(), "{question}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ask --json prints JSON")
}

#[test]
fn demo_questions_get_extractive_answers_whose_citations_hold_the_answer() {
    let dir = demo_dir();
    for (question, expected) in DEMO_QUESTIONS {
        let answer = ask_json(dir.path(), question);
        assert_eq!(answer["mode"], "extractive", "{question}");
        let text = answer["answer"].as_str().unwrap_or_default();
        assert!(text.contains(expected), "{question} → {text}");
        let citations = answer["citations"].as_array().cloned().unwrap_or_default();
        assert!(
            citations
                .iter()
                .any(|c| c["text"].as_str().is_some_and(|t| t.contains(expected))),
            "{question}: no cited source contains {expected:?}: {answer}"
        );
        for c in &citations {
            let n = c["n"].as_u64().unwrap_or(0);
            assert!(
                text.contains(&format!("[{n}]")),
                "{question}: [{n}] not cited in {text}"
            );
        }
    }
}

#[test]
fn ask_prints_the_answer_then_its_sources_and_says_it_is_extractive() {
    let dir = demo_dir();
    let data = dir.path().to_string_lossy().into_owned();
    let out = run(
        &[
            "ask",
            "--data-dir",
            &data,
            "--embedder",
            "hashing",
            "Who",
            "chairs",
            "the",
            "Harbour",
            "Trust?",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let answer_at = printed
        .find("Ingrid Valtersen chairs the Harbour Trust")
        .expect("answer");
    let sources_at = printed.find("\nSources:\n").expect("sources");
    assert!(answer_at < sources_at, "{printed}");
    assert!(printed.contains("valtersen-family-profile.md"), "{printed}");
    assert!(
        printed.contains("No language model is configured"),
        "{printed}"
    );
    assert!(printed.contains("(extractive;"), "{printed}");
}

#[test]
fn bad_ask_arguments_are_refused_with_a_reason() {
    let dir = demo_dir();
    let data = dir.path().to_string_lossy().into_owned();
    for (args, needle) in [
        (vec!["--top-k", "0", "q"], "between 1 and 100"),
        (vec!["--language", "not a tag", "q"], "language"),
        (vec!["   "], "empty"),
    ] {
        let mut all = vec!["ask", "--data-dir", &data, "--embedder", "hashing"];
        all.extend(args.iter().copied());
        let out = run(&all, &[]);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

/// `sociograph ask QUESTION` on a fresh demo copy, with `env` (the model's address among it),
/// run off the async threads so the in-process model server keeps answering.
async fn ask_with_env(question: &str, env: Vec<(&'static str, String)>) -> std::process::Output {
    let question = question.to_owned();
    tokio::task::spawn_blocking(move || {
        let dir = demo_dir();
        let data = dir.path().to_string_lossy().into_owned();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(
            &[
                "ask",
                "--data-dir",
                &data,
                "--embedder",
                "hashing",
                &question,
            ],
            &env,
        )
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_model_ask_streams_the_answer_and_reports_tokens_and_cost() {
    let llm = llm_server::spawn().await;
    llm.behaviour.script(
        "answer-model",
        [Reply::text(
            "Ingrid Valtersen chairs the Harbour Trust {{cite:Ingrid Valtersen chairs the Harbour Trust}}.",
        )
        .usage(2_000, 100)],
    );
    let out = ask_with_env(
        "Who chairs the Harbour Trust?",
        vec![
            ("SOCIOGRAPH_LLM_BASE_URL", llm.base_url.clone()),
            ("SOCIOGRAPH_LLM_API_KEY", "cli-key".into()),
            ("SOCIOGRAPH__LLM__ANSWER_MODEL", "answer-model".into()),
            (
                "SOCIOGRAPH__LLM__PRICES",
                r#"{ "answer-model" = { input_per_million = 1.0, output_per_million = 2.0 } }"#
                    .into(),
            ),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.starts_with("Ingrid Valtersen chairs the Harbour Trust ["),
        "{printed}"
    );
    assert!(printed.contains("\nSources:\n"), "{printed}");
    // 2000 × $1/M + 100 × $2/M = $0.0022
    assert!(
        printed.contains("answer-model: 2000 prompt + 100 completion tokens, $0.002200"),
        "{printed}"
    );
    let request = &llm.behaviour.requests_for("answer-model")[0];
    assert_eq!(request["stream"], true, "the CLI streams");
    assert_eq!(
        llm.behaviour.authorization().as_deref(),
        Some("Bearer cli-key")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_failure_is_one_line_on_stderr_and_a_non_zero_exit() {
    let llm = llm_server::spawn().await;
    llm.behaviour
        .script("openai/gpt-4o-mini", [Reply::status(401)]);
    let out = ask_with_env(
        "Who chairs the Harbour Trust?",
        vec![("SOCIOGRAPH_LLM_BASE_URL", llm.base_url.clone())],
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.starts_with("sociograph: error: "), "{err}");
    assert!(err.contains("401"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
