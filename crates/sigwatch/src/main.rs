//! The `sigwatch` binary: parse arguments, run the command, map errors to exit codes.

mod cli;
mod rules;
mod source;

fn main() -> std::process::ExitCode {
    cli::main()
}
