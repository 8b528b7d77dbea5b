//! `sigwatch list`: what this build supports.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};

/// List what sigwatch supports.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Conversion targets: names, aliases, formats and what each refuses.
    Targets,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.what {
        What::Targets => {
            for b in convert::backends() {
                writeln!(out, "{}", b.name())?;
                writeln!(out, "  {}", b.description())?;
                if !b.aliases().is_empty() {
                    writeln!(out, "  aliases: {}", b.aliases().join(", "))?;
                }
                writeln!(out, "  formats:")?;
                for f in b.formats() {
                    writeln!(
                        out,
                        "    {:<10} .{:<8} {}",
                        f.name, f.extension, f.description
                    )?;
                }
                writeln!(out, "  refuses:")?;
                for r in b.refuses() {
                    writeln!(out, "    - {r}")?;
                }
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
