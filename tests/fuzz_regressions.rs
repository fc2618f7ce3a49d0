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

/// The seeds written as `Network::to_onnx` writes them (tools/fuzz_seeds.py) are networks, so
/// that fuzzing starts from graphs the importer takes, not only from refused ones.
#[test]
fn exported_onnx_seeds_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/onnx");
    for (name, layers, scaled) in [
        ("exported-2-3-1-tanh", &[2usize, 3, 1][..], false),
        ("exported-2-1-scaled", &[2, 1][..], true),
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let net = nnet::Network::from_onnx(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(net.layers(), layers, "{name}");
        assert_eq!(net.scaling().is_some(), scaled, "{name}");
        let target = net.scaling().and_then(|s| s.target_mean()).is_some();
        assert_eq!(target, scaled, "{name}");
    }
}
