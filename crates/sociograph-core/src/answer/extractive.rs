//! Extractive answers: with no language model, the answer is the retrieved sentences that best
//! match the question, quoted verbatim and cited. Nothing is paraphrased, so nothing can be
//! invented; the reader sees the evidence itself.
//!
//! A sentence scores the inverse document frequency (over the candidate sentences) of each
//! question term it contains, where a term matches a word sharing a long prefix ("backed" /
//! "backing"), scaled by how much of the question it covers; plus a bonus when it states the
//! kind of relation the question asks about ("who funded…" → a sentence with "paid for").
//! When the question names entities, sentences that mention none of them count for less.
//! Earlier hits break ties.

use std::collections::HashSet;

use sociograph_store::{PathStep, textnorm};
use unicode_segmentation::UnicodeSegmentation;

use crate::extract::relation_types_in;
use crate::retrieve::keyword_terms;

/// Most sentences quoted in one answer.
const MAX_SENTENCES: usize = 3;
/// A further sentence is quoted only if it scores at least this share of the best one.
const RELATIVE_CUTOFF: f64 = 0.6;

/// What the extractive answer quotes from.
pub struct Passage<'a> {
    /// The source number cited for this passage.
    pub n: usize,
    pub text: &'a str,
}

/// The answer text (sentences with `[n]` citations) and whether any sentence matched the
/// question's words (false: the answer only offers the closest passage).
#[derive(Debug, Clone, PartialEq)]
pub struct Extractive {
    pub text: String,
    pub matched: bool,
    /// The source numbers cited, in order of first citation. (Not re-read from `text`: a
    /// quoted sentence may carry its document's own footnote marks, like "[3]".)
    pub cited: Vec<usize>,
}

fn note(cited: &mut Vec<usize>, n: usize) {
    if !cited.contains(&n) {
        cited.push(n);
    }
}

struct Candidate<'a> {
    n: usize,
    rank: usize,
    sentence: &'a str,
    words: Vec<String>,
}

/// Do `term` and `word` name the same thing, allowing for inflection?
fn same_word(term: &str, word: &str) -> bool {
    if term == word {
        return true;
    }
    let (t, w) = (term.chars().count(), word.chars().count());
    if t < 4 || w < 4 {
        return false;
    }
    if t.abs_diff(w) > 3 {
        return false; // "port" is not "portrait"
    }
    let common = term
        .chars()
        .zip(word.chars())
        .take_while(|(a, b)| a == b)
        .count();
    common >= 4.max(t.min(w).saturating_sub(2))
}

fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .flat_map(|line| line.split_sentence_bounds())
        .map(str::trim)
        .filter(|s| s.split_whitespace().count() >= 4)
}

/// Place ` [n]` before the sentence's final punctuation, if it has one.
fn cite(sentence: &str, n: usize) -> String {
    let trimmed = sentence.trim_end();
    match trimmed.chars().last() {
        Some(end @ ('.' | '!' | '?' | '؟' | '。')) => {
            let body = &trimmed[..trimmed.len() - end.len_utf8()];
            format!("{} [{n}]{end}", body.trim_end())
        }
        _ => format!("{trimmed} [{n}]"),
    }
}

