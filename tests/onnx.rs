//! ONNX export and import: bitwise round trips, the fixtures written by another writer
//! (`tools/make_onnx_fixtures.py`, with onnxruntime's outputs) and the refused graph forms,
//! corrupt bytes, and the C functions.

use std::path::{Path, PathBuf};
use std::ptr;

use nnet::capi::{
    NNET_ERR_FORMAT, NNET_ERR_IO, NNET_ERR_NULL_POINTER, NNET_OK, NnetNetwork, nnet_buffer_free,
    nnet_export_onnx, nnet_export_onnx_to_buffer, nnet_import_onnx, nnet_import_onnx_from_buffer,
    nnet_network_free, nnet_network_new, nnet_predict,
};
use nnet::{Error, Network, Output, Scaling};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx")
}

/// Networks of every form the exporter writes: with and without input and target scaling,
/// linear and tanh outputs, one to three weight layers.
fn networks() -> Vec<Network> {
    let mut nets = Vec::new();
    for (i, layers) in [&[3, 2][..], &[4, 7, 2], &[5, 6, 4, 3], &[1, 1]]
        .iter()
        .enumerate()
    {
        for output in [Output::Linear, Output::Tanh] {
            for scaling in 0..3 {
                let mut net = Network::new(layers, output, 11 + i as u64, 0.7).unwrap();
                let (n_in, n_out) = (net.num_inputs(), net.num_outputs());
                let mean = |n: usize, k: f32| (0..n).map(|j| j as f32 * k - 0.3).collect();
                let std = |n: usize, k: f32| (0..n).map(|j| 0.5 + j as f32 * k).collect();
                let s = match scaling {
                    0 => None,
                    1 => Some(Scaling::from_parts(mean(n_in, 0.7), std(n_in, 0.3), None).unwrap()),
                    _ => Some(
                        Scaling::from_parts(
                            mean(n_in, 1.1),
                            std(n_in, 0.2),
                            Some((mean(n_out, 2.5), std(n_out, 1.7))),
                        )
                        .unwrap(),
                    ),
                };
                net.set_scaling(s).unwrap();
                nets.push(net);
            }
        }
    }
    nets
}

fn inputs(n_in: usize, rows: usize) -> Vec<f32> {
    (0..n_in * rows)
        .map(|i| ((i * 37) % 23) as f32 / 5.0 - 2.0)
        .collect()
}

#[test]
fn round_trip_is_bitwise() {
    for net in networks() {
        let bytes = net.to_onnx();
        let back = Network::from_onnx(&bytes).unwrap();
        assert_eq!(back.layers(), net.layers());
        assert_eq!(back.output(), net.output());
        let bits = |n: &Network| n.weights().iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&net), "{:?}", net.layers());
        assert_eq!(back.scaling(), net.scaling());
        assert_eq!(
            back.to_onnx(),
            bytes,
            "a second export writes the same bytes"
        );
        let x = inputs(net.num_inputs(), 9);
        let (a, b) = (net.predict(&x).unwrap(), back.predict(&x).unwrap());
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn file_forms_round_trip_and_name_the_file() {
    let dir = std::env::temp_dir().join(format!("nnet-onnx-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = &networks()[8];
    let path = dir.join("net.onnx");
    net.save_onnx(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), net.to_onnx());
    let back = Network::load_onnx(&path).unwrap();
    assert_eq!(back.weights(), net.weights());
    assert!(matches!(
        Network::load_onnx(dir.join("missing.onnx")),
        Err(Error::Io(_))
    ));
    std::fs::write(&path, b"not a model").unwrap();
    match Network::load_onnx(&path) {
        Err(Error::Format(m)) => assert!(m.contains("net.onnx"), "{m}"),
        r => panic!("expected a format error, got {r:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The rows `x ...` and `y ...` of a fixture's expected outputs.
fn expected(path: &Path) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let mut parts = line.split_whitespace();
        let into = if parts.next() == Some("x") {
            &mut x
        } else {
            &mut y
        };
        into.extend(parts.map(|v| v.parse::<f32>().unwrap()));
    }
    (x, y)
}

#[test]
fn fixtures_predict_as_onnxruntime() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".expected.txt") else {
            continue;
        };
        let net = Network::load_onnx(fixtures().join(format!("{stem}.onnx"))).unwrap();
        let (x, want) = expected(&path);
        let got = net.predict(&x).unwrap();
        assert_eq!(got.len(), want.len(), "{stem}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                "{stem}[{i}]: nnet {g}, onnxruntime {w}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 3, "three accepted fixtures");
}

#[test]
fn fixtures_read_as_their_forms() {
    let load = |n: &str| Network::load_onnx(fixtures().join(n)).unwrap();
    let net = load("gemm_tanh.onnx");
    assert_eq!(
        (net.layers(), net.output()),
        (&[3, 5, 2][..], Output::Linear)
    );
    assert!(net.scaling().is_none());

    let net = load("matmul_add.onnx");
    assert_eq!(
        (net.layers(), net.output()),
        (&[4, 6, 3, 1][..], Output::Tanh)
    );
    let s = net.scaling().unwrap();
    assert_eq!(
        (s.input_mean(), s.input_std()),
        (&[0.25; 4][..], &[1.5; 4][..])
    );
    assert!(s.target_mean().is_none());

    let net = load("gemm_transb_standardized.onnx");
    assert_eq!(
        (net.layers(), net.output()),
        (&[5, 8, 2][..], Output::Linear)
    );
    let s = net.scaling().unwrap();
    assert_eq!(s.input_mean().len(), 5);
    assert_eq!(s.target_std().map(<[f32]>::len), Some(2));
}

