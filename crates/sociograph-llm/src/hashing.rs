//! A model-free embedder: signed feature hashing of words and character trigrams.
//!
//! It captures lexical overlap only (no synonyms), which is enough for tests, for machines
//! without a model, and as a fallback. Deterministic across runs and platforms (FNV-1a).

use crate::Result;
use crate::embed::{Embedder, l2_normalize};

/// Feature-hashing embedder with `dimensions` buckets.
pub struct HashingEmbedder {
    dimensions: usize,
    id: String,
}

impl HashingEmbedder {
    pub fn new(dimensions: usize) -> Self {
        HashingEmbedder {
            dimensions: dimensions.max(8),
            id: "hashing-v1".to_owned(),
        }
    }

    fn add(&self, v: &mut [f32], feature: &str, weight: f32) {
        let h = fnv1a(feature.as_bytes());
        let bucket = (h % self.dimensions as u64) as usize;
        let sign = if (h >> 63) & 1 == 1 { -1.0 } else { 1.0 };
        v[bucket] += sign * weight;
    }

    fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dimensions];
        let lower = text.to_lowercase();
        for word in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            self.add(&mut v, word, 1.0);
            let padded: Vec<char> = format!(" {word} ").chars().collect();
            for tri in padded.windows(3) {
                let s: String = tri.iter().collect();
                self.add(&mut v, &s, 0.35);
            }
        }
        // Sublinear term frequency keeps one repeated word from dominating.
        for x in v.iter_mut() {
            *x = x.signum() * (1.0 + x.abs()).ln();
        }
        l2_normalize(&mut v);
        v
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl Embedder for HashingEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn similar_texts_are_closer_than_unrelated_ones() -> Result<()> {
        let e = HashingEmbedder::new(384);
        let v = e.embed(&[
            "the mayor backed the port deal",
            "mayor backs port deal",
            "fish soup recipe",
        ])?;
        assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]));
        assert!((cos(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        Ok(())
    }

    #[test]
    fn is_deterministic() -> Result<()> {
        let e = HashingEmbedder::new(64);
        assert_eq!(e.embed(&["Port Halvard"])?, e.embed(&["Port Halvard"])?);
        Ok(())
    }
}
