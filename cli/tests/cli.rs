//! End-to-end runs of the `nnet` binary on the shipped data sets and on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(rel)
}

/// A fresh scratch folder for one test under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn nnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnet"))
        .args(args)
        .output()
        .expect("the nnet binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and asserts success, returning standard output.
fn ok(args: &[&str]) -> String {
    let o = nnet(args);
    assert!(o.status.success(), "nnet {args:?} failed: {}", stderr(&o));
    stdout(&o)
}

/// Runs and asserts a non-zero exit with one line of error, returning it.
fn fails(args: &[&str]) -> String {
    let o = nnet(args);
    assert!(!o.status.success(), "nnet {args:?} succeeded");
    let err = stderr(&o);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line of error: {err}"
    );
    assert!(err.starts_with("nnet: "), "{err}");
    err
}

/// The number after `key ` in a line of `text`.
fn value(text: &str, key: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no '{key}' in {text}"))
}

#[test]
fn digits_train_predict_eval_info() {
    let dir = scratch("digits");
    let model = dir.join("digits.nnet");
    let curve = dir.join("curve.svg");
    let (model_s, curve_s) = (model.to_str().unwrap(), curve.to_str().unwrap());
    let train = data("sklearn-digits/digits.train.csv");
    let test = data("sklearn-digits/digits.test.csv");
    let (train_s, test_s) = (train.to_str().unwrap(), test.to_str().unwrap());
    let o = nnet(&[
        "train",
        train_s,
        "--target",
        "target",
        "--layers",
        "64-32-10",
        "--standardize",
        "--epochs",
        "40",
        "--patience",
        "15",
        "--out",
        model_s,
        "--curve",
        curve_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("network 64-32-10 (tanh output), 2410 weights"),
        "{out}"
    );
    // off a terminal, progress is one plain line per epoch on standard error
    let err = stderr(&o);
    assert!(
        err.lines().next().unwrap().starts_with("epoch 1/40  E_in "),
        "{err}"
    );
    assert!(std::fs::read_to_string(&curve).unwrap().starts_with("<svg"));

    let eval = ok(&["eval", model_s, test_s, "--target", "target"]);
    assert_eq!(value(&eval, "rows "), 450.0);
    let acc = value(&eval, "accuracy ");
    assert!(acc >= 0.95, "test accuracy {acc}");
    assert!(value(&eval, "mse ") < 0.1, "{eval}");

    // the predicted classes agree with eval's accuracy; the target column (last) is dropped
    let pred = ok(&["predict", model_s, test_s]);
    let mut lines = pred.lines();
    assert_eq!(lines.next().unwrap(), "class,y0,y1,y2,y3,y4,y5,y6,y7,y8,y9");
    let truth: Vec<String> = std::fs::read_to_string(&test)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 450);
    let hits = rows
        .iter()
        .zip(&truth)
        .filter(|(r, t)| r.split(',').next().unwrap() == t.as_str())
        .count();
    assert!(
        (hits as f64 / 450.0 - acc).abs() < 1e-3,
        "{hits} hits, accuracy {acc}"
    );

    let info = ok(&["info", model_s]);
    for line in [
        "layers 64-32-10",
        "weights 2410",
        "output tanh",
        "scaling inputs standardized",
        "format version 1",
    ] {
        assert!(info.lines().any(|l| l == line), "{line} in {info}");
    }
}

