//! The C ABI from C and C++: builds every program in `c_examples/` with `-Wall -Wextra
//! -Werror` (C11 and C++17) against the static and the shared library, runs it, and checks its
//! output.
//!
//! `cargo test` builds the library with all its crate types into `<target>/<profile>/deps/`
//! (it only copies them up to `<target>/<profile>/` for `cargo build`), so the tests link
//! `deps/libnnet.a` and `deps/libnnet.so` of the same build as this test binary. Where those are
//! missing, the first test runs `cargo build --lib` for the same profile and target directory.
//! The C compilers come from `CC` / `CXX` (default `cc` / `c++`). Under a cross or `--target`
//! build (the library is then not for the host C compiler) the tests say so and skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Where the library and the built programs are.
struct Setup {
    /// The directory holding `libnnet.a` and `libnnet.so`.
    lib_dir: PathBuf,
    /// Where the C programs are built.
    out_dir: PathBuf,
}

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The native libraries the Rust static library needs (`--print native-static-libs`).
const STATIC_LIBS: [&str; 7] = [
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

fn setup() -> Option<&'static Setup> {
    static SETUP: OnceLock<Option<Setup>> = OnceLock::new();
    SETUP.get_or_init(build_library).as_ref()
}

fn build_library() -> Option<Setup> {
    // this binary is <target>/<profile>/deps/c_api-<hash>
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent()?.parent()?.to_path_buf();
    let target_dir = profile_dir.parent()?.to_path_buf();
    // the host C compiler must produce code for the architecture this test runs as (under qemu
    // for a cross target it does not)
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let machine = std::process::Command::new(&cc)
        .arg("-dumpmachine")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !machine.starts_with(std::env::consts::ARCH) {
        eprintln!(
            "c_api: SKIPPED: the C compiler `{cc}` targets `{machine}`, this test runs as {}: \
             it cannot link this library",
            std::env::consts::ARCH
        );
        return None;
    }
    if !target_dir.join("CACHEDIR.TAG").exists() {
        eprintln!(
            "c_api: SKIPPED: {} is not a native target directory (a --target build); \
             the host C compiler cannot link this library",
            target_dir.display()
        );
        return None;
    }
    let profile = profile_dir.file_name()?.to_str()?.to_string();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("c_api-{profile}"));
    std::fs::create_dir_all(&out_dir).expect("creating the output directory");
    let deps = profile_dir.join("deps");
    if deps.join("libnnet.a").exists() && deps.join("libnnet.so").exists() {
        return Some(Setup {
            lib_dir: deps,
            out_dir,
        });
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(ROOT)
        .args(["build", "--lib", "--target-dir"])
        .arg(&target_dir);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.output().expect("running cargo build --lib");
    assert!(
        out.status.success(),
        "cargo build --lib failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for lib in ["libnnet.a", "libnnet.so"] {
        assert!(
            profile_dir.join(lib).exists(),
            "{lib} missing in {}",
            profile_dir.display()
        );
    }
    Some(Setup {
        lib_dir: profile_dir,
        out_dir,
    })
}

#[derive(Clone, Copy, Debug)]
enum Link {
    Static,
    Shared,
}

/// A folder laid out as an installed library: `libnnet.so` and the soname `libnnet.so.<major>`
/// (which build.rs gives the shared library, and which the loader looks for), both linking to
/// the build's `libnnet.so`.
fn shared_lib_dir(s: &Setup) -> PathBuf {
    let dir = s.out_dir.join("lib");
    std::fs::create_dir_all(&dir).unwrap();
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    for name in ["libnnet.so".to_string(), format!("libnnet.so.{major}")] {
        let (link, target) = (dir.join(name), s.lib_dir.join("libnnet.so"));
        if std::fs::read_link(&link).ok().as_ref() != Some(&target) {
            let _ = std::fs::remove_file(&link);
            // another test may make the same link meanwhile: either one will do
            let _ = std::os::unix::fs::symlink(&target, &link);
        }
    }
    dir
}

/// Compiles `c_examples/<source>` into `<out>/<test>/<link>/<name>` and returns the binary.
fn compile(s: &Setup, test: &str, source: &str, link: Link) -> PathBuf {
    let src = Path::new(ROOT).join("c_examples").join(source);
    let cpp = source.ends_with(".cpp");
    let name = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let dir = s
        .out_dir
        .join(test)
        .join(format!("{link:?}").to_lowercase());
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join(name);
    let compiler = if cpp {
        std::env::var("CXX").unwrap_or_else(|_| "c++".into())
    } else {
        std::env::var("CC").unwrap_or_else(|_| "cc".into())
    };
    let mut cmd = Command::new(&compiler);
    cmd.arg(if cpp { "-std=c++17" } else { "-std=c11" })
        .args(["-Wall", "-Wextra", "-Werror", "-O2", "-g", "-pthread"])
        .arg(format!("-I{ROOT}/include"))
        .arg(&src)
        .arg("-o")
        .arg(&bin);
    match link {
        Link::Static => {
            cmd.arg(s.lib_dir.join("libnnet.a")).args(STATIC_LIBS);
        }
        Link::Shared => {
            let lib = shared_lib_dir(s);
            cmd.arg(format!("-L{}", lib.display()))
                .arg("-lnnet")
                .arg(format!("-Wl,-rpath,{}", lib.display()))
                .arg("-lm");
        }
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the compiler {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} failed on {source} ({link:?}):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// Runs a program from the repository root and returns its stdout; fails on a non-zero exit.
fn run(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(bin);
    cmd.current_dir(ROOT).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {args:?} exited with {}:\n{stdout}{}",
        bin.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with("OK"), "no OK line:\n{stdout}");
    stdout
}

/// The number after `key` in `text` (up to the next space, comma or parenthesis).
fn number_after(text: &str, key: &str) -> f64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("{key:?} not in:\n{text}"));
    let rest = &text[at + key.len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|e| panic!("{key:?} is followed by {:?}: {e}", &rest[..end]))
}

