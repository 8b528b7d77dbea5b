//! `sigwatch pipeline list|show`: the built-in pipelines, and any pipeline in normalised form.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use sigma::pipeline::{builtin, native};

use super::pipeline_args;

/// Inspect pipelines (field mappings and log-source routing).
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List the built-in pipelines.
    List,
    /// Print a pipeline (built-in name or file, any format) in sigwatch's normalised format.
    Show {
        /// Built-in name or file.
        #[arg(value_name = "NAME|FILE")]
        name: String,
        /// Read the file as a sigmac configuration.
        #[arg(long)]
        sigmac: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.command {
        Cmd::List => {
            for n in builtin::NAMES {
                writeln!(out, "{n:<14} {}", builtin::describe(n).unwrap_or_default())?;
            }
        }
        Cmd::Show { name, sigmac } => {
            let loaded = if sigmac {
                pipeline_args::load_sigmac(&name)
            } else {
                pipeline_args::load(&name)
            };
            match loaded {
                Ok(p) => {
                    for w in &p.warnings {
                        let text = p.source.as_ref().map_or("", |s| &s.text);
                        eprint!("{}", w.render(&p.name, text));
                    }
                    write!(out, "{}", native::write(&p))?;
                }
                Err(e) => {
                    out.flush()?;
                    eprint!("{}", e.render());
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
