//! `-p/--pipeline` and `-c/--config`: the pipelines every command that takes rules accepts.

use std::path::Path;

use clap::Args;
use sigma::pipeline::{self, Chain, Pipeline, PipelineError};

/// Pipelines to apply to rules, in command-line order.
#[derive(Debug, Clone, Default, Args)]
pub struct PipelineArgs {
    /// A pipeline: a built-in name (evtx, windows-flat, ecs-windows, helk) or a file (sigwatch,
    /// pySigma or sigmac format). Repeatable; applied in command-line order.
    #[arg(short = 'p', long = "pipeline", value_name = "NAME|FILE")]
    pub pipelines: Vec<String>,
    /// A legacy sigmac configuration file. Repeatable; chained as sigmac did (in increasing
    /// `order`).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub configs: Vec<String>,
}

impl PipelineArgs {
    /// `-p` and `-c` values in the order they were given on the command line (clap keeps each
    /// option's values separately, so the order comes from the raw arguments).
    fn ordered(&self) -> Vec<(bool, String)> {
        let args: Vec<String> = std::env::args().collect();
        order_from_args(&args, &self.pipelines, &self.configs)
    }

    /// Load every pipeline and chain them.
    pub fn chain(&self) -> Result<Chain, PipelineError> {
        let mut list = Vec::new();
        for (is_config, name) in self.ordered() {
            list.push(if is_config {
                load_sigmac(&name)?
            } else {
                load(&name)?
            });
        }
        Chain::new(list)
    }

    /// [`chain`](Self::chain), telling the user what they must see: the error (then `None`,
    /// a usage error for the caller) or the pipelines' warnings.
    pub fn chain_reported(&self) -> Option<Chain> {
        match self.chain() {
            Ok(chain) => {
                for p in &chain.pipelines {
                    let text = p.source.as_ref().map_or("", |s| &s.text);
                    for w in &p.warnings {
                        eprint!("{}", w.render(&p.name, text));
                    }
                }
                Some(chain)
            }
            Err(e) => {
                eprint!("{}", e.render());
                None
            }
        }
    }
}

/// Recover the interleaving of `-p` and `-c` values from the raw arguments; falls back to all
/// `-c` then all `-p` when the arguments cannot be matched (they always can from a real
/// command line).
pub fn order_from_args(
    args: &[String],
    pipelines: &[String],
    configs: &[String],
) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let (mut pi, mut ci) = (0, 0);
    let mut it = args.iter().skip(1).peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let (kind, inline) = if let Some(v) = a.strip_prefix("--pipeline=") {
            (Some(false), Some(v.to_owned()))
        } else if let Some(v) = a.strip_prefix("--config=") {
            (Some(true), Some(v.to_owned()))
        } else if a == "--pipeline" || a == "-p" {
            (Some(false), None)
        } else if a == "--config" || a == "-c" {
            (Some(true), None)
        } else if let Some(v) = a.strip_prefix("-p").filter(|_| !a.starts_with("--")) {
            (Some(false), Some(v.trim_start_matches('=').to_owned()))
        } else if let Some(v) = a.strip_prefix("-c").filter(|_| !a.starts_with("--")) {
            (Some(true), Some(v.trim_start_matches('=').to_owned()))
        } else {
            (None, None)
        };
        let Some(is_config) = kind else { continue };
        let value = match inline {
            Some(v) => v,
            None => match it.next() {
                Some(v) => v.clone(),
                None => break,
            },
        };
        if is_config && configs.get(ci) == Some(&value) {
            ci += 1;
            out.push((true, value));
        } else if !is_config && pipelines.get(pi) == Some(&value) {
            pi += 1;
            out.push((false, value));
        }
    }
    if pi != pipelines.len() || ci != configs.len() {
        let mut all: Vec<(bool, String)> = configs.iter().map(|c| (true, c.clone())).collect();
        all.extend(pipelines.iter().map(|p| (false, p.clone())));
        return all;
    }
    out
}

/// A pipeline by built-in name, or else from a file (any format).
pub fn load(name: &str) -> Result<Pipeline, PipelineError> {
    if let Some(p) = pipeline::builtin::get(name) {
        return p;
    }
    let text = std::fs::read_to_string(name).map_err(|e| {
        let hint = if Path::new(name).extension().is_none() && !name.contains('/') {
            format!(
                " (built-in pipelines: {})",
                pipeline::builtin::NAMES.join(", ")
            )
        } else {
            String::new()
        };
        PipelineError::plain(
            name,
            format!(
                "cannot read pipeline: {}{hint}",
                crate::rules::io_reason(&e)
            ),
        )
    })?;
    pipeline::read(name, &text)
}

/// A sigmac configuration file (`-c`).
pub fn load_sigmac(path: &str) -> Result<Pipeline, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        PipelineError::plain(
            path,
            format!("cannot read configuration: {}", crate::rules::io_reason(&e)),
        )
    })?;
    pipeline::sigmac::read(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn keeps_command_line_order() {
        let args = s(&[
            "sigwatch",
            "resolve",
            "-c",
            "a.yml",
            "-p",
            "evtx",
            "--config=b.yml",
            "-pecs-windows",
            "rule.yml",
        ]);
        let got = order_from_args(&args, &s(&["evtx", "ecs-windows"]), &s(&["a.yml", "b.yml"]));
        assert_eq!(
            got,
            vec![
                (true, "a.yml".into()),
                (false, "evtx".into()),
                (true, "b.yml".into()),
                (false, "ecs-windows".into())
            ]
        );
    }
}
