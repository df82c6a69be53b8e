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
