//! A save killed in the middle leaves the previous model file loadable and unchanged.
//!
//! A child process (this test binary again, running `save_loop_child`) saves two networks over
//! one file in turn, as fast as it can; the parent SIGKILLs it at pseudo-random moments, 24
//! times, and after every kill checks that the file is exactly one of the two models, whole.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nnet::{Network, Output};

mod child_process;
use child_process::self_command;

const CHILD_ENV: &str = "NNET_ATOMIC_SAVE_CHILD";
const KILLS: usize = 24;

/// The two models saved in turn: about 350 KB each, so that a save takes a while.
fn models() -> (Network, Network) {
    let layers = [64, 256, 256, 10];
    (
        Network::new(&layers, Output::Tanh, 1, 0.5).unwrap(),
        Network::new(&layers, Output::Tanh, 2, 0.5).unwrap(),
    )
}

/// Runs only as the child of `a_killed_save_leaves_a_whole_model`: saves both models over
/// the file named by the environment until it is killed.
#[test]
fn save_loop_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let (a, b) = models();
    println!("ready");
    loop {
        b.save(&path).unwrap();
        a.save(&path).unwrap();
    }
}

/// Whether the directory holds anything besides the model file (a temporary file of a save
/// that was killed).
fn leftovers(dir: &Path, model: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path() != model)
        .count()
}

#[test]
fn a_killed_save_leaves_a_whole_model() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("nnet-atomic-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.nnet");
    let (a, b) = models();
    let (bytes_a, bytes_b) = (a.to_bytes().unwrap(), b.to_bytes().unwrap());
    assert_ne!(bytes_a, bytes_b);
    a.save(&path).unwrap();

    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut mid_save = 0;
    for kill in 0..KILLS {
        let mut child = self_command()
            .args([
                "--exact",
                "save_loop_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // wait until the child runs ("ready" may end the harness's own line), then let it
        // run for 0-25 ms
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the child exited");
            if line.trim_end().ends_with("ready") {
                break;
            }
        }
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_micros((state >> 33) % 25_000));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success(), "kill {kill}: the child was not killed");

        let on_disk = std::fs::read(&path).unwrap();
        assert!(
            on_disk == bytes_a || on_disk == bytes_b,
            "kill {kill}: the file is neither model ({} bytes)",
            on_disk.len()
        );
        let loaded = Network::load(&path).unwrap();
        let want = if on_disk == bytes_a { &a } else { &b };
        assert_eq!(loaded.weights(), want.weights(), "kill {kill}");
        // a temporary file left behind means the kill landed inside a save
        if leftovers(&dir, &path) > 0 {
            mid_save += 1;
        }
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p != path {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    println!("{KILLS} kills, {mid_save} inside a save (a temporary file was left)");
    std::fs::remove_dir_all(&dir).unwrap();
}
