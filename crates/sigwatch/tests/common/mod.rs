//! Running the `sigwatch` binary as a user does, for the CLI tests.
#![allow(dead_code)] // each test file uses its part

use std::process::Command;

/// Runs `sigwatch` with `args`: (exit code, stdout, stderr); the code is -1 when a signal
/// ended it.
pub fn run(args: &[&str]) -> (i32, String, String) {
    run_env(args, &[], &[])
}

/// [`run`] with the variables of `env` set and those of `unset` removed.
pub fn run_env(args: &[&str], env: &[(&str, &str)], unset: &[&str]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sigwatch"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    for k in unset {
        c.env_remove(k);
    }
    let out = c.output().expect("sigwatch runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
