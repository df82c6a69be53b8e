//! Token prices and the cost of a call: USD per million input and output tokens, per model.
//!
//! The table is configuration (providers change prices); a model missing from it has an
//! unknown cost, reported as such rather than as zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Usage;

/// What one model costs, in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

/// Prices by model name, exactly as the model is configured (`openai/gpt-4o-mini`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PriceTable(pub BTreeMap<String, Price>);

impl PriceTable {
    pub fn price(&self, model: &str) -> Option<Price> {
        self.0.get(model).copied()
    }

    /// USD for `usage` on `model`; `None` when the model has no price.
    pub fn cost(&self, model: &str, usage: Usage) -> Option<f64> {
        let price = self.price(model)?;
        Some(
            (usage.prompt_tokens as f64 * price.input_per_million
                + usage.completion_tokens as f64 * price.output_per_million)
                / 1_000_000.0,
        )
    }

    /// Every price must be a finite, non-negative number.
    pub fn validate(&self) -> Result<(), String> {
        for (model, p) in &self.0 {
            for (what, v) in [
                ("input_per_million", p.input_per_million),
                ("output_per_million", p.output_per_million),
            ] {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!("price of {model:?}: {what} = {v} is not a price"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_tokens_times_price_per_million() {
        let mut table = PriceTable::default();
        table.0.insert(
            "m".into(),
            Price {
                input_per_million: 0.15,
                output_per_million: 0.60,
            },
        );
        let usage = Usage {
            prompt_tokens: 2_000_000,
            completion_tokens: 500_000,
        };
        let cost = table.cost("m", usage).unwrap_or(f64::NAN);
        assert!((cost - 0.6).abs() < 1e-12, "{cost}");
        assert_eq!(table.cost("unknown", usage), None);
    }

    #[test]
    fn negative_prices_are_refused() {
        let mut table = PriceTable::default();
        table.0.insert(
            "m".into(),
            Price {
                input_per_million: -1.0,
                output_per_million: 0.0,
            },
        );
        assert!(table.validate().is_err());
    }
}
