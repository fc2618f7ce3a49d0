//! Where the command line meets library features: the optimizers, training checkpoints
//! (not available in this build yet), and ONNX export. Each has one function here, so that
//! connecting a feature changes only that function.

use std::path::Path;

use nnet::{Error, Network, Optimizer, Result, TrainConfig};

/// The optimizer names the command line knows.
pub const OPTIMIZERS: [&str; 6] = ["sgd", "momentum", "nesterov", "adam", "adamw", "rprop"];

fn unavailable(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} is not available in this build"))
}

/// Sets the optimizer `name` with its default parameters (SPEC section 6) in `cfg`. "rprop"
/// (iRPROP-) is a full-batch method: training refuses a batch size below the training rows.
pub fn set_optimizer(cfg: &mut TrainConfig, name: &str) -> Result<()> {
    cfg.optimizer = match name {
        "sgd" => Optimizer::Sgd,
        "momentum" => Optimizer::momentum(),
        "nesterov" => Optimizer::nesterov(),
        "adam" => Optimizer::adam(),
        "adamw" => Optimizer::adamw(),
        "rprop" => Optimizer::rprop(),
        n => {
            return Err(Error::InvalidArgument(format!(
                "unknown optimizer '{n}': choose one of {}",
                OPTIMIZERS.join(", ")
            )));
        }
    };
    Ok(())
}

/// Makes training save its state to `path` (and resume from it when it exists).
pub fn set_checkpoint(_cfg: &mut TrainConfig, path: &Path) -> Result<()> {
    Err(unavailable(&format!(
        "--checkpoint {} (training checkpoints)",
        path.display()
    )))
}

/// Writes `net` as an ONNX model to `path`.
pub fn export_onnx(net: &Network, path: &Path) -> Result<()> {
    net.save_onnx(path)
}