#[test]
fn fann_regression_and_inputs_only_csv() {
    let dir = scratch("building");
    let model = dir.join("building.nnet");
    let model_s = model.to_str().unwrap();
    let train = data("fann-building/building.train");
    let test = data("fann-building/building.test");
    ok(&[
        "train",
        train.to_str().unwrap(),
        "--layers",
        "14-8-3",
        "--batch",
        "16",
        "--lr",
        "0.05",
        "--epochs",
        "30",
        "--val",
        "0",
        "--threads",
        "2",
        "--out",
        model_s,
        "-q",
    ]);
    let info = ok(&["info", model_s]);
    assert!(
        info.contains("output linear") && info.contains("scaling none"),
        "{info}"
    );
    let eval = ok(&["eval", model_s, test.to_str().unwrap()]);
    assert!(!eval.contains("accuracy"), "{eval}");
    let mse = value(&eval, "mse ");
    assert!(mse.is_finite() && mse < 0.05, "{eval}");

    // a CSV of the inputs alone predicts the same as the FANN file
    let text = std::fs::read_to_string(&test).unwrap();
    let mut csv = (0..14)
        .map(|i| format!("x{i}"))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for line in text.lines().skip(1).step_by(2) {
        csv += &line.split_whitespace().collect::<Vec<_>>().join(",");
        csv += "\n";
    }
    let csv_path = dir.join("inputs.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let from_csv = ok(&["predict", model_s, csv_path.to_str().unwrap()]);
    let from_fann = ok(&["predict", model_s, test.to_str().unwrap()]);
    assert_eq!(from_csv.lines().next(), Some("y0,y1,y2"));
    assert_eq!(from_csv.lines().count(), value(&eval, "rows ") as usize + 1);
    assert_eq!(from_csv, from_fann);
}

#[test]
fn bad_input_is_one_line_naming_file_line_and_field() {
    let dir = scratch("bad");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "a,b,target\n0.5,1,0\n1.5,oops,1\n").unwrap();
    let err = fails(&[
        "train",
        bad.to_str().unwrap(),
        "--target",
        "target",
        "--layers",
        "2-3-2",
        "--out",
        dir.join("m.nnet").to_str().unwrap(),
    ]);
    assert!(
        err.contains("bad.csv") && err.contains("line 3") && err.contains("oops"),
        "{err}"
    );

    let missing = fails(&["info", dir.join("none.nnet").to_str().unwrap()]);
    assert!(missing.contains("none.nnet"), "{missing}");
    let garbage = dir.join("garbage.nnet");
    std::fs::write(&garbage, b"not a model file at all").unwrap();
    let err = fails(&["info", garbage.to_str().unwrap()]);
    assert!(err.contains("garbage.nnet"), "{err}");

    let digits = data("sklearn-digits/digits.train.csv");
    let err = fails(&[
        "train",
        digits.to_str().unwrap(),
        "--target",
        "target",
        "--layers",
        "63-10",
        "--out",
        dir.join("m.nnet").to_str().unwrap(),
    ]);
    assert!(
        err.contains("64 inputs and 10 outputs") && err.contains("63"),
        "{err}"
    );
    let err = fails(&[
        "train",
        digits.to_str().unwrap(),
        "--layers",
        "64",
        "--out",
        "m.nnet",
    ]);
    assert!(err.contains("--layers 64"), "{err}");
    let odd = dir.join("data.xyz");
    std::fs::write(&odd, "1 1 1\n0\n0\n").unwrap();
    let err = fails(&["eval", "any.nnet", odd.to_str().unwrap()]);
    assert!(err.contains("--format"), "{err}");
    // usage errors exit non-zero too (clap's own message)
    assert!(!nnet(&["train"]).status.success());
}

fn join<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    [a, b].concat()
}