#[test]
fn other_graphs_are_refused_naming_the_node() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let Some(stem) = name.strip_suffix(".refused.txt") else {
            continue;
        };
        let node = std::fs::read_to_string(&path).unwrap().trim().to_string();
        match Network::load_onnx(fixtures().join(format!("{stem}.onnx"))) {
            Err(Error::Format(m)) => assert!(m.contains(&format!("\"{node}\"")), "{stem}: {m}"),
            r => panic!("{stem}: expected a format error naming {node}, got {r:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 4, "four refused fixtures");
}

#[test]
fn truncated_buffers_are_errors() {
    let bytes = networks()[5].to_onnx();
    for n in 0..bytes.len() {
        assert!(
            matches!(Network::from_onnx(&bytes[..n]), Err(Error::Format(_))),
            "a prefix of {n} of {} bytes",
            bytes.len()
        );
    }
}

#[test]
fn bit_flips_never_panic() {
    let bytes = networks()[17].to_onnx();
    let mut accepted = 0;
    for i in 0..bytes.len() {
        for bit in [0, 3, 7] {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            if let Ok(net) = Network::from_onnx(&b) {
                // a flip in a weight or a name can still be a valid model: it must be usable
                let _ = net.predict(&inputs(net.num_inputs(), 2));
                accepted += 1;
            }
        }
    }
    assert!(accepted < bytes.len() * 3, "some flips must be refused");
}

#[test]
fn c_functions_export_and_import() {
    let layers = [3usize, 4, 2];
    let mut net: *mut NnetNetwork = ptr::null_mut();
    // SAFETY: valid pointers and lengths throughout; every handle and buffer is freed once.
    unsafe {
        assert_eq!(
            nnet_network_new(layers.as_ptr(), 3, 1, 9, 0.5, &mut net),
            NNET_OK
        );
        let (mut buf, mut len) = (ptr::null_mut(), 0usize);
        assert_eq!(nnet_export_onnx_to_buffer(net, &mut buf, &mut len), NNET_OK);
        assert!(!buf.is_null() && len > 0);
        let mut back: *mut NnetNetwork = ptr::null_mut();
        assert_eq!(nnet_import_onnx_from_buffer(buf, len, &mut back), NNET_OK);
        let x = inputs(3, 2);
        let (mut y1, mut y2) = ([0f32; 4], [0f32; 4]);
        assert_eq!(
            nnet_predict(net, x.as_ptr(), 2, 3, y1.as_mut_ptr(), 2),
            NNET_OK
        );
        assert_eq!(
            nnet_predict(back, x.as_ptr(), 2, 3, y2.as_mut_ptr(), 2),
            NNET_OK
        );
        assert_eq!(y1, y2);
        nnet_network_free(back);

        // a corrupt buffer: NNET_ERR_FORMAT and *out untouched
        let mut untouched = ptr::dangling_mut::<NnetNetwork>();
        assert_eq!(
            nnet_import_onnx_from_buffer(buf, len / 2, &mut untouched),
            NNET_ERR_FORMAT
        );
        assert_eq!(untouched, ptr::dangling_mut::<NnetNetwork>());
        nnet_buffer_free(buf, len);
        assert_eq!(
            nnet_export_onnx_to_buffer(net, ptr::null_mut(), &mut len),
            NNET_ERR_NULL_POINTER
        );

        let dir = std::env::temp_dir().join(format!("nnet-onnx-c-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = std::ffi::CString::new(dir.join("c.onnx").to_str().unwrap()).unwrap();
        assert_eq!(nnet_export_onnx(net, path.as_ptr()), NNET_OK);
        let mut back: *mut NnetNetwork = ptr::null_mut();
        assert_eq!(nnet_import_onnx(path.as_ptr(), &mut back), NNET_OK);
        assert_eq!(
            nnet_predict(back, x.as_ptr(), 2, 3, y2.as_mut_ptr(), 2),
            NNET_OK
        );
        assert_eq!(y1, y2);
        nnet_network_free(back);
        let missing = std::ffi::CString::new(dir.join("no.onnx").to_str().unwrap()).unwrap();
        assert_eq!(nnet_import_onnx(missing.as_ptr(), &mut back), NNET_ERR_IO);
        let refused =
            std::ffi::CString::new(fixtures().join("relu_hidden.onnx").to_str().unwrap()).unwrap();
        assert_eq!(
            nnet_import_onnx(refused.as_ptr(), &mut back),
            NNET_ERR_FORMAT
        );
        std::fs::remove_dir_all(&dir).unwrap();
        nnet_network_free(net);
    }
}
