//! The graph API and entity identity.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn entity_detail_lists_relations_with_evidence() {
    let app = spawn_app().await;
    app.ingest(
        "trust.txt",
        b"Ingrid Valtersen chairs the Harbour Trust. The Harbour Trust funded the demolition of the Saltmarket Fish Hall."
            .to_vec(),
    )
    .await;
    let found = app.entities("Valtersen").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["type"], "person");
    let id = found[0]["id"].as_i64().expect("id");
    let detail: Value = app
        .get(&format!("/api/graph/entities/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let relations = detail["relations"].as_array().cloned().unwrap_or_default();
    let leads = relations
        .iter()
        .find(|r| r["type"] == "leads")
        .unwrap_or_else(|| panic!("no leads relation: {detail}"));
    assert_eq!(leads["source"]["name"], "Ingrid Valtersen");
    assert_eq!(leads["target"]["name"], "Harbour Trust");
    assert_eq!(leads["evidence"][0]["document"]["source"], "trust.txt");
    assert!(leads["weight"].as_u64().is_some_and(|w| w >= 1));
    app.shutdown().await;
}

#[tokio::test]
async fn same_name_different_type_are_separate_entities_with_their_own_relations() {
    let app = spawn_app().await;
    app.ingest(
        "victoria.txt",
        b"Councillor Victoria Lund leads the Harbour Labour Party. Flood water reached Victoria District again."
            .to_vec(),
    )
    .await;
    let people = app
        .get("/api/graph/entities?q=victoria&type=person")
        .await
        .json::<Value>()
        .await
        .expect("json");
    let places = app
        .get("/api/graph/entities?q=victoria&type=location")
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(people["entities"][0]["name"], "Victoria Lund");
    assert_eq!(places["entities"][0]["name"], "Victoria District");
    let place_id = places["entities"][0]["id"].as_i64().expect("id");
    let detail: Value = app
        .get(&format!("/api/graph/entities/{place_id}"))
        .await
        .json()
        .await
        .expect("json");
    let leads = detail["relations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["type"] == "leads");
    assert!(
        !leads,
        "the district must not inherit the councillor's relation: {detail}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn entity_search_validates_its_parameters() {
    let app = spawn_app().await;
    let r = app.get("/api/graph/entities?limit=0").await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.expect("json");
    assert!(body["error"].as_str().unwrap_or_default().contains("limit"));
    assert_eq!(app.get("/api/graph/entities/999999").await.status(), 404);
    app.shutdown().await;
}

// ------------------------------------------------------------------ analytics

/// Two alliances of four, each allied all round (K4), joined by one bridge (Greta Holm funds
/// Ivan Jansson), and a pair apart. One sentence per document, so every relation is one
/// document that can be deleted on its own.
const ALLIANCE_A: [&str; 4] = ["Anna Berg", "Carl Dahl", "Erik Falk", "Greta Holm"];
const ALLIANCE_B: [&str; 4] = [
    "Ivan Jansson",
    "Karin Lind",
    "Magnus Nyberg",
    "Olga Persson",
];
const BRIDGE: &str = "Greta Holm funds Ivan Jansson.";

async fn planted_graph() -> (crate::helpers::TestApp, String) {
    let app = spawn_app().await;
    let mut sentences = Vec::new();
    for group in [ALLIANCE_A, ALLIANCE_B] {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                sentences.push(format!("{a} is allied with {b}."));
            }
        }
    }
    sentences.push("Rolf Sandberg is allied with Tove Ulvaeus.".into());
    for (i, sentence) in sentences.iter().enumerate() {
        app.ingest(
            &format!("alliance-{i:02}.txt"),
            sentence.clone().into_bytes(),
        )
        .await;
    }
    let bridge = app.ingest("bridge.txt", BRIDGE.as_bytes().to_vec()).await;
    (app, bridge)
}

async fn entity_id(app: &crate::helpers::TestApp, name: &str) -> i64 {
    let found = app.entities(name).await;
    found
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["id"].as_i64())
        .unwrap_or_else(|| panic!("no entity {name:?} in {found:?}"))
}

