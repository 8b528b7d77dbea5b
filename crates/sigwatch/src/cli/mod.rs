//! Command-line interface. Thin by design: each subcommand lives in its own module with an
//! `Args` struct (clap) and a `run` function; this module only dispatches and maps errors to
//! exit codes.
//!
//! Exit codes: 0 success; 1 a finding that fails the command (for example a rule with an error in
//! `check`) or a fatal error a command reports itself while running; 2 usage problems (bad
//! arguments, a missing input path, an unwritable output) and any other error that reaches
//! `main` as `Err`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod convert;
mod dump;
mod fields;
mod hunt;
mod list;
mod output_file;
mod pipeline;
pub mod pipeline_args;
mod resolve;

#[derive(Debug, Parser)]
#[command(name = "sigwatch", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Check(check::Args),
    Dump(dump::Args),
    Hunt(hunt::Args),
    Pipeline(pipeline::Args),
    Resolve(resolve::Args),
    Convert(Box<convert::Args>),
    List(list::Args),
    Fields(fields::Args),
}

/// Exit code for usage and I/O problems.
pub const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `hunt` promises 1 for every fatal error, bad arguments included.
            let hunt = std::env::args().nth(1).is_some_and(|a| a == "hunt");
            let code = match (e.use_stderr(), hunt) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Dump(args) => dump::run(args),
        Command::Hunt(args) => hunt::run(args),
        Command::Pipeline(args) => pipeline::run(args),
        Command::Resolve(args) => resolve::run(args),
        Command::Convert(args) => convert::run(*args),
        Command::List(args) => list::run(args),
        Command::Fields(args) => fields::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `sigwatch ... | head` must end quietly, not with an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}
