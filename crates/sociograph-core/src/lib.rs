//! SocioGraph's domain logic, shared by the CLI and the HTTP server.
//!
//! `ingest` turns bytes into a stored document (load → chunk → embed → extract → index);
//! `retrieve` answers queries by fusing keyword, vector and graph rankings; `answer` turns
//! retrieved sources into a cited answer (through a language model, or extractively). This crate never
//! touches HTTP; storage and models come from `sociograph-store` and `sociograph-llm`.

pub mod answer;
pub mod cache;
pub mod chunk;
mod error;
pub mod extract;
pub mod graph;
pub mod ingest;
pub mod load;
pub mod retrieve;
pub mod types;

pub use error::{Error, Result};