async fn get_json(app: &crate::helpers::TestApp, path: &str, status: u16) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), status, "GET {path}");
    r.json().await.expect("json")
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn stats_find_the_planted_communities_and_the_bridge_ends() {
    let (app, _) = planted_graph().await;
    let stats = get_json(&app, "/api/graph/stats?top=5", 200).await;
    assert_eq!(stats["entities"], 10, "{stats}");
    assert_eq!(stats["relations"], 14, "{stats}");
    assert_eq!(stats["components"], 2, "{stats}");
    assert_eq!(stats["communities_total"], 3, "{stats}");
    assert!(
        stats["modularity"].as_f64().is_some_and(|q| q > 0.4),
        "{stats}"
    );
    let communities = stats["communities"].as_array().cloned().unwrap_or_default();
    for group in [ALLIANCE_A, ALLIANCE_B] {
        let community = communities
            .iter()
            .find(|c| names(&c["members"]).iter().any(|n| n == group[0]))
            .unwrap_or_else(|| panic!("{} is in no community: {stats}", group[0]));
        let mut members = names(&community["members"]);
        members.sort();
        assert_eq!(members, group.map(String::from).to_vec(), "{stats}");
    }
    // The bridge ends have four ties each, everyone else three or one.
    let mut top_two: Vec<String> = stats["top_degree"]
        .as_array()
        .into_iter()
        .flatten()
        .take(2)
        .filter_map(|a| a["entity"]["name"].as_str().map(str::to_owned))
        .collect();
    top_two.sort();
    assert_eq!(top_two, vec!["Greta Holm", "Ivan Jansson"], "{stats}");
    assert_eq!(stats["top_degree"][0]["degree"], 4);
    let by_rank: Vec<&str> = stats["top_pagerank"]
        .as_array()
        .into_iter()
        .flatten()
        .take(2)
        .filter_map(|a| a["entity"]["name"].as_str())
        .collect();
    assert!(
        by_rank.contains(&"Greta Holm") && by_rank.contains(&"Ivan Jansson"),
        "{stats}"
    );
    let people = get_json(&app, "/api/graph/stats?type=organization", 200).await;
    assert_eq!(people["top_pagerank"].as_array().map(Vec::len), Some(0));
    app.shutdown().await;
}