#[test]
fn optimizers_train_and_bad_ones_are_refused() {
    let dir = scratch("later");
    let xor = data("fann-xor/xor.data");
    let xor_s = xor.to_str().unwrap();
    let model = dir.join("xor.nnet");
    let model_s = model.to_str().unwrap();
    let base = [
        "train", xor_s, "--layers", "2-3-1", "--val", "0", "--out", model_s,
    ];
    for o in ["momentum", "nesterov", "adam", "adamw"] {
        ok(&join(&base, &["--optimizer", o, "--epochs", "3", "-q"]));
        assert!(model.exists(), "{o} writes the model");
        std::fs::remove_file(&model).unwrap();
    }
    let err = fails(&join(&base, &["--optimizer", "rprop", "--epochs", "3"]));
    assert!(err.contains("full-batch"), "{err}");
    assert!(!model.exists(), "a refused run writes no model");
    let err = fails(&join(&base, &["--optimizer", "nesterov-ish"]));
    assert!(
        err.contains("unknown optimizer") && err.contains("sgd"),
        "{err}"
    );

    ok(&join(&base, &["--epochs", "5", "-q"]));
    let onnx = dir.join("x.onnx");
    ok(&["export-onnx", model_s, onnx.to_str().unwrap()]);
    assert!(std::fs::metadata(&onnx).unwrap().len() > 0);
}

#[test]
fn help_shows_examples() {
    let help = ok(&["--help"]);
    assert!(
        help.contains("nnet train data/sklearn-digits/digits.train.csv"),
        "{help}"
    );
    for cmd in ["train", "predict", "eval", "info", "export-onnx"] {
        assert!(help.contains(cmd), "{cmd} in {help}");
    }
}

#[test]
fn a_checkpointed_run_continues_to_the_same_model() {
    let dir = scratch("checkpoint");
    let xor = data("fann-xor/xor.data");
    let xor_s = xor.to_str().unwrap();
    let ck = dir.join("run.ckpt");
    let ck_s = ck.to_str().unwrap();
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let run = |out: &Path, extra: &[&str]| -> Vec<String> {
        let base = [
            "train",
            xor_s,
            "--layers",
            "2-4-1",
            "--val",
            "0",
            "--epochs",
            "300",
            "--optimizer",
            "adam",
            "--lr",
            "0.02",
            "-q",
            "--out",
            out.to_str().unwrap(),
        ];
        join(&base, extra).iter().map(|s| s.to_string()).collect()
    };
    // the uninterrupted run, without a checkpoint
    let plain = dir.join("plain.nnet");
    ok(&args(&run(&plain, &[])));
    let want = std::fs::read(&plain).unwrap();
    // with a checkpoint: the same model, and the file is left behind
    let first = dir.join("first.nnet");
    let out = ok(&args(&run(
        &first,
        &["--checkpoint", ck_s, "--checkpoint-every", "7"],
    )));
    assert!(!out.contains("resuming"), "{out}");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        want,
        "checkpoints change the model"
    );
    assert!(ck.exists());
    // the same command again: continues the finished run, the same model
    let again = dir.join("again.nnet");
    let out = ok(&args(&run(
        &again,
        &["--checkpoint", ck_s, "--checkpoint-every", "7"],
    )));
    assert!(out.contains("resuming from"), "{out}");
    assert_eq!(
        std::fs::read(&again).unwrap(),
        want,
        "the resumed model differs"
    );
    // killed at some moment and run again until it finishes: the same model
    std::fs::remove_file(&ck).unwrap();
    let killed = dir.join("killed.nnet");
    let a = run(&killed, &["--checkpoint", ck_s]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nnet"))
        .args(args(&a))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = child.kill(); // SIGKILL on Unix; the run may have finished already
    child.wait().unwrap();
    ok(&args(&a));
    assert_eq!(
        std::fs::read(&killed).unwrap(),
        want,
        "the killed and resumed model differs"
    );
    // a checkpoint of another run is refused by name; a zero interval is refused
    let err = fails(&args(&run(&again, &["--checkpoint", ck_s, "--seed", "2"])));
    assert!(err.contains("`seed`"), "{err}");
    let err = fails(&args(&run(
        &again,
        &["--checkpoint", ck_s, "--checkpoint-every", "0"],
    )));
    assert!(err.contains("checkpoint"), "{err}");
    let err = fails(&args(&run(
        &again,
        &[
            "--checkpoint",
            dir.join("no-such-dir/run.ckpt").to_str().unwrap(),
        ],
    )));
    assert!(err.contains("does not exist"), "{err}");
}
