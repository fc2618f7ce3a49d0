//! ONNX graph -> network: reads the MLP forms of SPEC section 9 and refuses every other graph
//! with an error that names the first node it cannot take.
//!
//! Accepted, in this order along one chain of tensors from the graph input to its output:
//! - optionally `Sub(x, mean)` then `Div(., std)`: the input standardization;
//! - per layer `Gemm(h, B, C)` (`alpha = beta = 1`, `transA = 0`, `transB` 0 or 1, `C` optional)
//!   or `MatMul(h, B)` with an optional `Add(., C)`, then `Tanh` (required between layers,
//!   optional after the last one: it makes the output tanh);
//! - optionally `Mul(., std)` then `Add(., mean)`: the target de-standardization.
//!
//! Weights and constants come from graph initializers or `Constant` nodes, float32, in
//! `float_data` or `raw_data`. Standardization constants have one value per feature or one
//! value for all. Every layer has a weight matrix of its own: a graph whose layers share one
//! `B` tensor is refused, so the network that a model makes is never larger than the model's
//! own bytes (a small file that names one matrix in many layers would otherwise expand to an
//! arbitrarily large network).

use std::collections::{HashMap, HashSet};

use super::proto::{
    ATTRIBUTE_FLOAT, ATTRIBUTE_INT, ATTRIBUTE_TENSOR, AttributeProto, DATA_TYPE_FLOAT,
    DimensionValue, ModelProto, NodeProto, TensorProto, ValueInfoProto,
};
use crate::error::{Error, Result};
use crate::network::{Network, Output};
use crate::scaling::Scaling;

fn refuse(what: String) -> Error {
    Error::Format(format!("ONNX import: {what}"))
}

/// `node 3 "gemm2" (Gemm)`, or `node 3 (Gemm)` for an unnamed node.
fn label(i: usize, node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!("node {i} ({})", node.op_type)
    } else {
        format!("node {i} \"{}\" ({})", node.name, node.op_type)
    }
}

/// A decoded float32 constant.
struct Constant {
    dims: Vec<usize>,
    values: Vec<f32>,
}

fn decode_tensor(t: &TensorProto) -> std::result::Result<Constant, String> {
    if t.data_type != DATA_TYPE_FLOAT {
        return Err(format!(
            "tensor \"{}\" has data type {} (only float32 = 1 is read)",
            t.name, t.data_type
        ));
    }
    if t.data_location != 0 || !t.external_data.is_empty() {
        return Err(format!(
            "tensor \"{}\" keeps its data in an external file",
            t.name
        ));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    let mut count = 1usize;
    for &d in &t.dims {
        let d = usize::try_from(d)
            .map_err(|_| format!("tensor \"{}\" has a negative dimension {d}", t.name))?;
        count = count
            .checked_mul(d)
            .ok_or_else(|| format!("the size of tensor \"{}\" overflows", t.name))?;
        dims.push(d);
    }
    let values = if !t.raw_data.is_empty() {
        if t.raw_data.len() / 4 != count || !t.raw_data.len().is_multiple_of(4) {
            return Err(format!(
                "tensor \"{}\" of {count} values has {} raw bytes",
                t.name,
                t.raw_data.len()
            ));
        }
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        if t.float_data.len() != count {
            return Err(format!(
                "tensor \"{}\" of {count} values holds {}",
                t.name,
                t.float_data.len()
            ));
        }
        t.float_data.clone()
    };
    Ok(Constant { dims, values })
}

/// A standardization constant: one value for every feature, or one per feature.
#[derive(Clone)]
enum PerFeature {
    All(f32),
    Each(Vec<f32>),
}

impl PerFeature {
    fn of(c: Constant) -> std::result::Result<PerFeature, String> {
        match c.dims.as_slice() {
            [] | [1] | [1, 1] => Ok(PerFeature::All(c.values[0])),
            [_] | [1, _] => Ok(PerFeature::Each(c.values)),
            d => Err(format!(
                "a constant of shape {d:?} (expected one value or one per feature)"
            )),
        }
    }

    /// The values for `width` features; `what` names the node for the error.
    fn expand(self, width: usize, what: &str) -> Result<Vec<f32>> {
        match self {
            PerFeature::All(v) => Ok(vec![v; width]),
            PerFeature::Each(v) if v.len() == width => Ok(v),
            PerFeature::Each(v) => Err(refuse(format!(
                "{what} has {} values for {width} features",
                v.len()
            ))),
        }
    }
}

/// One weight layer as it is read: `W` with the bias row first, row-major.
struct Layer {
    rows: usize,
    cols: usize,
    weights: Vec<f32>,
    tanh: bool,
}

/// A standardization constant and the node it came from.
type Standardization = Option<(PerFeature, String)>;

/// Where the chain is: standardizing the input, in the layers, or de-standardizing the output.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Stage {
    Input,
    Layers,
    Output,
}

