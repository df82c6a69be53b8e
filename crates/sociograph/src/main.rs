//! `sociograph`: the one binary. Parses the command line, loads settings, sets up logging and
//! hands over to a command. Kept thin: the work lives in the library crates.

mod backend;
mod cli;
mod commands;
mod config;
mod logging;
mod worker;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line: the reason and its causes, for scripts and operators.
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            let line = chain
                .join(": ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("sociograph: error: {line}");
            std::process::ExitCode::FAILURE
        }
    }
}
