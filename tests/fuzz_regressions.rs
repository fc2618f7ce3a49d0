//! Replays every fuzz input kept in the repository through the fuzz targets' own bodies:
//! the crash inputs found by fuzzing (tests/fuzz_regressions/<target>/) and the seed corpora
//! (fuzz/corpus/<target>/). Each must return normally.

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::Path;

fn replay(root: &Path) -> usize {
    let mut n = 0;
    for target in targets::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let ok = std::panic::catch_unwind(|| targets::run(target, &data));
            assert!(
                matches!(ok, Ok(true)),
                "{target} fails on {}",
                path.display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn fuzz_regression_inputs_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    replay(&root.join("tests/fuzz_regressions"));
}

#[test]
fn seed_corpora_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = replay(&root.join("fuzz/corpus"));
    assert!(n >= targets::TARGETS.len(), "only {n} corpus files");
}