struct Reader<'a> {
    constants: HashMap<&'a str, &'a TensorProto>,
    /// Constants produced by `Constant` nodes.
    node_constants: HashMap<&'a str, &'a TensorProto>,
    /// The weight matrices that layers read so far (by address: a name can be shadowed).
    used_weights: HashSet<*const TensorProto>,
    stage: Stage,
    layers: Vec<Layer>,
    /// The last layer came from a `MatMul` whose bias an `Add` may still give.
    bias_open: bool,
    input_mean: Standardization,
    input_std: Standardization,
    target_std: Standardization,
    target_mean: Standardization,
}

impl<'a> Reader<'a> {
    fn tensor(&self, name: &str) -> std::result::Result<&'a TensorProto, String> {
        self.node_constants
            .get(name)
            .or_else(|| self.constants.get(name))
            .copied()
            .ok_or_else(|| format!("\"{name}\" is neither the current tensor nor a constant"))
    }

    fn constant(&self, name: &str) -> std::result::Result<Constant, String> {
        decode_tensor(self.tensor(name)?)
    }

    /// `B` of a layer as `rows x cols`, transposed when `trans_b`; refused when an earlier
    /// layer read the same tensor.
    fn matrix(&mut self, name: &str, trans_b: bool) -> std::result::Result<Constant, String> {
        let t = self.tensor(name)?;
        if !self.used_weights.insert(std::ptr::from_ref(t)) {
            return Err(format!(
                "reads the weight \"{name}\" of an earlier layer (every layer needs its own)"
            ));
        }
        let c = decode_tensor(t)?;
        let [r, k] = c.dims[..] else {
            return Err(format!(
                "the weight \"{name}\" has shape {:?} (expected 2 dimensions)",
                c.dims
            ));
        };
        if !trans_b {
            return Ok(c);
        }
        let mut t = vec![0f32; c.values.len()];
        for i in 0..r {
            for j in 0..k {
                t[j * r + i] = c.values[i * k + j];
            }
        }
        Ok(Constant {
            dims: vec![k, r],
            values: t,
        })
    }

    fn push_layer(
        &mut self,
        b: Constant,
        bias: Option<Constant>,
    ) -> std::result::Result<(), String> {
        let (rows, cols) = (b.dims[0], b.dims[1]);
        if rows == 0 || cols == 0 {
            return Err(format!("a layer of shape {rows} x {cols}"));
        }
        if let Some(prev) = self.layers.last() {
            if !prev.tanh {
                return Err("follows a layer without Tanh (hidden layers are tanh)".into());
            }
            if prev.cols != rows {
                return Err(format!(
                    "takes {rows} inputs but the layer before has {} outputs",
                    prev.cols
                ));
            }
        }
        let mut weights = Vec::new();
        weights
            .try_reserve_exact(b.values.len() + cols)
            .map_err(|_| "cannot allocate the weights".to_string())?;
        match bias {
            None => weights.resize(cols, 0.0),
            Some(c) => weights.extend(bias_row(c, cols)?),
        }
        weights.extend_from_slice(&b.values);
        self.layers.push(Layer {
            rows,
            cols,
            weights,
            tanh: false,
        });
        self.stage = Stage::Layers;
        Ok(())
    }

    /// Takes node `node`, whose data input is the current tensor at `slot`; `Err` says why not.
    fn take(&mut self, node: &'a NodeProto, slot: usize) -> std::result::Result<(), String> {
        let n_in = node.input.len();
        let other = || {
            node.input
                .iter()
                .enumerate()
                .find(|&(k, _)| k != slot)
                .map(|(_, s)| s.as_str())
                .unwrap_or("")
        };
        let binary = || -> std::result::Result<PerFeature, String> {
            if n_in != 2 {
                return Err(format!("has {n_in} inputs (expected 2)"));
            }
            PerFeature::of(self.constant(other())?)
        };
        let here = || node.name.clone();
        match node.op_type.as_str() {
            "Gemm" if self.stage != Stage::Output => {
                if slot != 0 || !(2..=3).contains(&n_in) {
                    return Err("expects Gemm(h, B[, C]) with h the current tensor".into());
                }
                let mut trans_b = false;
                for a in &node.attribute {
                    match (a.name.as_str(), attribute_value(a)) {
                        ("alpha" | "beta", Some(Value::Float(1.0))) => {}
                        ("transA", Some(Value::Int(0))) => {}
                        ("transB", Some(Value::Int(t @ (0 | 1)))) => trans_b = t == 1,
                        _ => {
                            return Err(format!(
                                "has attribute {} = {} (read: alpha = beta = 1, transA = 0, \
                                 transB = 0 or 1)",
                                a.name,
                                attribute_text(a)
                            ));
                        }
                    }
                }
                let b = self.matrix(&node.input[1], trans_b)?;
                let c = match node.input.get(2) {
                    Some(s) if !s.is_empty() => Some(self.constant(s)?),
                    _ => None,
                };
                self.push_layer(b, c)?;
                self.bias_open = false;
                Ok(())
            }
            "MatMul" if self.stage != Stage::Output => {
                if slot != 0 || n_in != 2 {
                    return Err("expects MatMul(h, B) with h the current tensor".into());
                }
                no_attributes(node)?;
                let b = self.matrix(&node.input[1], false)?;
                self.push_layer(b, None)?;
                self.bias_open = true;
                Ok(())
            }
            "Add" if self.bias_open => {
                no_attributes(node)?;
                if n_in != 2 {
                    return Err(format!("has {n_in} inputs (expected 2)"));
                }
                let c = self.constant(other())?;
                let layer = self.layers.last_mut().expect("an open bias has a layer");
                let bias = bias_row(c, layer.cols)?;
                layer.weights[..layer.cols].copy_from_slice(&bias);
                self.bias_open = false;
                Ok(())
            }
            "Tanh" if self.stage == Stage::Layers && !self.last_is_tanh_or_none() => {
                no_attributes(node)?;
                if n_in != 1 {
                    return Err(format!("has {n_in} inputs (expected 1)"));
                }
                self.layers.last_mut().expect("in the layers").tanh = true;
                self.bias_open = false;
                Ok(())
            }
            "Sub"
                if self.stage == Stage::Input
                    && self.input_mean.is_none()
                    && self.input_std.is_none() =>
            {
                no_attributes(node)?;
                if slot != 0 {
                    return Err("subtracts the current tensor from a constant".into());
                }
                self.input_mean = Some((binary()?, here()));
                Ok(())
            }
            "Div" if self.stage == Stage::Input && self.input_std.is_none() => {
                no_attributes(node)?;
                if slot != 0 {
                    return Err("divides a constant by the current tensor".into());
                }
                self.input_std = Some((binary()?, here()));
                Ok(())
            }
            "Mul" if self.stage == Stage::Layers && self.target_std.is_none() => {
                no_attributes(node)?;
                self.target_std = Some((binary()?, here()));
                self.stage = Stage::Output;
                self.bias_open = false;
                Ok(())
            }
            "Add" if self.stage != Stage::Input && self.target_mean.is_none() => {
                no_attributes(node)?;
                self.target_mean = Some((binary()?, here()));
                self.stage = Stage::Output;
                Ok(())
            }
            _ => Err(
                "is not part of an MLP of Gemm/MatMul+Add and Tanh layers with \
                      Sub/Div input and Mul/Add output standardization at this place"
                    .into(),
            ),
        }
    }

    fn last_is_tanh_or_none(&self) -> bool {
        self.layers.last().is_none_or(|l| l.tanh)
    }
}

