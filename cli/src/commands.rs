//! The commands: train, predict, eval, info, export-onnx.

use std::io::{BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use nnet::{Dataset, EpochInfo, Error, Network, Output, Result, TrainConfig};

use crate::args::{DataArgs, Encoding, Format, OutputKind, PredictArgs, TrainArgs};
use crate::hooks;
use crate::input::{format_of, load_inputs, load_labelled};

/// "64-32-10" as layer sizes.
fn parse_layers(s: &str) -> Result<Vec<usize>> {
    let sizes: Option<Vec<usize>> = s
        .split('-')
        .map(|p| p.trim().parse::<usize>().ok().filter(|&d| d >= 1))
        .collect();
    match sizes {
        Some(v) if v.len() >= 2 => Ok(v),
        _ => Err(Error::InvalidArgument(format!(
            "--layers {s}: give two or more sizes >= 1 from inputs to outputs, e.g. 64-32-10"
        ))),
    }
}

/// Whether the data's targets are classes (and so want a tanh output).
fn class_targets(args: &DataArgs, n_out: usize) -> Result<bool> {
    Ok(match format_of(args)? {
        Format::Idx => true,
        Format::Fann => false,
        Format::Csv => match args.encoding {
            Encoding::Auto => args.target.len() <= 1 && n_out >= 2,
            Encoding::OneHot | Encoding::Binary => true,
            Encoding::Values => false,
        },
    })
}

fn layers_text(layers: &[usize]) -> String {
    layers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

fn output_name(o: Output) -> &'static str {
    match o {
        Output::Linear => "linear",
        Output::Tanh => "tanh",
    }
}

/// Reports the epochs: a progress bar on a terminal, one line per epoch otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    epochs: u32,
}

impl Progress {
    fn new(epochs: u32, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(epochs as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{elapsed_precise} {bar:30} epoch {pos}/{len} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, quiet, epochs }
    }

