//! `sigwatch resolve -p PIPELINE RULE...`: show what pipelines make of rules — field names,
//! indices, added conditions, and which pipeline item made each change.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;
use sigma::pipeline::render;

use super::pipeline_args::PipelineArgs;
use crate::rules;

/// Apply pipelines to rules and print the resolved rules.
///
/// Exit status: 0 when every rule resolved, 1 when a pipeline refused a rule or a rule has
/// errors, 2 for usage, I/O or pipeline file problems.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Rule files or folders.
    #[arg(required = true, value_name = "RULE")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub pipelines: PipelineArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(chain) = args.pipelines.chain_reported() else {
        return Ok(ExitCode::from(super::EXIT_USAGE));
    };
    let loaded = match rules::load(&args.paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    let name = chain.name();
    let mut first = true;
    for f in &loaded.files {
        for d in f.loaded.diagnostics.iter().filter(|d| d.is_error()) {
            failed = true;
            eprint!("{}", d.render(&f.path, &f.text));
        }
        for rule in &f.loaded.rules {
            if !first {
                writeln!(out)?;
            }
            first = false;
            writeln!(out, "# {}", f.path)?;
            match chain.apply(rule) {
                Ok(r) => write!(out, "{}", render::resolved(&r, &name))?,
                Err(e) => {
                    failed = true;
                    writeln!(out, "rule: {}", rule.title())?;
                    writeln!(out, "refused: {e}")?;
                    if let Some(span) = e.span {
                        out.flush()?;
                        let d = sigma::Diagnostic::error("pipeline", span, e.message.clone());
                        eprint!("{}", d.render(&f.path, &f.text));
                    }
                }
            }
        }
    }
    for (path, reason) in &loaded.unreadable {
        eprintln!("error[io]: {path}: {reason}");
        failed = true;
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
