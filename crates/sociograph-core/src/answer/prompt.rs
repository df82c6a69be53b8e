//! The prompts: numbered sources (and the graph path between the entities a question names)
//! for answering, and the translation instruction.

use sociograph_llm::ChatMessage;
use sociograph_store::PathStep;

use super::Source;
use crate::types::Language;

const ANSWER_SYSTEM: &str = "You answer questions about people, organisations, places and \
power, using only the numbered sources you are given. Cite the source of every statement with \
its number in square brackets, like [1] or [2][3], right after the statement. Never cite a \
number that is not in the list. If the sources do not answer the question, say so plainly \
instead of guessing. Be concise: a few sentences, or a short list when the question asks for \
several things. Answer in the language of the question.";

/// How a source is headed in the prompt: `[n] Title (file), page p`.
fn heading(source: &Source) -> String {
    let page = source
        .page
        .map(|p| format!(", page {p}"))
        .unwrap_or_default();
    format!(
        "[{}] {} ({}){page}",
        source.n, source.document.title, source.document.source
    )
}

/// One line per hop: `Marsh Holdings --funds--> Civic Renewal Party: … (see [3])`.
fn path_lines(path: &[PathStep], sources: &[Source]) -> String {
    path.iter()
        .map(|step| {
            let (a, b) = if step.forward {
                (&step.from.name, &step.to.name)
            } else {
                (&step.to.name, &step.from.name)
            };
            let cite = step
                .evidence_chunk
                .and_then(|chunk| sources.iter().find(|s| s.chunk_id == chunk))
                .map(|s| format!(" (see [{}])", s.n))
                .unwrap_or_default();
            let description = if step.description.is_empty() {
                String::new()
            } else {
                format!(": {}", step.description)
            };
            format!("- {a} --{}--> {b}{description}{cite}", step.relation_type)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The messages asking the model to answer `question` from `sources`.
pub fn answer_messages(
    question: &str,
    sources: &[Source],
    path: Option<&[PathStep]>,
) -> Vec<ChatMessage> {
    let mut user = String::from("Sources:\n\n");
    for source in sources {
        user.push_str(&heading(source));
        user.push('\n');
        user.push_str(source.text.trim());
        user.push_str("\n\n");
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        let (first, last) = (&path[0].from.name, &path[path.len() - 1].to.name);
        user.push_str(&format!(
            "The knowledge graph connects {first} and {last} like this:\n{}\n\n",
            path_lines(path, sources)
        ));
    }
    user.push_str("Question: ");
    user.push_str(question);
    vec![ChatMessage::system(ANSWER_SYSTEM), ChatMessage::user(user)]
}

/// The messages asking the translation model to put `answer` into `language`.
pub fn translation_messages(answer: &str, language: &Language) -> Vec<ChatMessage> {
    let name = language.name();
    vec![
        ChatMessage::system(format!(
            "Translate the user's text into {name}. Keep every citation marker such as [1] or \
             [2][3] exactly as it is, in the same place. Keep names of people and organisations \
             recognisable. Reply with the translation only."
        )),
        ChatMessage::user(answer.to_owned()),
    ]
}

/// Share of the letters in `text` that are in the Arabic script.
pub fn arabic_share(text: &str) -> f64 {
    let (mut arabic, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FEFF}')
        {
            arabic += 1;
        }
    }
    if letters == 0 {
        0.0
    } else {
        arabic as f64 / letters as f64
    }
}
