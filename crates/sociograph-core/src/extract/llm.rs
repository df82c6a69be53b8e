//! Extraction through an OpenAI-compatible chat model, answering in JSON.
//!
//! Parsing is strict about meaning and lenient about form: code fences and prose around the
//! JSON are ignored, items missing a name or type are skipped one by one, and a reply that holds
//! no JSON object yields an empty extraction for that chunk (logged) rather than failing the
//! document. Transport failures (timeouts, 5xx after retries) do fail the document, so a
//! flaky provider never silently produces an empty graph.

use serde_json::Value;
use sociograph_llm::{ChatClient, ChatMessage, ChatOptions};

use super::{ChunkExtraction, ExtractedEntity, ExtractedRelation, Extractor};
use crate::Result;

const SYSTEM_PROMPT: &str = "You extract a knowledge graph about people and power from text. \
Reply with one JSON object and nothing else: \
{\"entities\": [{\"name\": str, \"type\": \"person\"|\"organization\"|\"location\"|\"group\"|\"event\", \
\"description\": str (one sentence, from the text), \"aliases\": [str]}], \
\"relations\": [{\"source\": str, \"source_type\": str, \"target\": str, \"target_type\": str, \
\"type\": str (snake_case verb such as supports, opposes, leads, funds, member_of, works_for, family, allied_with, owns, located_in, met_with), \
\"description\": str (what the text says)}]}. \
Use full names as written in the text. Give source_type and target_type for every relation. \
Only include facts stated in the text.";

pub struct LlmExtractor {
    client: ChatClient,
    model: String,
    runtime: tokio::runtime::Handle,
}

impl LlmExtractor {
    /// `runtime` runs the async client from the blocking ingest thread.
    pub fn new(client: ChatClient, model: &str, runtime: tokio::runtime::Handle) -> Self {
        LlmExtractor {
            client,
            model: model.to_owned(),
            runtime,
        }
    }
}

/// The first balanced `{ … }` in `reply` (skipping fences and prose), parsed.
fn find_json_object(reply: &str) -> Option<Value> {
    let bytes = reply.as_bytes();
    let mut start = 0;
    while let Some(offset) = reply[start..].find('{') {
        let open = start + offset;
        let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            match (in_string, escaped, b) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (true, false, b'"') => in_string = false,
                (false, _, b'"') => in_string = true,
                (false, _, b'{') => depth += 1,
                (false, _, b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(v) = serde_json::from_str::<Value>(&reply[open..=i]) {
                            return Some(v);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        start = open + 1;
    }
    None
}

fn text_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Parse a model reply into an extraction, keeping every well-formed item.
pub fn parse_reply(reply: &str) -> Option<ChunkExtraction> {
    let value = find_json_object(reply)?;
    let mut out = ChunkExtraction::default();
    for item in value
        .get("entities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(entity_type)) = (text_field(item, "name"), text_field(item, "type"))
        else {
            continue;
        };
        let aliases = item
            .get("aliases")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.entities.push(ExtractedEntity {
            name,
            entity_type,
            description: text_field(item, "description").unwrap_or_default(),
            aliases,
            count: 1,
        });
    }
    for item in value
        .get("relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(source), Some(target)) = (text_field(item, "source"), text_field(item, "target"))
        else {
            continue;
        };
        out.relations.push(ExtractedRelation {
            source,
            source_type: text_field(item, "source_type"),
            target,
            target_type: text_field(item, "target_type"),
            relation_type: text_field(item, "type")
                .or_else(|| text_field(item, "relation"))
                .unwrap_or_else(|| "related_to".into()),
            description: text_field(item, "description").unwrap_or_default(),
        });
    }
    Some(out)
}

impl Extractor for LlmExtractor {
    fn name(&self) -> &str {
        "llm"
    }

    fn extract(&self, chunks: &[&str]) -> Result<Vec<ChunkExtraction>> {
        let options = ChatOptions {
            temperature: Some(0.0),
            max_tokens: Some(1500),
            json: true,
            // Same model, same text, temperature 0: re-ingesting asks the cache, not the model.
            cache: true,
            queue_wait: None,
            retry_timeouts: true,
            operation: "extract",
        };
        let mut out = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let messages = [
                ChatMessage::system(SYSTEM_PROMPT),
                ChatMessage::user(*chunk),
            ];
            let reply =
                self.runtime
                    .block_on(self.client.chat(&self.model, &messages, &options))?;
            match parse_reply(&reply.content) {
                Some(extraction) => out.push(extraction),
                None => {
                    tracing::warn!(model = %self.model, "extraction reply held no JSON object; chunk skipped");
                    out.push(ChunkExtraction::default());
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_fences_prose_and_bad_items() {
        let reply = "Sure! Here is the JSON:\n```json\n{\"entities\": [{\"name\": \"Ingrid Valtersen\", \"type\": \"person\"}, \
                     {\"type\": \"person\"}, {\"name\": \"Harbour Trust\", \"type\": \"organization\", \"aliases\": [\"the Trust\", 3]}], \
                     \"relations\": [{\"source\": \"Ingrid Valtersen\", \"source_type\": \"person\", \"target\": \"Harbour Trust\", \"type\": \"leads\"}, \
                     {\"source\": \"x\"}]}\n```\nHope that helps {not json}";
        let parsed = parse_reply(reply).unwrap_or_default();
        assert_eq!(parsed.entities.len(), 2);
        assert_eq!(parsed.entities[1].aliases, vec!["the Trust".to_owned()]);
        assert_eq!(parsed.relations.len(), 1);
        assert_eq!(parsed.relations[0].source_type.as_deref(), Some("person"));
    }

    #[test]
    fn no_json_means_none() {
        assert!(parse_reply("I cannot help with that.").is_none());
        assert!(parse_reply("{broken").is_none());
    }

    #[test]
    fn braces_inside_strings_do_not_confuse_the_scanner() {
        let parsed =
            parse_reply(r#"{"entities":[{"name":"A {B}","type":"org"}]}"#).unwrap_or_default();
        assert_eq!(parsed.entities[0].name, "A {B}");
    }
}
