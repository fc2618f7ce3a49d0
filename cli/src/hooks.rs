//! Where the command line meets library features that this build does not have yet: the
//! optimizers other than SGD, training checkpoints, and ONNX export. Each has one function
//! here, so that connecting the feature changes only that function.

use std::path::Path;

use nnet::{Error, Network, Result, TrainConfig};

/// The optimizer names the command line knows.
pub const OPTIMIZERS: [&str; 4] = ["sgd", "momentum", "adam", "adamw"];

fn unavailable(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} is not available in this build"))
}

/// Sets the optimizer `name` in `cfg`. Only "sgd" (the library's update rule) runs today.
pub fn set_optimizer(_cfg: &mut TrainConfig, name: &str) -> Result<()> {
    match name {
        "sgd" => Ok(()),
        n if OPTIMIZERS.contains(&n) => Err(unavailable(&format!("the {n} optimizer"))),
        n => Err(Error::InvalidArgument(format!(
            "unknown optimizer '{n}': choose one of {}",
            OPTIMIZERS.join(", ")
        ))),
    }
}

/// Makes training save its state to `path` (and resume from it when it exists).
pub fn set_checkpoint(_cfg: &mut TrainConfig, path: &Path) -> Result<()> {
    Err(unavailable(&format!(
        "--checkpoint {} (training checkpoints)",
        path.display()
    )))
}

/// Writes `net` as an ONNX model to `path`.
pub fn export_onnx(_net: &Network, path: &Path) -> Result<()> {
    Err(unavailable(&format!(
        "writing {} (ONNX export)",
        path.display()
    )))
}