/// The best sentences of `passages` (in retrieval order) for `question`, which names the
/// entities called `entity_names` (their names and aliases).
pub fn answer(question: &str, passages: &[Passage<'_>], entity_names: &[String]) -> Extractive {
    let entity_keys: Vec<String> = entity_names
        .iter()
        .map(|n| textnorm::name_key(n))
        .filter(|k| !k.is_empty())
        .collect();
    let terms = keyword_terms(question);
    let focus = relation_types_in(question);
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    for (rank, passage) in passages.iter().enumerate() {
        for sentence in sentences(passage.text) {
            candidates.push(Candidate {
                n: passage.n,
                rank,
                sentence,
                words: textnorm::words(sentence),
            });
        }
    }
    if candidates.is_empty() {
        return Extractive {
            text: "No passage in the corpus matches this question.".into(),
            matched: false,
            cited: Vec::new(),
        };
    }
    let contains = |c: &Candidate<'_>, term: &str| c.words.iter().any(|w| same_word(term, w));
    let total = candidates.len() as f64;
    let idf: Vec<f64> = terms
        .iter()
        .map(|t| {
            let df = candidates.iter().filter(|c| contains(c, t)).count() as f64;
            (1.0 + total / (1.0 + df)).ln()
        })
        .collect();
    let total_idf: f64 = idf.iter().sum();
    let mut scored: Vec<(f64, &Candidate<'_>)> = candidates
        .iter()
        .map(|c| {
            let matched: f64 = terms
                .iter()
                .zip(&idf)
                .filter(|(t, _)| contains(c, t))
                .map(|(_, w)| w)
                .sum();
            let coverage = if total_idf > 0.0 {
                matched / total_idf
            } else {
                0.0
            };
            let mut score = matched * (0.5 + 0.5 * coverage);
            if !entity_keys.is_empty() {
                let joined = format!(" {} ", c.words.join(" "));
                if !entity_keys
                    .iter()
                    .any(|k| joined.contains(&format!(" {k} ")))
                {
                    score *= 0.7;
                }
            }
            if score > 0.0
                && !focus.is_empty()
                && relation_types_in(c.sentence)
                    .iter()
                    .any(|t| focus.contains(t))
            {
                score *= 1.5;
            }
            // Earlier hits win ties and near-ties.
            (score * (1.0 + 0.2 / (1.0 + c.rank as f64)), c)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.rank.cmp(&b.1.rank)));

    let best = scored[0].0;
    if best <= 0.0 {
        let closest = &candidates[0];
        return Extractive {
            text: format!(
                "No retrieved passage uses the question's words. The closest passage by meaning: {}",
                cite(closest.sentence, closest.n)
            ),
            matched: false,
            cited: vec![closest.n],
        };
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut chosen: Vec<String> = Vec::new();
    let mut cited: Vec<usize> = Vec::new();
    for (score, c) in &scored {
        if chosen.len() == MAX_SENTENCES || *score < best * RELATIVE_CUTOFF {
            break;
        }
        // Overlapping chunks repeat sentences: quote each once.
        if seen.insert(c.words.join(" ")) {
            chosen.push(cite(c.sentence, c.n));
            note(&mut cited, c.n);
        }
    }
    Extractive {
        text: chosen.join(" "),
        matched: true,
        cited,
    }
}

/// How two entities are connected, from a graph path: each hop's evidence sentence, cited
/// with `source_of(evidence chunk)` when that chunk is a source.
pub fn path_answer(
    path: &[PathStep],
    source_of: impl Fn(i64) -> Option<usize>,
) -> Option<Extractive> {
    let (first, last) = (&path.first()?.from.name, &path.last()?.to.name);
    let via: Vec<&str> = path[..path.len() - 1]
        .iter()
        .map(|s| s.to.name.as_str())
        .collect();
    let mut text = if via.is_empty() {
        format!("{first} and {last} are directly related.")
    } else {
        format!(
            "{first} and {last} are connected through {}.",
            via.join(", then ")
        )
    };
    let mut cited = Vec::new();
    for step in path {
        let (a, b) = if step.forward {
            (&step.from.name, &step.to.name)
        } else {
            (&step.to.name, &step.from.name)
        };
        let statement = if step.description.trim().is_empty() {
            format!("{a} {} {b}.", step.relation_type.replace('_', " "))
        } else {
            step.description.trim().to_owned()
        };
        text.push(' ');
        match step.evidence_chunk.and_then(&source_of) {
            Some(n) => {
                text.push_str(&cite(&statement, n));
                note(&mut cited, n);
            }
            None => text.push_str(&statement),
        }
    }
    Some(Extractive {
        text,
        matched: true,
        cited,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflected_words_match_but_short_or_different_ones_do_not() {
        assert!(same_word("backed", "backing"));
        assert!(same_word("council", "councillor"));
        assert!(same_word("chairs", "chair"));
        assert!(!same_word("port", "portrait"));
        assert!(!same_word("mayor", "may"));
    }

    #[test]
    fn the_sentence_that_answers_is_quoted_with_its_source() {
        let passages = [
            Passage {
                n: 1,
                text: "The harbour was busy in March. Ships came and went all week long.",
            },
            Passage {
                n: 2,
                text: "Ingrid Valtersen chairs the Harbour Trust. The trust owns the old piers.",
            },
        ];
        let a = answer("Who chairs the Harbour Trust?", &passages, &[]);
        assert!(a.matched);
        assert!(
            a.text
                .starts_with("Ingrid Valtersen chairs the Harbour Trust [2].")
        );
    }

    #[test]
    fn a_sentence_covering_more_of_the_question_beats_one_rare_word() {
        let passages = [Passage {
            n: 1,
            text: "Helena Brandt narrowly won the Old Town district. \
                   Victoria Lund was elected mayor in the November election.",
        }];
        let a = answer("Who won the mayoral election?", &passages, &[]);
        assert!(a.text.starts_with("Victoria Lund"), "{}", a.text);
    }

    #[test]
    fn sentences_naming_the_question_entities_come_first() {
        let passages = [Passage {
            n: 1,
            text: "Lena Petrova chairs the finance committee of the council. \
                   Ingrid Valtersen chairs the Harbour Trust board.",
        }];
        let a = answer(
            "Who chairs the board?",
            &passages,
            &["Harbour Trust".to_owned()],
        );
        assert!(a.text.starts_with("Ingrid Valtersen"), "{}", a.text);
        assert!(!a.text.contains("Petrova"), "{}", a.text);
    }

    #[test]
    fn repeated_sentences_from_overlapping_chunks_are_quoted_once() {
        let passages = [
            Passage {
                n: 1,
                text: "Marsh Holdings paid for the campaign of Helena Brandt.",
            },
            Passage {
                n: 2,
                text: "Marsh Holdings paid for the campaign of Helena Brandt.",
            },
        ];
        let a = answer(
            "Who paid for the campaign of Helena Brandt?",
            &passages,
            &[],
        );
        assert_eq!(a.text.matches("Marsh Holdings").count(), 1, "{}", a.text);
    }

    #[test]
    fn no_shared_words_is_said_plainly() {
        let passages = [Passage {
            n: 1,
            text: "Rain flooded the lower streets again this spring.",
        }];
        let a = answer("quillberry tariffs", &passages, &[]);
        assert!(!a.matched);
        assert!(a.text.contains("closest passage"));
        assert!(a.text.contains("[1]"));
    }
}
