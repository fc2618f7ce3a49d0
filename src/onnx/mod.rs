//! ONNX export and import of networks (SPEC section 9).
//!
//! [`Network::to_onnx`] writes an ONNX model (IR version 8, opset 13, float32): input `x`
//! `[N, d(0)]`; the input standardization, when the network has one, as `Sub(x, mean)` and
//! `Div(., std)`; per layer `l` one `Gemm` with `B` = rows 1.. of `W(l)` (`d(l-1) x d(l)`)
//! and `C` = row 0, followed by `Tanh` for hidden layers and for a tanh output; the target
//! de-standardization as `Mul(., std)` and `Add(., mean)`; output `y` `[N, d(L)]`.
//!
//! [`Network::from_onnx`] reads graphs of that form written by any tool (`Gemm`, or `MatMul`
//! and `Add`, then `Tanh` or nothing) and refuses every other graph with an
//! [`Error::Format`] that names the first node it cannot take.
//!
//! ```
//! use nnet::{Network, Output};
//! let net = Network::new(&[3, 4, 2], Output::Tanh, 5, 0.5).unwrap();
//! let bytes = net.to_onnx();
//! let back = Network::from_onnx(&bytes).unwrap();
//! assert_eq!(back.weights(), net.weights());
//! assert_eq!(back.output(), Output::Tanh);
//! ```

use std::path::Path;

use prost::Message;

use crate::error::{Error, Result};
use crate::model_file::read_file;
use crate::network::Network;

mod export;
mod import;
mod proto;

/// The IR version of exported models.
pub const IR_VERSION: i64 = 8;
/// The version of the default operator set that exported models import.
pub const OPSET_VERSION: i64 = 13;
/// The name of the graph input of exported models.
pub const INPUT_NAME: &str = "x";
/// The name of the graph output of exported models.
pub const OUTPUT_NAME: &str = "y";

impl Network {
    /// The network as an ONNX model (see the [module docs](crate::onnx)), with its
    /// standardization.
    pub fn to_onnx(&self) -> Vec<u8> {
        export::model_of(self).encode_to_vec()
    }

    /// Reads a network from ONNX bytes. Errors with [`Error::Format`] on bytes that are not an
    /// ONNX model and on a graph that is not an MLP of the accepted form; the message names
    /// the first node that cannot be read.
    pub fn from_onnx(bytes: &[u8]) -> Result<Network> {
        let model = proto::ModelProto::decode(bytes)
            .map_err(|e| Error::Format(format!("not an ONNX model: {e}")))?;
        import::network_of(&model)
    }

    /// Writes [`Network::to_onnx`] to the file `path`, replacing the file if it exists.
    pub fn save_onnx(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_onnx())
            .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
    }

    /// Reads a network from an ONNX file, as [`Network::from_onnx`] does.
    pub fn load_onnx(path: impl AsRef<Path>) -> Result<Network> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        Network::from_onnx(&bytes).map_err(|e| match e {
            Error::Format(m) => Error::Format(format!("{}: {m}", path.display())),
            e => e,
        })
    }
}
