//! Sentence-aware chunking with overlap.
//!
//! Sentences (Unicode UAX #29 boundaries, so Arabic and other scripts work) are packed into
//! chunks of about `target_chars`; consecutive chunks share up to `overlap_chars` of trailing
//! sentences; a short tail merges into its neighbour; a sentence longer than `max_chars` is
//! split at word boundaries. Chunks never cross pages. Every non-blank byte of every page lands
//! in at least one chunk: nothing is dropped.

use unicode_segmentation::UnicodeSegmentation;

use crate::load::Page;

/// Sizes in characters.
#[derive(Debug, Clone, Copy)]
pub struct ChunkOptions {
    pub target_chars: usize,
    pub max_chars: usize,
    pub overlap_chars: usize,
    pub min_chars: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        // ~700 characters ≈ 150–180 MiniLM tokens, well inside its 256-token window.
        ChunkOptions {
            target_chars: 700,
            max_chars: 1000,
            overlap_chars: 150,
            min_chars: 200,
        }
    }
}

/// A chunk of one page: `text` is `page.text[byte_start..byte_end]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub ordinal: u32,
    pub page: Option<u32>,
    pub byte_start: usize,
    pub byte_end: usize,
    pub text: String,
}

/// Byte ranges of trimmed sentences, long ones split at word boundaries.
fn sentence_spans(text: &str, max_chars: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for (start, sentence) in text.split_sentence_bound_indices() {
        let lead = sentence.len() - sentence.trim_start().len();
        let s = start + lead;
        let e = start + sentence.trim_end().len();
        if e <= s {
            continue;
        }
        if text[s..e].chars().count() <= max_chars {
            spans.push((s, e));
            continue;
        }
        // Split an over-long "sentence" (a table, a list without punctuation) at word bounds.
        split_long(text, s, e, max_chars, &mut spans);
    }
    spans
}

/// Pack the words of `text[s..e]` into pieces of at most `max_chars` characters; a single word
/// longer than that is cut at character boundaries.
fn split_long(text: &str, s: usize, e: usize, max_chars: usize, spans: &mut Vec<(usize, usize)>) {
    let mut piece: Option<(usize, usize, usize)> = None; // (start, end, chars)
    let mut word_start = None;
    let mut words = Vec::new();
    for (i, c) in text[s..e]
        .char_indices()
        .chain(std::iter::once((e - s, ' ')))
    {
        match (c.is_whitespace(), word_start) {
            (false, None) => word_start = Some(s + i),
            (true, Some(ws)) => {
                words.push((ws, s + i));
                word_start = None;
            }
            _ => {}
        }
    }
    for (ws, we) in words {
        let wc = text[ws..we].chars().count();
        if wc > max_chars {
            if let Some((ps, pe, _)) = piece.take() {
                spans.push((ps, pe));
            }
            let mut cut = ws;
            let mut count = 0;
            for (i, _) in text[ws..we].char_indices() {
                if count == max_chars {
                    spans.push((cut, ws + i));
                    cut = ws + i;
                    count = 0;
                }
                count += 1;
            }
            spans.push((cut, we));
            continue;
        }
        piece = match piece {
            // Count the real gap: PDF tables pad words with long runs of spaces.
            Some((ps, _, _)) if text[ps..we].chars().count() <= max_chars => {
                Some((ps, we, text[ps..we].chars().count()))
            }
            Some((ps, pe, _)) => {
                spans.push((ps, pe));
                Some((ws, we, wc))
            }
            None => Some((ws, we, wc)),
        };
    }
    if let Some((ps, pe, _)) = piece {
        spans.push((ps, pe));
    }
}

fn chars_of(text: &str, span: (usize, usize)) -> usize {
    text[span.0..span.1].chars().count()
}

/// Chunk every page, numbering chunks across the whole document.
pub fn chunk_pages(pages: &[Page], options: &ChunkOptions) -> Vec<Chunk> {
    let mut out = Vec::new();
    for page in pages {
        for (s, e) in chunk_spans(&page.text, options) {
            out.push(Chunk {
                ordinal: out.len() as u32,
                page: page.number,
                byte_start: s,
                byte_end: e,
                text: page.text[s..e].to_owned(),
            });
        }
    }
    out
}

