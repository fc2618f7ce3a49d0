//! Generates include/nnet.h from src/capi (and nothing else) with cbindgen (settings in cbindgen.toml). The header
//! is committed; CI checks that a build leaves it unchanged.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/capi");
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    match cbindgen::Builder::new()
        // only the C ABI module (and its submodules): nothing else of the crate leaks into C
        .with_src(crate_dir.join("src/capi/mod.rs"))
        .with_config(config)
        .generate()
    {
        // write_to_file rewrites the header only when its contents change
        Ok(bindings) => {
            bindings.write_to_file(crate_dir.join("include/nnet.h"));
        }
        Err(e) => panic!("cbindgen could not generate include/nnet.h: {e}"),
    }
}
