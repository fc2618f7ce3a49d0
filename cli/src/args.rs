//! The command line's grammar (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  nnet train data/sklearn-digits/digits.train.csv --target target --layers 64-32-10 \\
      --standardize --epochs 60 --patience 15 --out digits.nnet --curve digits.svg
  nnet eval digits.nnet data/sklearn-digits/digits.test.csv --target target
  nnet predict digits.nnet data/sklearn-digits/digits.test.csv --target target > out.csv
  nnet train data/fann-building/building.train --layers 14-16-3 --out building.nnet
  nnet train data/fann-building/building.train --layers 14-16-3 --out building.nnet \\
      --checkpoint building.ckpt     # run again after a kill: it continues the run
  nnet info digits.nnet";

/// Trains fully connected tanh networks on CSV, FANN or IDX data and uses the saved models.
#[derive(Debug, Parser)]
#[command(name = "nnet", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network and save it.
    #[command(after_help = EXAMPLES)]
    Train(TrainArgs),
    /// Write the network's outputs for every row of DATA as CSV to standard output.
    Predict(PredictArgs),
    /// Print the mean squared error (and, for a tanh output, the accuracy) on DATA.
    Eval(PredictArgs),
    /// Print a model file's layers, weight count, output, scaling and format version.
    Info {
        /// The model file.
        model: PathBuf,
    },
    /// Write the model as an ONNX graph.
    ExportOnnx {
        /// The model file.
        model: PathBuf,
        /// The ONNX file to write.
        onnx: PathBuf,
    },
}

/// The file format of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A header line, then comma-separated numbers.
    Csv,
    /// FANN training data: "rows inputs outputs", then alternating input and output lines.
    Fann,
    /// IDX arrays (MNIST), plain or gzip-compressed; the labels come from --labels.
    Idx,
}

/// How the target column of a CSV file becomes targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Encoding {
    /// One-hot when there is one target column and the network has several outputs, else values.
    Auto,
    /// The values as they are (regression).
    Values,
    /// Class ids 0..k as k outputs of +-1.
    OneHot,
    /// Class ids 0 and 1 as one output, -1 and +1.
    Binary,
}

/// The output layer's transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputKind {
    /// tanh for class targets (one-hot, binary, IDX labels), linear for values.
    Auto,
    /// The output neurons are linear.
    Linear,
    /// The output neurons apply tanh.
    Tanh,
}

/// Where the data comes from and how it is read.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data file (.csv, FANN .data/.train/.test/.fann, IDX ...-ubyte[.gz] or .idx[.gz]).
    pub data: PathBuf,
    /// The file format, when the name does not tell it.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// CSV: the target column(s), by header name or 0-based index, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub target: Vec<String>,
    /// CSV: how the target column becomes targets.
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: Encoding,
    /// IDX: the labels file that goes with the images in DATA.
    #[arg(long)]
    pub labels: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Layer sizes from inputs to outputs, e.g. 64-32-10.
    #[arg(long)]
    pub layers: String,
    /// The output layer's transform.
    #[arg(long, value_enum, default_value = "auto")]
    pub output: OutputKind,
    /// The optimizer: sgd, momentum, nesterov, adam, adamw or rprop (iRPROP-, full batch:
    /// use a --batch of at least the training rows).
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    /// The learning rate.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f32,
    /// Samples per update (1: per-sample SGD).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// The most epochs to run.
    #[arg(long, default_value_t = 100)]
    pub epochs: u32,
    /// Stop after this many epochs without a better validation error (0: never).
    #[arg(long, default_value_t = 0)]
    pub patience: u32,
    /// The fraction of the rows held out for validation (0: none).
    #[arg(long, default_value_t = 0.15)]
    pub val: f64,
    /// Standardize the inputs (and value targets) with the training rows' mean and deviation.
    #[arg(long)]
    pub standardize: bool,
    /// Worker threads for mini-batches (0: every core); results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Seeds the initial weights, the validation split and the sample order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Initial weights are uniform in [-r, r].
    #[arg(long, default_value_t = 0.2)]
    pub init_range: f32,
    /// The model file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Write the learning curve as SVG here.
    #[arg(long)]
    pub curve: Option<PathBuf>,
    /// Save the training state here after every --checkpoint-every epochs; when the file
    /// exists, continue the run it holds (the same command and data give the same model as
    /// an uninterrupted run).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Epochs between checkpoints (with --checkpoint).
    #[arg(long, default_value_t = 1)]
    pub checkpoint_every: u32,
    /// Print no progress.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// The model file.
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
}
