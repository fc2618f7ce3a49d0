#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nnet_fuzz::targets::onnx(data));