#[tokio::test]
async fn path_crosses_the_bridge_with_evidence_and_vanishes_when_it_is_deleted() {
    let (app, bridge) = planted_graph().await;
    let (anna, karin) = (
        entity_id(&app, "Anna Berg").await,
        entity_id(&app, "Karin Lind").await,
    );
    let found = get_json(
        &app,
        &format!("/api/graph/path?from={anna}&to={karin}"),
        200,
    )
    .await;
    let hops = found["paths"][0]["hops"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let route: Vec<(&str, &str, &str)> = hops
        .iter()
        .map(|h| {
            (
                h["from"]["name"].as_str().unwrap_or_default(),
                h["type"].as_str().unwrap_or_default(),
                h["to"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        route,
        vec![
            ("Anna Berg", "allied_with", "Greta Holm"),
            ("Greta Holm", "funds", "Ivan Jansson"),
            ("Ivan Jansson", "allied_with", "Karin Lind"),
        ],
        "{found}"
    );
    assert_eq!(hops[1]["forward"], true);
    assert_eq!(hops[1]["evidence"]["text"], BRIDGE);
    assert_eq!(hops[1]["evidence"]["source"], "bridge.txt");
    for hop in &hops {
        let text = hop["evidence"]["text"].as_str().unwrap_or_default();
        for end in ["from", "to"] {
            let name = hop[end]["name"].as_str().unwrap_or_default();
            assert!(text.contains(name), "{name} not in its evidence {text:?}");
        }
    }
    // Only one shortest path exists, however many are asked for.
    let all = get_json(
        &app,
        &format!("/api/graph/path?from={anna}&to={karin}&limit=10"),
        200,
    )
    .await;
    assert_eq!(all["paths"].as_array().map(Vec::len), Some(1), "{all}");
    let short = get_json(
        &app,
        &format!("/api/graph/path?from={anna}&to={karin}&max_hops=2"),
        200,
    )
    .await;
    assert_eq!(short["paths"], serde_json::json!([]), "{short}");

    let before = get_json(&app, "/api/graph/stats", 200).await;
    assert_eq!(app.delete(&bridge).await.status(), 200);
    let gone = get_json(
        &app,
        &format!("/api/graph/path?from={anna}&to={karin}"),
        200,
    )
    .await;
    assert_eq!(gone["paths"], serde_json::json!([]), "{gone}");
    let after = get_json(&app, "/api/graph/stats", 200).await;
    assert_ne!(after["generation"], before["generation"]);
    assert_eq!(after["relations"], 13, "{after}");
    assert_eq!(after["components"], 3, "{after}");
    app.shutdown().await;
}

#[tokio::test]
async fn subgraph_is_the_neighbourhood_with_its_relations() {
    let (app, _) = planted_graph().await;
    let greta = entity_id(&app, "Greta Holm").await;
    let near = get_json(&app, &format!("/api/graph/subgraph?entity={greta}"), 200).await;
    assert_eq!(near["center"]["name"], "Greta Holm");
    let mut nodes = names(&near["nodes"]);
    assert_eq!(nodes[0], "Greta Holm");
    nodes.sort();
    assert_eq!(
        nodes,
        vec![
            "Anna Berg",
            "Carl Dahl",
            "Erik Falk",
            "Greta Holm",
            "Ivan Jansson"
        ]
    );
    // The alliance's six ties and the bridge: every relation among these five.
    assert_eq!(near["edges"].as_array().map(Vec::len), Some(7), "{near}");
    assert_eq!(near["truncated"], false);
    let community = |name: &str| {
        near["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["name"] == name)
            .map(|n| n["community"].clone())
    };
    assert_eq!(community("Anna Berg"), community("Greta Holm"));
    assert_ne!(community("Ivan Jansson"), community("Greta Holm"));

    let wide = get_json(
        &app,
        &format!("/api/graph/subgraph?entity={greta}&depth=2"),
        200,
    )
    .await;
    assert_eq!(wide["nodes"].as_array().map(Vec::len), Some(8), "{wide}");
    let capped = get_json(
        &app,
        &format!("/api/graph/subgraph?entity={greta}&depth=2&limit=3"),
        200,
    )
    .await;
    assert_eq!(capped["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(capped["truncated"], true);
    app.shutdown().await;
}

#[tokio::test]
async fn graph_analytics_reject_bad_parameters_with_reasons() {
    let app = spawn_app().await;
    app.ingest("pair.txt", b"Anna Berg is allied with Carl Dahl.".to_vec())
        .await;
    let anna = entity_id(&app, "Anna Berg").await;
    for (path, status, says) in [
        ("/api/graph/subgraph", 400, "entity is required"),
        ("/api/graph/subgraph?entity=anna", 400, "entity id"),
        ("/api/graph/subgraph?entity=999999", 404, "no entity 999999"),
        (
            format!("/api/graph/subgraph?entity={anna}&depth=4").as_str(),
            400,
            "depth",
        ),
        (
            format!("/api/graph/subgraph?entity={anna}&limit=0").as_str(),
            400,
            "limit",
        ),
        (
            format!("/api/graph/path?from={anna}").as_str(),
            400,
            "to is required",
        ),
        (
            format!("/api/graph/path?from={anna}&to={anna}").as_str(),
            400,
            "same entity",
        ),
        (
            format!("/api/graph/path?from={anna}&to=999999").as_str(),
            404,
            "no entity",
        ),
        (
            format!("/api/graph/path?from={anna}&to=999999&max_hops=7").as_str(),
            400,
            "max_hops",
        ),
        ("/api/graph/stats?top=0", 400, "top"),
        ("/api/graph/stats?top=many", 400, "top"),
    ] {
        let body = get_json(&app, path, status).await;
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "GET {path}: {body}");
    }
    app.shutdown().await;
}