/// Chunk byte ranges of one text.
pub fn chunk_spans(text: &str, options: &ChunkOptions) -> Vec<(usize, usize)> {
    let sentences = sentence_spans(text, options.max_chars.max(1));
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    let mut first = 0; // index of the first sentence of the current chunk
    while first < sentences.len() {
        let mut last = first;
        let mut size = chars_of(text, sentences[first]);
        while last + 1 < sentences.len() {
            let next = chars_of(text, sentences[last + 1]);
            if size + 1 + next > options.target_chars {
                break;
            }
            size += 1 + next;
            last += 1;
        }
        chunks.push((sentences[first].0, sentences[last].1));
        if last + 1 >= sentences.len() {
            break;
        }
        // Start the next chunk with trailing sentences of this one, up to the overlap budget,
        // but always move forward by at least one sentence.
        let mut next_first = last + 1;
        let mut overlap = 0;
        while next_first > first + 1 {
            let candidate = chars_of(text, sentences[next_first - 1]);
            if overlap + candidate > options.overlap_chars {
                break;
            }
            overlap += candidate;
            next_first -= 1;
        }
        first = next_first;
    }
    // A short tail merges into its neighbour instead of standing alone (or being dropped).
    if chunks.len() >= 2
        && let Some(&(tail_start, tail_end)) = chunks.last()
        && text[tail_start..tail_end].chars().count() < options.min_chars
    {
        chunks.pop();
        if let Some(prev) = chunks.last_mut() {
            prev.1 = tail_end;
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(text: &str, spans: &[(usize, usize)]) -> bool {
        let mut mask = vec![false; text.len()];
        for (s, e) in spans {
            for m in &mut mask[*s..*e] {
                *m = true;
            }
        }
        text.char_indices()
            .all(|(i, c)| c.is_whitespace() || mask[i])
    }

    fn sample(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!("Sentence number {i} says that Councillor Lund met the port board again.")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn every_byte_is_in_some_chunk() {
        let text = sample(60);
        let spans = chunk_spans(&text, &ChunkOptions::default());
        assert!(spans.len() > 3);
        assert!(covered(&text, &spans));
    }

    #[test]
    fn chunks_overlap_and_respect_the_size_limit() {
        let text = sample(60);
        let options = ChunkOptions::default();
        let spans = chunk_spans(&text, &options);
        for pair in spans.windows(2) {
            assert!(pair[1].0 < pair[0].1, "consecutive chunks should overlap");
        }
        for (s, e) in &spans {
            assert!(text[*s..*e].chars().count() <= options.target_chars + options.min_chars);
        }
    }

    #[test]
    fn short_tail_merges_into_previous_chunk() {
        let options = ChunkOptions {
            target_chars: 100,
            max_chars: 200,
            overlap_chars: 0,
            min_chars: 40,
        };
        let text = format!(
            "{} Tail.",
            "A sentence of exactly fifty characters long here. "
                .repeat(2)
                .trim_end()
        );
        let spans = chunk_spans(&text, &options);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0], (0, text.len()));
    }

    #[test]
    fn a_giant_sentence_is_split_at_words_without_losing_text() {
        let text = "word ".repeat(1000);
        let options = ChunkOptions::default();
        let spans = chunk_spans(&text, &options);
        assert!(spans.len() >= 5);
        assert!(covered(&text, &spans));
        for (s, e) in &spans {
            assert!(text[*s..*e].chars().count() <= options.max_chars + options.min_chars);
        }
    }

    #[test]
    fn arabic_text_is_chunked_on_sentence_bounds() {
        let text = "قال رئيس البلدية إن الميناء سيفتح. ".repeat(40);
        let spans = chunk_spans(&text, &ChunkOptions::default());
        assert!(spans.len() > 1);
        assert!(covered(&text, &spans));
        for (s, e) in &spans {
            assert!(text.is_char_boundary(*s) && text.is_char_boundary(*e));
        }
    }

    #[test]
    fn pages_keep_their_numbers() {
        let pages = vec![
            Page {
                number: Some(1),
                text: "First page text.".into(),
            },
            Page {
                number: Some(2),
                text: "Second page text.".into(),
            },
        ];
        let chunks = chunk_pages(&pages, &ChunkOptions::default());
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].page, Some(2));
        assert_eq!(chunks[1].ordinal, 1);
        assert_eq!(chunks[1].text, "Second page text.");
    }
}
