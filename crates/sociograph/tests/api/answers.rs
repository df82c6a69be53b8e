//! Answers over HTTP with a scripted OpenAI-compatible model: citations, streaming, retries,
//! timeouts, limits, usage and cost, translation, history.

use std::time::Duration;

use serde_json::{Value, json};
use sociograph_core::answer::Generator;
use sociograph_llm::{ChatClient, ClientConfig, Price, PriceTable};

use crate::helpers::{AppOptions, TestApp, spawn_app, spawn_app_with};
use crate::llm_server::{self, LlmServer, Reply};

const ANSWER_MODEL: &str = "answer-model";
const TRANSLATE_MODEL: &str = "translate-model";

/// Options for the generator under test.
struct GenOptions {
    timeout: Duration,
    max_retries: u32,
    max_concurrency: usize,
    queue_wait: Duration,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            timeout: Duration::from_secs(10),
            max_retries: 2,
            max_concurrency: 4,
            queue_wait: Duration::from_secs(5),
        }
    }
}

fn generator(llm: &LlmServer, options: GenOptions) -> Generator {
    let client = ChatClient::new(ClientConfig {
        base_url: llm.base_url.clone(),
        api_key: Some("answer-key".to_owned().into()),
        timeout: options.timeout,
        max_retries: options.max_retries,
        max_concurrency: options.max_concurrency,
    })
    .expect("client");
    let mut prices = PriceTable::default();
    prices.0.insert(
        ANSWER_MODEL.into(),
        Price {
            input_per_million: 2.0,
            output_per_million: 10.0,
        },
    );
    prices.0.insert(
        TRANSLATE_MODEL.into(),
        Price {
            input_per_million: 1.0,
            output_per_million: 4.0,
        },
    );
    Generator {
        client,
        answer_model: ANSWER_MODEL.into(),
        translate_model: TRANSLATE_MODEL.into(),
        prices,
        temperature: 0.2,
        max_tokens: 400,
        queue_wait: options.queue_wait,
    }
}

const TRUST: &str = "Ingrid Valtersen chairs the Harbour Trust, a charitable foundation. \
The Harbour Trust paid for the demolition of the Saltmarket Fish Hall in March.";
const UNION: &str = "Edward Marsh leads the Dockworkers Union as general secretary. \
The Dockworkers Union endorsed Victoria Lund for mayor in August.";
const ELECTION: &str = "Victoria Lund won the mayoral election with 46.8 percent of the vote, \
ending eight years of Civic Renewal Party rule at the city hall.";

async fn app_with_model(llm: &LlmServer, options: GenOptions) -> TestApp {
    let app = spawn_app_with(AppOptions {
        generator: Some(generator(llm, options)),
        ..AppOptions::default()
    })
    .await;
    seed(&app).await;
    app
}

async fn seed(app: &TestApp) {
    for (name, text) in [
        ("trust.txt", TRUST),
        ("union.txt", UNION),
        ("election.txt", ELECTION),
    ] {
        app.ingest(name, text.as_bytes().to_vec()).await;
    }
}

async fn ask(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/qa/ask"))
        .json(&body)
        .send()
        .await
        .expect("ask")
}

async fn ask_ok(app: &TestApp, body: Value) -> Value {
    let r = ask(app, body).await;
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert_eq!(status, 200, "{v}");
    v
}

/// POST to the stream endpoint and parse the Server-Sent Events: (status, [(event, data)]).
async fn ask_stream(app: &TestApp, body: Value) -> (u16, Vec<(String, Value)>) {
    let r = app
        .client
        .post(app.url("/api/qa/ask/stream"))
        .json(&body)
        .send()
        .await
        .expect("stream");
    let status = r.status().as_u16();
    let is_sse = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = r.text().await.expect("body");
    if !is_sse {
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        return (status, vec![("http".into(), v)]);
    }
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = "message".to_owned();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(n) = line.strip_prefix("event:") {
                name = n.trim().to_owned();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
        if data.is_empty() {
            continue; // keep-alive comment
        }
        events.push((
            name,
            serde_json::from_str(&data).expect("event data is JSON"),
        ));
    }
    (status, events)
}

