//! Gives the shared library its soname, `libnnet.so.<major>`, so that programs linked against
//! an installed copy (tools/install.sh) record the major version rather than the bare name.
//! The C header is not made here: `cargo run -p nnet-gen-header` writes include/nnet.h.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd"
    ) {
        let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnnet.so.{major}");
    }
}
