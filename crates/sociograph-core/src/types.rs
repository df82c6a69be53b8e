//! Validated request values: built by `parse`, so downstream code never sees a bad one.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A search query: trimmed, non-empty, at most [`Query::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query(String);

impl Query {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self> {
        let q = raw.trim();
        if q.is_empty() {
            return Err(Error::InvalidInput(
                "the query is empty: pass q=<words to search for>".into(),
            ));
        }
        let chars = q.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(Error::InvalidInput(format!(
                "the query is {chars} characters long; the limit is {}",
                Self::MAX_CHARS
            )));
        }
        if q.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(Error::InvalidInput(
                "the query contains control characters".into(),
            ));
        }
        Ok(Query(q.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many hits to return: 1..=[`TopK::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopK(usize);

impl TopK {
    pub const MAX: usize = 100;
    pub const DEFAULT: TopK = TopK(10);

    pub fn parse(k: i64) -> Result<Self> {
        if !(1..=Self::MAX as i64).contains(&k) {
            return Err(Error::InvalidInput(format!(
                "k must be between 1 and {}, got {k}",
                Self::MAX
            )));
        }
        Ok(TopK(k as usize))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// Retrieval mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Vector (ANN) only.
    Naive,
    /// FTS5 BM25 only.
    Keyword,
    /// Graph: entities named in the query, their neighbourhood, the chunks that support it.
    Local,
    /// All three fused with reciprocal-rank fusion.
    #[default]
    Hybrid,
}

impl Mode {
    pub fn parse(raw: &str) -> Result<Self> {
        Ok(match raw.trim().to_ascii_lowercase().as_str() {
            "naive" | "vector" => Mode::Naive,
            "keyword" => Mode::Keyword,
            "local" | "graph" => Mode::Local,
            "hybrid" => Mode::Hybrid,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown mode {other:?}: use naive, keyword, local or hybrid"
                )));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Naive => "naive",
            Mode::Keyword => "keyword",
            Mode::Local => "local",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// The language an answer is wanted in: a BCP 47 tag such as `ar`, `en` or `pt-BR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Self> {
        let tag = raw.trim();
        let mut parts = tag.split(['-', '_']);
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !primary_ok || !rest_ok || tag.len() > 35 {
            return Err(Error::InvalidInput(format!(
                "language {raw:?} is not a language tag; use a code such as \"ar\", \"en\" or \"fr\""
            )));
        }
        Ok(Language(tag.replace('_', "-")))
    }

    /// The primary language subtag, lower-cased (`pt-BR` → `pt`).
    pub fn primary(&self) -> String {
        self.0
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language's English name for prompts (the tag itself when not in the short list).
    pub fn name(&self) -> String {
        let name = match self.primary().as_str() {
            "ar" => "Arabic",
            "en" => "English",
            "fr" => "French",
            "es" => "Spanish",
            "de" => "German",
            "it" => "Italian",
            "pt" => "Portuguese",
            "nl" => "Dutch",
            "ru" => "Russian",
            "uk" => "Ukrainian",
            "tr" => "Turkish",
            "fa" => "Persian",
            "ur" => "Urdu",
            "he" => "Hebrew",
            "hi" => "Hindi",
            "zh" => "Chinese",
            "ja" => "Japanese",
            "ko" => "Korean",
            "sv" => "Swedish",
            "no" | "nb" => "Norwegian",
            "da" => "Danish",
            "pl" => "Polish",
            _ => return format!("the language with the tag {}", self.0),
        };
        name.to_owned()
    }
}

/// A document id: `doc_` + 16 hex digits of the content's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentId(String);

impl DocumentId {
    pub fn from_hash(content_hash: &str) -> Self {
        DocumentId(format!(
            "doc_{}",
            &content_hash[..16.min(content_hash.len())]
        ))
    }

    pub fn parse(raw: &str) -> Result<Self> {
        let ok = raw.len() == 20
            && raw.starts_with("doc_")
            && raw[4..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if !ok {
            return Err(Error::InvalidInput(format!(
                "{raw:?} is not a document id (expected doc_ followed by 16 lowercase hex digits)"
            )));
        }
        Ok(DocumentId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_huge_queries_are_rejected_with_reasons() {
        assert!(matches!(Query::parse("   "), Err(Error::InvalidInput(m)) if m.contains("empty")));
        let huge = "a".repeat(100_000);
        assert!(matches!(Query::parse(&huge), Err(Error::InvalidInput(m)) if m.contains("limit")));
        assert_eq!(
            Query::parse("  mayor ").map(|q| q.as_str().to_owned()).ok(),
            Some("mayor".into())
        );
    }

    #[test]
    fn top_k_bounds() {
        assert!(TopK::parse(0).is_err());
        assert!(TopK::parse(101).is_err());
        assert_eq!(TopK::parse(5).map(TopK::get).ok(), Some(5));
    }

    #[test]
    fn language_tags_are_checked_and_named() {
        assert_eq!(
            Language::parse(" ar ").map(|l| l.name()).ok().as_deref(),
            Some("Arabic")
        );
        assert_eq!(
            Language::parse("pt_BR")
                .map(|l| l.primary())
                .ok()
                .as_deref(),
            Some("pt")
        );
        for bad in ["", "arabic language", "a", "en-", "../x"] {
            assert!(Language::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn document_ids_are_strict() {
        assert!(DocumentId::parse("doc_0123456789abcdef").is_ok());
        assert!(DocumentId::parse("doc_../../etc/passwd").is_err());
        assert!(DocumentId::parse("doc_0123456789ABCDEF").is_err());
    }
}
