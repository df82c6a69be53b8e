//! Integration tests: the real app over real HTTP, real SQLite files in temp dirs, the real
//! binary for CLI and signal tests, and a local OpenAI-compatible server for the LLM paths.

mod answers;
mod backup;
mod bad_input;
mod cli;
mod cli_ask;
mod documents;
mod drain;
mod graph;
mod helpers;
mod hybrid;
mod languages;
mod limits;
mod llm;
mod llm_server;
mod s3;
mod scale;
mod search;
mod ui;
