//! Citation checking for generated answers, usable on a stream.
//!
//! An answer cites sources as `[n]`, `[n, m]` or `[n][m]`. [`CitationFilter`] passes text
//! through unchanged except that numbers matching no source are removed (a bracket left empty
//! disappears with the space before it), so a model can never point a reader at a source that
//! does not exist. It also drops leading and trailing whitespace. Because it is incremental,
//! the streamed answer and the complete answer are the same text: the complete answer is just
//! the whole reply pushed through at once.

/// Longest bracket considered a citation (in bytes); anything longer is ordinary text.
const MAX_BRACKET: usize = 400;

/// ASCII, Arabic-Indic and Eastern Arabic-Indic digits: a translated answer cites `[١]`.
fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        _ => None,
    }
}

/// Separators inside a citation list: `[1, 2]`, `[1; 2]`, `[١، ٢]`.
fn is_separator(c: char) -> bool {
    matches!(c, ',' | ';' | '\u{060C}')
}

/// A citation number in any of the digit systems above.
fn parse_number(part: &str) -> Option<usize> {
    if part.is_empty() {
        return None;
    }
    part.chars().try_fold(0usize, |n, c| {
        let d = digit_value(c)?;
        n.checked_mul(10)?.checked_add(d as usize)
    })
}

/// Removes citations of sources that do not exist, incrementally.
#[derive(Debug)]
pub struct CitationFilter {
    sources: usize,
    /// Whitespace seen but not yet emitted: it is dropped if an invalid citation follows it or
    /// the answer ends.
    space: String,
    /// An open `[…` whose fate is not decided yet.
    bracket: Option<String>,
    started: bool,
    cited: Vec<usize>,
}

impl CitationFilter {
    /// A filter for an answer given `sources` numbered sources (`[1]` … `[sources]`).
    pub fn new(sources: usize) -> Self {
        CitationFilter {
            sources,
            space: String::new(),
            bracket: None,
            started: false,
            cited: Vec::new(),
        }
    }

    /// Feed more model output; returns the text that can be shown now.
    pub fn push(&mut self, text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            self.step(c, &mut out);
        }
        out
    }

    /// The end of the answer: returns what was held back (an unclosed bracket is plain text).
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        if let Some(open) = self.bracket.take() {
            self.emit(&open, &mut out);
        }
        self.space.clear();
        out
    }

    /// Source numbers cited, in order of first citation.
    pub fn cited(&self) -> &[usize] {
        &self.cited
    }

    fn emit(&mut self, text: &str, out: &mut String) {
        if self.started {
            out.push_str(&self.space);
        }
        self.space.clear();
        out.push_str(text);
        self.started = true;
    }

    fn step(&mut self, c: char, out: &mut String) {
        if c == '[' && self.bracket.is_some() {
            // "[[9]]": the first bracket was text; the new one may be a citation.
            if let Some(open) = self.bracket.take() {
                self.emit(&open, out);
            }
            self.bracket = Some("[".into());
            return;
        }
        if let Some(open) = &mut self.bracket {
            open.push(c);
            let citation_like = digit_value(c).is_some() || is_separator(c) || c == ' ';
            if c == ']' {
                let Some(open) = self.bracket.take() else {
                    return;
                };
                self.close(&open, out);
            } else if !citation_like || open.len() > MAX_BRACKET {
                // Not a citation ("[sic]"): ordinary text.
                let Some(open) = self.bracket.take() else {
                    return;
                };
                self.emit(&open, out);
            }
            return;
        }
        if c == '[' {
            self.bracket = Some("[".into());
        } else if c.is_whitespace() {
            self.space.push(c);
        } else {
            let mut buf = [0u8; 4];
            self.emit(c.encode_utf8(&mut buf), out);
        }
    }

    /// A complete `[…]`: keep the valid numbers, drop the rest.
    fn close(&mut self, bracket: &str, out: &mut String) {
        let inner = &bracket[1..bracket.len() - 1];
        let parts: Vec<&str> = inner.split(is_separator).map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) || parts.is_empty() {
            // "[]" or "[1,,2]": not a citation.
            self.emit(bracket, out);
            return;
        }
        let valid: Vec<usize> = parts
            .iter()
            .filter_map(|p| parse_number(p))
            .filter(|n| (1..=self.sources).contains(n))
            .collect();
        if valid.is_empty() {
            self.space.clear();
            return;
        }
        for n in &valid {
            if !self.cited.contains(n) {
                self.cited.push(*n);
            }
        }
        let kept = if valid.len() == parts.len() {
            bracket.to_owned()
        } else {
            let list: Vec<String> = valid.iter().map(usize::to_string).collect();
            format!("[{}]", list.join(", "))
        };
        self.emit(&kept, out);
    }
}

/// The whole `text` through a fresh filter: the checked answer and the sources it cites.
pub fn check(text: &str, sources: usize) -> (String, Vec<usize>) {
    let mut filter = CitationFilter::new(sources);
    let mut out = filter.push(text);
    out.push_str(&filter.finish());
    (out, filter.cited().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_citations_stay_and_invented_ones_go_with_their_space() {
        let (text, cited) = check(
            "Lund won the election [1]. Marsh paid the party [9]. Both met [2][7].",
            3,
        );
        assert_eq!(
            text,
            "Lund won the election [1]. Marsh paid the party. Both met [2]."
        );
        assert_eq!(cited, vec![1, 2]);
    }

    #[test]
    fn lists_keep_only_the_valid_numbers() {
        assert_eq!(check("Yes [1, 4, 2].", 2).0, "Yes [1, 2].");
        assert_eq!(check("Yes [0].", 2).0, "Yes.");
    }

    #[test]
    fn nested_brackets_arabic_digits_and_long_lists_are_checked_too() {
        assert_eq!(check("see [[9]] here [[2]].", 3).0, "see [] here [[2]].");
        assert_eq!(check("x [١] y [٩].", 3), ("x [١] y.".to_owned(), vec![1]));
        assert_eq!(check("z [١، ٣، ٩].", 3).0, "z [1, 3].");
        let list = |to: usize| {
            (1..=to)
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        assert_eq!(
            check(&format!("w [{}, 99].", list(12)), 12).0,
            format!("w [{}].", list(12))
        );
    }

    #[test]
    fn brackets_that_are_not_citations_are_left_alone() {
        for text in [
            "He [sic] said so.",
            "Array [] here.",
            "Open [1 and never closed",
        ] {
            assert_eq!(check(text, 5).0, text);
        }
    }

    #[test]
    fn streaming_in_any_pieces_gives_the_same_text_as_all_at_once() {
        let reply = "  Helena Brandt [2] backed the plan [9], funded by Marsh Holdings [1,3].  ";
        let whole = check(reply, 2);
        for size in 1..=7 {
            let mut filter = CitationFilter::new(2);
            let chars: Vec<char> = reply.chars().collect();
            let mut streamed = String::new();
            for piece in chars.chunks(size) {
                streamed.push_str(&filter.push(&piece.iter().collect::<String>()));
            }
            streamed.push_str(&filter.finish());
            assert_eq!(streamed, whole.0, "piece size {size}");
        }
        assert_eq!(
            whole.0,
            "Helena Brandt [2] backed the plan, funded by Marsh Holdings [1]."
        );
    }
}