/// Builds `source` for one test (`test` names its own output directory) with each kind of
/// linking and calls `check` on each binary.
fn both_links(test: &str, source: &str, mut check: impl FnMut(&Path, Link)) {
    let Some(s) = setup() else { return };
    for link in [Link::Static, Link::Shared] {
        let bin = compile(s, test, source, link);
        check(&bin, link);
    }
}

#[test]
fn xor_trains_saves_and_reloads() {
    both_links("xor", "xor.c", |bin, link| {
        let model = setup().unwrap().out_dir.join(format!("xor-{link:?}.nnet"));
        let out = run(bin, &[model.to_str().unwrap()], &[]);
        assert_eq!(out.matches("x = (").count(), 4, "{out}");
        for line in out.lines().filter(|l| l.starts_with("x = (")) {
            // "(class c, label l)": the network classifies every XOR point right
            let class = number_after(line, "(class ");
            let label = number_after(line, "label ");
            assert_eq!(class, label, "{line}");
        }
        assert!(
            out.contains("predictions identical; from a buffer: identical"),
            "{out}"
        );
        let bytes = std::fs::read(&model).unwrap();
        let net = nnet::Network::from_bytes(&bytes).unwrap();
        assert_eq!(net.layers(), &[2, 3, 1]);
    });
}

#[test]
fn xor_runs_on_the_forced_scalar_kernels() {
    both_links("xor-scalar", "xor.c", |bin, link| {
        let model = setup()
            .unwrap()
            .out_dir
            .join(format!("xor-scalar-{link:?}.nnet"));
        let out = run(bin, &[model.to_str().unwrap()], &[("NNET_ISA", "scalar")]);
        assert!(out.contains("kernels scalar"), "{out}");
    });
}

#[test]
fn regression_beats_the_mean_on_building() {
    both_links("regression", "regression.c", |bin, _| {
        let out = run(
            bin,
            &[
                "data/fann-building/building.train",
                "data/fann-building/building.test",
                "120",
            ],
            &[],
        );
        let mse = number_after(&out, "test MSE ");
        let mean = number_after(&out, "predicting the training mean: ");
        assert!(mse.is_finite() && mse > 0.0 && mse < 0.5 * mean, "{out}");
        let run = number_after(&out, "early stopping: ");
        let best = number_after(&out, "best epoch ");
        assert!(best >= 1.0 && best <= run && run <= 120.0, "{out}");
        // the split of nnet_dataset_split: 25% of the 2104 training rows validate
        assert_eq!(number_after(&out, "training rows ("), 526.0, "{out}");
        // saved with its standardization, reloaded: bitwise the same predictions, which
        // differ without the standardization
        assert!(
            out.contains("reloaded: predictions identical; without the scaling: different"),
            "{out}"
        );
    });
}

#[test]
fn classify_cpp_on_iris() {
    both_links("classify", "classify.cpp", |bin, _| {
        let out = run(
            bin,
            &[
                "data/sklearn-iris/iris.train.csv",
                "data/sklearn-iris/iris.test.csv",
            ],
            &[],
        );
        let acc = number_after(&out, "test accuracy ");
        assert!((0.8..=1.0).contains(&acc), "{out}");
        // iris.train.csv: 112 rows, 80% of them train (nnet_dataset_split), 38 test rows
        assert!(
            out.contains("4-16-3 tanh network, 90 training rows (22 validate), 38 test rows"),
            "{out}"
        );
        assert!(out.contains("a NaN input throws"), "{out}");
        assert!(out.contains("(status 4)"), "{out}");
    });
}

#[test]
fn bad_input_is_rejected_everywhere() {
    both_links("bad_input", "tests/bad_input.c", |bin, _| {
        let out = run(bin, &[], &[]);
        let cases = number_after(&out, "bad_input: ");
        let failures = number_after(&out, "cases, ");
        assert_eq!(failures, 0.0, "{out}");
        // every truncation and every bit flip of the saved model is among the cases
        let truncations = number_after(&out, "corrupt models: ");
        let flips = number_after(&out, "truncations and ");
        assert!(truncations >= 100.0 && flips == 8.0 * truncations, "{out}");
        assert!(cases > truncations + flips + 200.0, "{out}");
    });
}

#[test]
fn concurrent_predict_and_gradient_match_one_thread() {
    both_links("threads", "tests/threads.c", |bin, _| {
        let out = run(bin, &[], &[]);
        assert!(out.contains("0 mismatches, 0 failed calls"), "{out}");
    });
}