fn source_text(answer: &Value, n: u64) -> String {
    answer["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["n"] == n))
        .and_then(|s| s["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn citations_point_at_the_chunk_that_says_it_and_invented_numbers_are_stripped() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [Reply::text(
            "Ingrid Valtersen chairs the Harbour Trust {{cite:chairs the Harbour Trust}}, \
             which paid for the demolition {{cite:paid for the demolition}}. \
             She also owns a bakery [9].",
        )],
    );
    let answer = ask_ok(&app, json!({"query": "Who chairs the Harbour Trust?"})).await;

    assert_eq!(answer["mode"], "llm");
    assert_eq!(answer["model"], ANSWER_MODEL);
    let text = answer["answer"].as_str().expect("answer");
    assert!(!text.contains("[9]"), "invented citation kept: {text}");
    assert!(text.ends_with("She also owns a bakery."), "{text}");
    let citations = answer["citations"].as_array().expect("citations");
    assert!(!citations.is_empty());
    for c in citations {
        let n = c["n"].as_u64().expect("n");
        assert!(
            text.contains(&format!("[{n}]")),
            "citation {n} not in {text}"
        );
        assert_eq!(c["text"].as_str(), Some(source_text(&answer, n).as_str()));
        assert_eq!(c["document"]["source"], "trust.txt", "{c}");
        assert!(c["chunk_id"].as_i64().is_some());
    }
    // The prompt numbered the sources and asked for [n] citations.
    let request = &llm.behaviour.requests_for(ANSWER_MODEL)[0];
    let user = request["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(user.starts_with("Sources:\n\n[1] "), "{user}");
    assert!(user.ends_with("Question: Who chairs the Harbour Trust?"));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn streamed_events_arrive_in_order_and_their_deltas_equal_the_plain_answer() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    // Three-character pieces split "[9]" and "[1]" across deltas.
    let reply = "Edward Marsh leads the Dockworkers Union {{cite:Edward Marsh leads}} [9], \
                 and the union endorsed Victoria Lund {{cite:endorsed Victoria Lund}}.";
    llm.behaviour.script(
        ANSWER_MODEL,
        [Reply::text(reply), Reply::text(reply).piece(3)],
    );
    let question = json!({"query": "Who leads the Dockworkers Union?"});
    let plain = ask_ok(&app, question.clone()).await;
    let (status, events) = ask_stream(&app, question).await;
    assert_eq!(status, 200);

    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"sources"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    assert!(names[1..names.len() - 1].iter().all(|n| *n == "delta"));
    assert!(names.len() > 10, "expected many deltas: {names:?}");
    let streamed: String = events
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(streamed, plain["answer"].as_str().unwrap_or_default());
    let done = &events[events.len() - 1].1;
    assert_eq!(done["answer"].as_str(), Some(streamed.as_str()));
    assert!(done["query_id"].as_i64() > plain["query_id"].as_i64());
    assert_eq!(events[0].1["sources"], plain["sources"]);
    // The streamed request asked for usage in the last chunk.
    let streamed_request = &llm.behaviour.requests_for(ANSWER_MODEL)[1];
    assert_eq!(streamed_request["stream"], true);
    assert_eq!(streamed_request["stream_options"]["include_usage"], true);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_then_a_200_upstream_succeeds_after_one_retry() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [
            Reply::status(500),
            Reply::text("Victoria Lund won {{cite:won the mayoral election}}."),
        ],
    );
    let answer = ask_ok(&app, json!({"query": "Who won the election?"})).await;
    assert_eq!(llm.behaviour.calls_for(ANSWER_MODEL), 2);
    assert!(
        answer["answer"]
            .as_str()
            .is_some_and(|a| a.starts_with("Victoria Lund won [")),
        "{answer}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_timeout_is_a_504_for_both_endpoints_and_nothing_is_recorded() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(
        &llm,
        GenOptions {
            timeout: Duration::from_secs(1),
            ..GenOptions::default()
        },
    )
    .await;
    let slow = Reply::text("too late").delayed(Duration::from_secs(3));
    llm.behaviour
        .script(ANSWER_MODEL, [slow.clone(), slow.clone(), slow]);
    let r = ask(&app, json!({"query": "Who chairs the Harbour Trust?"})).await;
    assert_eq!(r.status(), 504);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error_type"], "model_timeout");
    assert!(
        body["error"].as_str().unwrap_or_default().contains("1s"),
        "{body}"
    );
    // Interactive calls do not retry a timeout: one call, not three.
    assert_eq!(llm.behaviour.calls_for(ANSWER_MODEL), 1);

    let (status, events) =
        ask_stream(&app, json!({"query": "Who chairs the Harbour Trust?"})).await;
    assert_eq!(status, 504, "{events:?}");
    assert_eq!(events[0].1["error_type"], "model_timeout");

    let history: Value = app.get("/api/history").await.json().await.expect("json");
    assert_eq!(history["total"], 0, "a failed answer is not history");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_errors_are_502_with_the_provider_status_never_200() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(ANSWER_MODEL, [Reply::status(400)]);
    let r = ask(&app, json!({"query": "Who leads the Dockworkers Union?"})).await;
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error_type"], "model_unavailable");
    assert_eq!(
        body["error"],
        "the language model provider answered HTTP 400"
    );
    assert_eq!(
        llm.behaviour.calls_for(ANSWER_MODEL),
        1,
        "400 is not retried"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_mid_stream_ends_the_stream_with_an_error_event() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [Reply::text("Edward Marsh leads the union and more words follow.").fail_after(3)],
    );
    let (status, events) =
        ask_stream(&app, json!({"query": "Who leads the Dockworkers Union?"})).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "sources");
    assert_eq!(names.last(), Some(&"error"), "{names:?}");
    assert!(!names.contains(&"done"));
    let error = &events[events.len() - 1].1;
    assert_eq!(error["error_type"], "model_bad_reply");
    assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_every_model_slot_is_busy_a_question_gets_429_with_retry_after() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(
        &llm,
        GenOptions {
            max_concurrency: 1,
            queue_wait: Duration::from_millis(200),
            ..GenOptions::default()
        },
    )
    .await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [Reply::text("slow answer").delayed(Duration::from_secs(2))],
    );
    let first = {
        let client = app.client.clone();
        let url = app.url("/api/qa/ask");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"query": "Who chairs the Harbour Trust?"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    // Wait until the first question holds the only slot.
    let started = std::time::Instant::now();
    while llm.behaviour.calls_for(ANSWER_MODEL) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = ask(&app, json!({"query": "Who leads the Dockworkers Union?"})).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error_type"], "model_busy");
    assert_eq!(first.await.expect("join").expect("first"), 200);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_tokens_and_cost_follow_the_reported_usage_and_the_price_table() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [
            Reply::text("Victoria Lund won {{cite:won the mayoral}}.").usage(1_000, 200),
            Reply::text("Victoria Lund won {{cite:won the mayoral}}.").usage(3_000, 500),
        ],
    );
    let answer = ask_ok(&app, json!({"query": "Who won the election?"})).await;
    let usage = &answer["usage"];
    assert_eq!(usage["prompt_tokens"], 1_000);
    assert_eq!(usage["completion_tokens"], 200);
    // 1000 × $2/M + 200 × $10/M = $0.004
    let cost = usage["cost_usd"].as_f64().expect("cost");
    assert!((cost - 0.004).abs() < 1e-12, "{cost}");
    assert_eq!(usage["calls"][0]["operation"], "answer");
    assert_eq!(usage["calls"][0]["estimated"], false);

    let (_, events) = ask_stream(&app, json!({"query": "Who won the election?"})).await;
    let done = &events[events.len() - 1].1;
    // 3000 × $2/M + 500 × $10/M = $0.011, from the usage in the stream's last chunk.
    let cost = done["usage"]["cost_usd"].as_f64().expect("cost");
    assert!((cost - 0.011).abs() < 1e-12, "{done}");
    // The history keeps the same figures.
    let id = done["query_id"].as_i64().expect("id");
    let entry: Value = app
        .get(&format!("/api/history/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(entry["usage"]["prompt_tokens"], 3_000);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arabic_answer_comes_from_the_translation_model_with_citations_kept() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [Reply::text("Victoria Lund won the election [1] [7].").usage(500, 20)],
    );
    llm.behaviour.script(
        TRANSLATE_MODEL,
        [Reply::text("فازت فيكتوريا لوند بالانتخابات [1] [7].").usage(40, 30)],
    );
    let answer = ask_ok(
        &app,
        json!({"query": "من فاز بالانتخابات؟ Victoria Lund election", "language": "ar"}),
    )
    .await;
    assert_eq!(answer["answer"], "فازت فيكتوريا لوند بالانتخابات [1].");
    assert_eq!(answer["language"], "ar");
    let calls = answer["usage"]["calls"].as_array().expect("calls");
    let ops: Vec<&str> = calls
        .iter()
        .filter_map(|c| c["operation"].as_str())
        .collect();
    assert_eq!(ops, ["answer", "translate"]);
    assert_eq!(answer["usage"]["prompt_tokens"], 540);
    // The translator was given the checked English answer and told to keep the markers.
    let request = &llm.behaviour.requests_for(TRANSLATE_MODEL)[0];
    assert_eq!(
        request["messages"][1]["content"],
        "Victoria Lund won the election [1]."
    );
    assert!(
        request["messages"][0]["content"]
            .as_str()
            .is_some_and(|s| s.contains("Arabic") && s.contains("[1]"))
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_questions_are_refused_with_400_and_a_reason() {
    let app = spawn_app().await;
    for (body, needle) in [
        (json!({"query": ""}), "empty"),
        (json!({"query": "x".repeat(3000)}), "limit"),
        (json!({"query": "q", "top_k": 0}), "between 1 and 100"),
        (json!({"query": "q", "temperature": 7}), "temperature"),
        (json!({"query": "q", "max_tokens": -1}), "max_tokens"),
        (
            json!({"query": "q", "language": "Klingon please"}),
            "language",
        ),
        (json!({"query": "q", "mode": "psychic"}), "unknown mode"),
        (json!({"query": "q", "model": "a b"}), "model"),
        (json!({"query": "q", "topk": 3}), "unknown field"),
        (json!({"question": "q"}), "query"),
    ] {
        let r = ask(&app, body.clone()).await;
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.expect("json");
        assert!(
            v["error"].as_str().unwrap_or_default().contains(needle),
            "{body} → {v}"
        );
    }
    let r = app
        .client
        .post(app.url("/api/qa/ask"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_model_answers_are_extractive_cited_and_labelled() {
    let app = spawn_app().await;
    seed(&app).await;
    let answer = ask_ok(&app, json!({"query": "Who chairs the Harbour Trust?"})).await;
    assert_eq!(answer["mode"], "extractive");
    assert_eq!(answer["usage"], Value::Null);
    assert!(
        answer["notice"]
            .as_str()
            .is_some_and(|n| n.contains("No language model"))
    );
    let text = answer["answer"].as_str().unwrap_or_default();
    assert!(
        text.contains("Ingrid Valtersen chairs the Harbour Trust"),
        "{text}"
    );
    let cited = &answer["citations"][0];
    assert!(
        cited["text"]
            .as_str()
            .is_some_and(|t| t.contains("Ingrid Valtersen chairs the Harbour Trust")),
        "{answer}"
    );
    // The stream carries the same answer.
    let (status, events) =
        ask_stream(&app, json!({"query": "Who chairs the Harbour Trust?"})).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["sources", "delta", "done"]);
    assert_eq!(events[1].1["text"].as_str(), Some(text));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_naming_two_entities_gets_the_graph_path_between_them() {
    let llm = llm_server::spawn().await;
    let app = app_with_model(&llm, GenOptions::default()).await;
    llm.behaviour.script(
        ANSWER_MODEL,
        [Reply::text("They are linked through the union.")],
    );
    let answer = ask_ok(
        &app,
        json!({"query": "How is Edward Marsh connected to Victoria Lund?"}),
    )
    .await;
    let path = answer["graph_path"].as_array().expect("a path");
    assert!(!path.is_empty());
    assert_eq!(path[0]["from"]["name"], "Edward Marsh");
    assert_eq!(path[path.len() - 1]["to"]["name"], "Victoria Lund");
    let request = &llm.behaviour.requests_for(ANSWER_MODEL)[0];
    let user = request["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        user.contains("The knowledge graph connects Edward Marsh and Victoria Lund"),
        "{user}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn history_survives_a_restart_and_ids_stay_stable_after_deletes() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = || AppOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..AppOptions::default()
    };
    let app = spawn_app_with(options()).await;
    seed(&app).await;
    let mut ids = Vec::new();
    for q in [
        "Who chairs the Harbour Trust?",
        "Who leads the Dockworkers Union?",
        "Who won the mayoral election?",
    ] {
        ids.push(ask_ok(&app, json!({"query": q})).await["query_id"].clone());
    }
    let r = app
        .client
        .delete(app.url(&format!("/api/history/{}", ids[1])))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    app.shutdown().await;

    let app = spawn_app_with(options()).await;
    let page: Value = app.get("/api/history").await.json().await.expect("json");
    assert_eq!(page["total"], 2);
    let listed: Vec<Value> = page["items"]
        .as_array()
        .map(|items| items.iter().map(|i| i["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(listed, vec![ids[2].clone(), ids[0].clone()], "newest first");
    let first: Value = app
        .get(&format!("/api/history/{}", ids[0]))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(first["query"], "Who chairs the Harbour Trust?");
    assert!(first["citations"][0]["text"].is_string());
    assert_eq!(
        app.get(&format!("/api/history/{}", ids[1])).await.status(),
        404
    );
    let next = ask_ok(&app, json!({"query": "Who funded the demolition?"})).await;
    assert!(
        next["query_id"].as_i64() > ids[2].as_i64(),
        "a deleted id must never be reused"
    );
    let filtered: Value = app
        .get("/api/history?q=dockworkers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(filtered["total"], 0, "the deleted question is gone");
    let paged: Value = app
        .get("/api/history?page=2&per_page=2")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(paged["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.get("/api/history?per_page=0").await.status(), 400);
    assert_eq!(app.get("/api/history/abc").await.status(), 400);
    let cleared: Value = app
        .client
        .delete(app.url("/api/history"))
        .send()
        .await
        .expect("clear")
        .json()
        .await
        .expect("json");
    assert_eq!(cleared["deleted"], 3);
    app.shutdown().await;
}