/// The bias row of a layer with `cols` outputs from a `[cols]` or `[1, cols]` constant.
fn bias_row(c: Constant, cols: usize) -> std::result::Result<Vec<f32>, String> {
    match c.dims.as_slice() {
        [n] | [1, n] if *n == cols => Ok(c.values),
        [] | [1] => Ok(vec![c.values[0]; cols]),
        d => Err(format!("the bias has shape {d:?} for {cols} outputs")),
    }
}

enum Value {
    Float(f32),
    Int(i64),
}

fn attribute_value(a: &AttributeProto) -> Option<Value> {
    match a.r#type {
        ATTRIBUTE_FLOAT => Some(Value::Float(a.f)),
        ATTRIBUTE_INT => Some(Value::Int(a.i)),
        _ => None,
    }
}

fn attribute_text(a: &AttributeProto) -> String {
    match attribute_value(a) {
        Some(Value::Float(v)) => v.to_string(),
        Some(Value::Int(v)) => v.to_string(),
        None => format!("(an attribute of type {})", a.r#type),
    }
}

fn no_attributes(node: &NodeProto) -> std::result::Result<(), String> {
    match node.attribute.first() {
        None => Ok(()),
        Some(a) => Err(format!("has attribute {} (none is read)", a.name)),
    }
}

/// The float32 `[N, d]` type of a graph input or output: `d` when the shape gives it.
fn batch_width(v: &ValueInfoProto) -> Result<Option<usize>> {
    let Some(t) = v.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()) else {
        return Err(refuse(format!("\"{}\" is not a tensor", v.name)));
    };
    if t.elem_type != DATA_TYPE_FLOAT {
        return Err(refuse(format!(
            "\"{}\" has element type {} (only float32 = 1 is read)",
            v.name, t.elem_type
        )));
    }
    let Some(shape) = &t.shape else {
        return Ok(None);
    };
    if shape.dim.len() != 2 {
        return Err(refuse(format!(
            "\"{}\" has {} dimensions (expected [N, d])",
            v.name,
            shape.dim.len()
        )));
    }
    Ok(match shape.dim[1].value {
        Some(DimensionValue::DimValue(d)) => usize::try_from(d).ok(),
        _ => None,
    })
}

