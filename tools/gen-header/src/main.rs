//! Writes include/nnet.h from src/capi (and nothing else) with cbindgen, using the settings in
//! cbindgen.toml. The header is committed; CI runs this with `--check`.
//!
//! ```text
//! cargo run -p nnet-gen-header             rewrite include/nnet.h when it differs
//! cargo run -p nnet-gen-header -- --check  exit 1 when include/nnet.h is not current
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The header cbindgen makes from the crate at `root`.
fn generate(root: &Path) -> Result<Vec<u8>, String> {
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .map_err(|e| format!("{}: {e}", root.join("cbindgen.toml").display()))?;
    let bindings = cbindgen::Builder::new()
        // only the C ABI module (and its submodules): nothing else of the crate leaks into C
        .with_src(root.join("src/capi/mod.rs"))
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen could not generate the header: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [a] if a == "--check" => true,
        _ => {
            eprintln!("usage: nnet-gen-header [--check]");
            return ExitCode::from(2);
        }
    };
    // tools/gen-header -> the repository root
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let header = root.join("include/nnet.h");
    let fresh = match generate(&root) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("nnet-gen-header: {e}");
            return ExitCode::FAILURE;
        }
    };
    let current = std::fs::read(&header).ok();
    if current.as_deref() == Some(&fresh[..]) {
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!(
            "nnet-gen-header: include/nnet.h is not current: run `cargo run -p nnet-gen-header`"
        );
        return ExitCode::FAILURE;
    }
    match std::fs::write(&header, &fresh) {
        Ok(()) => {
            eprintln!("nnet-gen-header: wrote {}", header.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nnet-gen-header: {}: {e}", header.display());
            ExitCode::FAILURE
        }
    }
}
