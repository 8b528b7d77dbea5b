//! Running the `sigwatch` binary as a user does, for the CLI tests.
#![allow(dead_code)] // each test file uses its part

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

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

/// Waits for `child`, killing it after `limit`: a hang fails the test (naming `what`) instead
/// of the run.
pub fn output_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("waits");
            panic!(
                "{what} hung; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("waits")
}

/// Makes a FIFO at `path`; false (with a note) where `mkfifo` is not available.
pub fn mkfifo(path: &Path) -> bool {
    let made = Command::new("mkfifo").arg(path).status();
    if !made.is_ok_and(|status| status.success()) {
        eprintln!("mkfifo not available; FIFO test not run");
        return false;
    }
    true
}