    fn epoch(&self, e: &EpochInfo) {
        let msg = if e.validation_error.is_nan() {
            format!("E_in {:.5}", e.train_error)
        } else {
            format!("E_in {:.5}  E_val {:.5}", e.train_error, e.validation_error)
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(e.epoch as u64);
                bar.set_message(msg);
            }
            None if !self.quiet => eprintln!("epoch {}/{}  {msg}", e.epoch, self.epochs),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn train(a: &TrainArgs) -> Result<()> {
    let layers = parse_layers(&a.layers)?;
    let n_out = *layers.last().expect("two or more sizes");
    let mut cfg = TrainConfig {
        learning_rate: a.lr,
        epochs: a.epochs,
        batch_size: a.batch,
        patience: a.patience,
        seed: a.seed,
        threads: a.threads,
        ..TrainConfig::default()
    };
    hooks::set_optimizer(&mut cfg, &a.optimizer)?;
    if let Some(path) = &a.checkpoint {
        hooks::set_checkpoint(&mut cfg, path, a.checkpoint_every)?;
    }
    cfg.validate()?;
    if !(0.0..1.0).contains(&a.val) {
        return Err(Error::InvalidArgument(format!(
            "--val {}: the validation fraction must be in [0, 1)",
            a.val
        )));
    }
    let classes = class_targets(&a.data, n_out)?;
    let all = load_labelled(&a.data, n_out)?;
    if all.num_inputs() != layers[0] || all.num_outputs() != n_out {
        return Err(Error::ShapeMismatch(format!(
            "{}: {} inputs and {} outputs, --layers {} takes {} and {n_out}",
            a.data.data.display(),
            all.num_inputs(),
            all.num_outputs(),
            a.layers,
            layers[0]
        )));
    }
    let (train, val) = if a.val > 0.0 {
        let (t, v) = all.split(1.0 - a.val, a.seed)?;
        (t, Some(v))
    } else {
        (all, None)
    };
    let output = match a.output {
        OutputKind::Auto if classes => Output::Tanh,
        OutputKind::Auto | OutputKind::Linear => Output::Linear,
        OutputKind::Tanh => Output::Tanh,
    };
    let mut net = Network::new(&layers, output, a.seed, a.init_range)?;
    if a.standardize {
        net.set_scaling(Some(train.fit_scaling(!classes)?))?;
    }
    println!(
        "network {} ({} output), {} weights, kernels {}; {} training and {} validation rows",
        layers_text(&layers),
        output_name(output),
        net.num_weights(),
        net.kernels().isa().name(),
        train.rows(),
        val.as_ref().map_or(0, Dataset::rows)
    );
    let progress = Progress::new(cfg.epochs, a.quiet);
    let on_epoch = |e: &EpochInfo| {
        progress.epoch(e);
        ControlFlow::Continue(())
    };
    let (x, y, v) = (
        train.inputs(),
        train.targets(),
        val.as_ref().map(Dataset::as_pair),
    );
    // with a checkpoint the run always goes through resume, which starts from the beginning
    // when the file does not exist: running the same command again continues a killed run
    let report = match &a.checkpoint {
        Some(path) => {
            if path.exists() {
                println!("resuming from {}", path.display());
            }
            net.resume_with_callback(&cfg, x, y, v, on_epoch)
        }
        None => net.train_with_callback(&cfg, x, y, v, on_epoch),
    };
    progress.finish();
    let report = report?;
    println!(
        "ran {} epochs, kept epoch {}: E_in {:.6}, E_val {:.6}",
        report.epochs_run, report.best_epoch, report.train_error, report.validation_error
    );
    if classes {
        let val_acc = match &val {
            Some(v) => format!(", validation accuracy {:.4}", v.accuracy(&net)?),
            None => String::new(),
        };
        println!("training accuracy {:.4}{val_acc}", train.accuracy(&net)?);
    }
    net.save(&a.out)?;
    println!("wrote {}", a.out.display());
    if let Some(curve) = &a.curve {
        report.write_svg(curve)?;
        println!("wrote {}", curve.display());
    }
    Ok(())
}

/// The encoding of a model's targets when --encoding is auto: classes for a tanh output.
fn eval_args(net: &Network, data: &DataArgs) -> DataArgs {
    let mut data = data.clone();
    if data.encoding == Encoding::Auto {
        data.encoding = match (net.output(), net.num_outputs()) {
            (Output::Tanh, 1) => Encoding::Binary,
            (Output::Tanh, _) => Encoding::OneHot,
            (Output::Linear, _) => Encoding::Values,
        };
    }
    data
}

fn predict(a: &PredictArgs) -> Result<()> {
    format_of(&a.data)?;
    let net = load_model(&a.model)?;
    let x = load_inputs(&a.data, net.num_inputs(), net.num_outputs())?;
    if x.len() % net.num_inputs() != 0 {
        return Err(Error::ShapeMismatch(format!(
            "{}: rows of {} values, the network takes {}",
            a.data.data.display(),
            x.len(),
            net.num_inputs()
        )));
    }
    let y = net.predict(&x)?;
    let k = net.num_outputs();
    let class = net.output() == Output::Tanh;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::Io("standard output: Broken pipe".into()),
        _ => Error::Io(format!("standard output: {e}")),
    };
    let mut header: Vec<String> = (0..k).map(|j| format!("y{j}")).collect();
    if class {
        header.insert(0, "class".into());
    }
    writeln!(out, "{}", header.join(",")).map_err(io)?;
    for row in y.chunks(k) {
        let mut line = String::new();
        if class {
            let c = if k == 1 {
                usize::from(row[0] >= 0.0)
            } else {
                argmax(row)
            };
            line.push_str(&format!("{c},"));
        }
        let vals: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        line.push_str(&vals.join(","));
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// `predict`'s output, where a closed pipe (`nnet predict ... | head`) ends the output quietly.
pub fn predict_to_stdout(a: &PredictArgs) -> Result<()> {
    match predict(a) {
        Err(Error::Io(m)) if m.contains("Broken pipe") => Ok(()),
        r => r,
    }
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

pub fn eval(a: &PredictArgs) -> Result<()> {
    format_of(&a.data)?;
    let net = load_model(&a.model)?;
    let data = eval_args(&net, &a.data);
    let set = load_labelled(&data, net.num_outputs())?;
    println!("rows {}", set.rows());
    println!("mse {:.6}", set.mse(&net)?);
    if net.output() == Output::Tanh && set.labels().is_some() {
        println!("accuracy {:.4}", set.accuracy(&net)?);
    }
    Ok(())
}

/// The bytes of a model file and the network they hold; errors name the file.
fn read_model(model: &Path) -> Result<(Vec<u8>, Network)> {
    let bytes = std::fs::read(model).map_err(|e| Error::Io(format!("{}: {e}", model.display())))?;
    let net = Network::from_bytes(&bytes).map_err(|e| match e {
        Error::Format(m) => Error::Format(format!("{}: {m}", model.display())),
        e => e,
    })?;
    Ok((bytes, net))
}

fn load_model(model: &Path) -> Result<Network> {
    Ok(read_model(model)?.1)
}

pub fn info(model: &Path) -> Result<()> {
    let (bytes, net) = read_model(model)?;
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    println!("layers {}", layers_text(net.layers()));
    println!("weights {}", net.num_weights());
    println!("output {}", output_name(net.output()));
    let scaling = match net.scaling() {
        None => "none",
        Some(s) if s.target_mean().is_some() => "inputs and targets standardized",
        Some(_) => "inputs standardized",
    };
    println!("scaling {scaling}");
    println!("format version {version}");
    Ok(())
}

pub fn export_onnx(model: &Path, onnx: &Path) -> Result<()> {
    let net = load_model(model)?;
    hooks::export_onnx(&net, onnx)
}