/// The network that `model` describes.
pub(crate) fn network_of(model: &ModelProto) -> Result<Network> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| refuse("the model has no graph".into()))?;
    let Some(op) = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
    else {
        return Err(refuse(
            "the model imports no version of the default operator set".into(),
        ));
    };
    if op.version < 7 {
        return Err(refuse(format!(
            "opset {} (Gemm is read from opset 7 on)",
            op.version
        )));
    }
    let constants: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|v| !constants.contains_key(v.name.as_str()))
        .collect();
    let [input] = inputs[..] else {
        return Err(refuse(format!(
            "the graph has {} inputs besides its initializers (expected 1)",
            inputs.len()
        )));
    };
    let [output] = &graph.output[..] else {
        return Err(refuse(format!(
            "the graph has {} outputs (expected 1)",
            graph.output.len()
        )));
    };
    let d_in = batch_width(input)?;
    let d_out = batch_width(output)?;

    let mut r = Reader {
        constants,
        node_constants: HashMap::new(),
        used_weights: HashSet::new(),
        stage: Stage::Input,
        layers: Vec::new(),
        bias_open: false,
        input_mean: None,
        input_std: None,
        target_std: None,
        target_mean: None,
    };
    let mut current: &str = &input.name;
    for (i, node) in graph.node.iter().enumerate() {
        let fail = |why: String| refuse(format!("{} {why}", label(i, node)));
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(fail(format!("is of domain \"{}\"", node.domain)));
        }
        let [out] = &node.output[..] else {
            return Err(fail(format!(
                "has {} outputs (expected 1)",
                node.output.len()
            )));
        };
        if node.op_type == "Constant" {
            match &node.attribute[..] {
                [a] if a.name == "value" && a.r#type == ATTRIBUTE_TENSOR && a.t.is_some() => {
                    let t = a.t.as_ref().expect("checked");
                    r.node_constants.insert(out, t);
                    continue;
                }
                _ => return Err(fail("is not a Constant with one tensor `value`".into())),
            }
        }
        let Some(slot) = node.input.iter().position(|s| s == current) else {
            return Err(fail(format!(
                "does not take the current tensor \"{current}\" (the graph must be one chain)"
            )));
        };
        r.take(node, slot).map_err(fail)?;
        current = out;
    }
    if output.name != current {
        return Err(refuse(format!(
            "the graph output \"{}\" is not the result of the last node (\"{current}\")",
            output.name
        )));
    }
    let (Some(first), Some(last)) = (r.layers.first(), r.layers.last()) else {
        return Err(refuse("the graph has no Gemm or MatMul layer".into()));
    };
    let n_in = first.rows;
    let n_out = last.cols;
    if d_in.is_some_and(|d| d != n_in) || d_out.is_some_and(|d| d != n_out) {
        return Err(refuse(format!(
            "the graph's input/output widths {d_in:?}/{d_out:?} do not match the layers \
             ({n_in} inputs, {n_out} outputs)"
        )));
    }
    let output_kind = if last.tanh {
        Output::Tanh
    } else {
        Output::Linear
    };
    let mut layers = vec![n_in];
    layers.extend(r.layers.iter().map(|l| l.cols));
    let mut weights = Vec::new();
    weights
        .try_reserve_exact(r.layers.iter().map(|l| l.weights.len()).sum())
        .map_err(|_| Error::OutOfMemory("cannot allocate the weights".into()))?;
    for l in &r.layers {
        weights.extend_from_slice(&l.weights);
    }
    let mut net = Network::from_weights(&layers, output_kind, &weights)
        .map_err(|e| refuse(format!("the layers do not make a network: {e}")))?;

    let per = |s: Standardization, width: usize| -> Result<Option<Vec<f32>>> {
        s.map(|(v, node)| v.expand(width, &format!("node \"{node}\"")))
            .transpose()
    };
    let in_mean = per(r.input_mean, n_in)?;
    let in_std = per(r.input_std, n_in)?;
    let t_std = per(r.target_std, n_out)?;
    let t_mean = per(r.target_mean, n_out)?;
    let has_input = in_mean.is_some() || in_std.is_some();
    let has_target = t_std.is_some() || t_mean.is_some();
    if has_input || has_target {
        let target = has_target.then(|| {
            (
                t_mean.unwrap_or_else(|| vec![0.0; n_out]),
                t_std.unwrap_or_else(|| vec![1.0; n_out]),
            )
        });
        let scaling = Scaling::from_parts(
            in_mean.unwrap_or_else(|| vec![0.0; n_in]),
            in_std.unwrap_or_else(|| vec![1.0; n_in]),
            target,
        )
        .map_err(|e| refuse(format!("the standardization constants: {e}")))?;
        net.set_scaling(Some(scaling))?;
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::super::export::model_of;
    use super::*;

    /// A graph whose second layer reads the first layer's matrix is refused, with the node.
    #[test]
    fn a_shared_weight_matrix_is_refused() {
        let net = Network::new(&[2, 2, 2, 2], Output::Linear, 3, 0.5).unwrap();
        let mut model = model_of(&net);
        assert!(network_of(&model).is_ok());
        let graph = model.graph.as_mut().unwrap();
        let gemm2 = graph.node.iter_mut().find(|n| n.name == "gemm2").unwrap();
        gemm2.input[1] = "W1".into();
        match network_of(&model) {
            Err(Error::Format(m)) => {
                assert!(m.contains("\"gemm2\"") && m.contains("\"W1\""), "{m}")
            }
            r => panic!("a shared matrix gives {:?}", r.map(|n| n.layers().to_vec())),
        }
    }
}
