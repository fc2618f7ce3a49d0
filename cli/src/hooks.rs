//! Where the command line meets library features: the optimizers, training checkpoints and
//! ONNX export. Each has one function here, so that connecting a feature changes only that
//! function.

use std::path::Path;

use nnet::{Checkpointing, Error, Network, Optimizer, Result, TrainConfig};

/// Sets the optimizer `name` (one of [`Optimizer::NAMES`]) with its default parameters
/// (SPEC section 6) in `cfg`. "rprop" (iRPROP-) is a full-batch method: training refuses a
/// batch size below the training rows.
pub fn set_optimizer(cfg: &mut TrainConfig, name: &str) -> Result<()> {
    cfg.optimizer = Optimizer::from_name(name).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "unknown optimizer '{name}': choose one of {}",
            Optimizer::NAMES.join(", ")
        ))
    })?;
    Ok(())
}

/// Makes training save its state to `path` every `every` epochs (training then resumes
/// from it when it exists, see `commands::train`). Errors on an interval of 0.
pub fn set_checkpoint(cfg: &mut TrainConfig, path: &Path, every: u32) -> Result<()> {
    if every == 0 {
        return Err(Error::InvalidArgument(
            "--checkpoint-every 0: the checkpoint interval must be >= 1 epoch".into(),
        ));
    }
    cfg.checkpoint = Some(Checkpointing {
        path: path.to_path_buf(),
        every,
    });
    Ok(())
}

/// Writes `net` as an ONNX model to `path`.
pub fn export_onnx(net: &Network, path: &Path) -> Result<()> {
    net.save_onnx(path)
}
