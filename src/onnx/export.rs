//! Network -> ONNX graph: `x` `[N, d(0)]`, the input standardization as `Sub`/`Div`, per
//! layer a `Gemm` (B = rows 1.. of `W(l)`, C = row 0) and a `Tanh` for hidden layers and a
//! tanh output, the target de-standardization as `Mul`/`Add`, output `y` `[N, d(L)]`.

use super::proto::{
    DATA_TYPE_FLOAT, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, TypeProtoTensor, ValueInfoProto,
};
use super::{INPUT_NAME, IR_VERSION, OPSET_VERSION, OUTPUT_NAME};
use crate::network::{Network, Output};

/// A float32 tensor in `raw_data` (little-endian, as onnx.proto specifies).
fn tensor(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    let mut raw = Vec::with_capacity(values.len() * 4);
    for v in values {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DATA_TYPE_FLOAT,
        name: name.to_string(),
        raw_data: raw,
        ..TensorProto::default()
    }
}

/// A float32 `[N, width]` graph input or output.
fn batch_value(name: &str, width: usize) -> ValueInfoProto {
    let dims = vec![
        Dimension {
            value: Some(DimensionValue::DimParam("N".to_string())),
            denotation: String::new(),
        },
        Dimension {
            value: Some(DimensionValue::DimValue(width as i64)),
            denotation: String::new(),
        },
    ];
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: DATA_TYPE_FLOAT,
                shape: Some(TensorShapeProto { dim: dims }),
            }),
            denotation: String::new(),
        }),
        doc_string: String::new(),
    }
}

/// Builds the graph node by node, each writing a fresh tensor name after the current one.
struct Builder {
    graph: GraphProto,
    current: String,
}

impl Builder {
    /// Appends `op(current, constants...)`; its result, named after the node, becomes the
    /// current tensor.
    fn node(&mut self, op: &str, name: String, constants: &[String]) {
        let out = format!("{name}_out");
        let mut input = vec![std::mem::take(&mut self.current)];
        input.extend(constants.iter().cloned());
        self.graph.node.push(NodeProto {
            input,
            output: vec![out.clone()],
            name,
            op_type: op.to_string(),
            ..NodeProto::default()
        });
        self.current = out;
    }

    fn constant(&mut self, name: String, dims: &[usize], values: &[f32]) -> String {
        self.graph.initializer.push(tensor(&name, dims, values));
        name
    }
}

/// The ONNX model of `net` (see the [module docs](crate::onnx)).
pub(crate) fn model_of(net: &Network) -> ModelProto {
    let layers = net.layers();
    let n_layers = net.num_layers();
    let mut b = Builder {
        graph: GraphProto {
            name: "nnet".to_string(),
            ..GraphProto::default()
        },
        current: INPUT_NAME.to_string(),
    };
    b.graph.input.push(batch_value(INPUT_NAME, layers[0]));

    if let Some(s) = net.scaling() {
        let d = layers[0];
        let m = b.constant("input_mean".into(), &[d], s.input_mean());
        b.node("Sub", "input_sub".into(), &[m]);
        let sd = b.constant("input_std".into(), &[d], s.input_std());
        b.node("Div", "input_div".into(), &[sd]);
    }
    for l in 1..=n_layers {
        let (rows, cols) = (layers[l - 1], layers[l]);
        let w = net.layer_weights(l).expect("1 <= l <= L");
        let wb = b.constant(format!("W{l}"), &[rows, cols], &w[cols..]);
        let bias = b.constant(format!("b{l}"), &[cols], &w[..cols]);
        b.node("Gemm", format!("gemm{l}"), &[wb, bias]);
        if l < n_layers || net.output() == Output::Tanh {
            b.node("Tanh", format!("tanh{l}"), &[]);
        }
    }
    if let Some((mean, std)) = net
        .scaling()
        .and_then(|s| s.target_mean().zip(s.target_std()))
    {
        let d = net.num_outputs();
        let sd = b.constant("target_std".into(), &[d], std);
        b.node("Mul", "target_mul".into(), &[sd]);
        let m = b.constant("target_mean".into(), &[d], mean);
        b.node("Add", "target_add".into(), &[m]);
    }
    // the last node writes the graph output
    let last = b.graph.node.last_mut().expect("at least one Gemm");
    last.output[0] = OUTPUT_NAME.to_string();
    b.graph
        .output
        .push(batch_value(OUTPUT_NAME, net.num_outputs()));

    ModelProto {
        ir_version: IR_VERSION,
        producer_name: "nnet".to_string(),
        producer_version: crate::VERSION.to_string(),
        graph: Some(b.graph),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET_VERSION,
        }],
        ..ModelProto::default()
    }
}
