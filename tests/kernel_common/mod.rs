//! Helpers shared by the integration tests: a small deterministic generator and a reader for
//! the bundled CSV data sets.

#![allow(dead_code)]

use std::path::Path;

/// A tiny deterministic generator (xorshift64*), so that the tests need no seeding policy.
pub struct Gen(u64);

impl Gen {
    /// A generator for `seed` (any value).
    pub fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[-1, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// A small integer in `-k..=k`, as f32.
    pub fn small_int(&mut self, k: i64) -> f32 {
        ((self.next_u64() % (2 * k as u64 + 1)) as i64 - k) as f32
    }
}

/// A data set read from CSV: row-major features and one label per row.
pub struct Csv {
    /// The feature columns, row-major.
    pub x: Vec<f32>,
    /// The last column of every row.
    pub labels: Vec<f32>,
    /// The number of feature columns.
    pub cols: usize,
}

/// Reads a CSV file with a header line, numeric fields, and the label in the last column.
/// Panics with the file, line and field on anything malformed (test data is fixed).
pub fn read_csv(path: impl AsRef<Path>) -> Csv {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let width = header.split(',').count();
    assert!(width >= 2, "{}: header has {width} columns", path.display());
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<f32> = line
            .split(',')
            .map(|f| {
                f.trim().parse::<f32>().unwrap_or_else(|e| {
                    panic!("{} line {}: bad field {f:?}: {e}", path.display(), n + 2)
                })
            })
            .collect();
        assert_eq!(
            fields.len(),
            width,
            "{} line {}: {} fields, header has {width}",
            path.display(),
            n + 2,
            fields.len()
        );
        x.extend_from_slice(&fields[..width - 1]);
        labels.push(fields[width - 1]);
    }
    Csv {
        x,
        labels,
        cols: width - 1,
    }
}

/// The path of a file in the repository's `data/` folder.
pub fn data_path(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}
