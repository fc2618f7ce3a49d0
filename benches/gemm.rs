//! The GEMM in GFLOP/s (criterion reports them as "elem/s": one element is one flop) at the
//! shapes of a layer's forward product `C = X W` (X: B x rows, W: rows x cols), for every
//! instruction set this CPU runs, followed by a side-by-side table of nnet's GEMM and OpenBLAS
//! `cblas_sgemm` (one thread) measured in the same run.
//!
//! The OpenBLAS figures come from `benches/openblas_sgemm.c`, compiled here with `cc` against
//! the system's OpenBLAS (Debian: `apt-get install libopenblas-dev`) and run with
//! `OPENBLAS_CORETYPE=SkylakeX` unless the environment sets another core; without a C compiler
//! or OpenBLAS that part is skipped with a note.
//!
//! ```sh
//! cargo bench --bench gemm -- --warm-up-time 0.5 --measurement-time 1
//! ```

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use nnet::kernels::gemm::{GemmScratch, MatMut, MatRef};
use nnet::kernels::{Isa, Kernels};

/// (B, rows, cols)
const SHAPES: [(usize, usize, usize); 6] = [
    (256, 785, 256),
    (256, 257, 256),
    (256, 1025, 1024),
    (32, 785, 256),
    (32, 257, 256),
    (32, 1025, 1024),
];

struct Case {
    x: Vec<f32>,
    w: Vec<f32>,
    c: Vec<f32>,
    b: usize,
    rows: usize,
    cols: usize,
}

impl Case {
    fn new((b, rows, cols): (usize, usize, usize)) -> Case {
        Case {
            x: (0..b * rows).map(|i| ((i * 7) % 13) as f32 * 0.1).collect(),
            w: (0..rows * cols)
                .map(|i| ((i * 5) % 11) as f32 * 0.1)
                .collect(),
            c: vec![0.0; b * cols],
            b,
            rows,
            cols,
        }
    }

    fn run(&mut self, k: &Kernels, s: &mut GemmScratch) {
        k.gemm(
            1.0,
            MatRef::row_major(&self.x, self.b, self.rows).unwrap(),
            MatRef::row_major(&self.w, self.rows, self.cols).unwrap(),
            0.0,
            MatMut::row_major(&mut self.c, self.b, self.cols).unwrap(),
            s,
        )
        .unwrap();
        black_box(&self.c);
    }

    fn flops(&self) -> f64 {
        2.0 * (self.b * self.rows * self.cols) as f64
    }

    /// The best of 15 timings of enough calls to last about 20 ms, in GFLOP/s (the way the
    /// OpenBLAS program measures).
    fn best_gflops(&mut self, k: &Kernels, s: &mut GemmScratch) -> f64 {
        let mut reps = 1;
        loop {
            let t = Instant::now();
            for _ in 0..reps {
                self.run(k, s);
            }
            if t.elapsed().as_secs_f64() > 0.02 {
                break;
            }
            reps *= 2;
        }
        let mut best = f64::MAX;
        for _ in 0..15 {
            let t = Instant::now();
            for _ in 0..reps {
                self.run(k, s);
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        self.flops() / best * 1e-9
    }
}

/// OpenBLAS GFLOP/s per shape, or a reason why there are none.
fn openblas(shapes: &[(usize, usize, usize)]) -> Result<Vec<f64>, String> {
    let dir = std::env::var("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let exe = dir.join("openblas_sgemm");
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| build_openblas(&exe)).clone()?;
    let core = std::env::var("OPENBLAS_CORETYPE").unwrap_or_else(|_| "SkylakeX".into());
    let out = Command::new(&exe)
        .args(shapes.iter().map(|(b, r, c)| format!("{b}:{r}:{c}")))
        .env("OPENBLAS_CORETYPE", &core)
        .env("OPENBLAS_NUM_THREADS", "1")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed", exe.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3)?.parse().ok())
        .collect())
}

/// Compiles `benches/openblas_sgemm.c` to `exe`.
fn build_openblas(exe: &std::path::Path) -> Result<(), String> {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/openblas_sgemm.c");
    let out = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(exe)
        .arg(src)
        .args(["-lopenblas", "-lm"])
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cannot build against OpenBLAS (apt-get install libopenblas-dev): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    Ok(())
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("gemm");
    for isa in Isa::available() {
        let k = Kernels::for_isa(isa).unwrap();
        let mut s = k.gemm_scratch().unwrap();
        for &shape in &SHAPES {
            if isa == Isa::Scalar && shape.2 == 1024 {
                continue; // slow and says nothing new
            }
            let mut case = Case::new(shape);
            g.throughput(Throughput::Elements(case.flops() as u64));
            let id = format!("{isa}/B{}_{}x{}", shape.0, shape.1, shape.2);
            g.bench_function(BenchmarkId::from_parameter(id), |bench| {
                bench.iter(|| case.run(&k, &mut s))
            });
        }
    }
    g.finish();

    // side by side with OpenBLAS, measured the same way in this run: three rounds that
    // alternate between the two, keeping each one's best (other load only slows a run down)
    let k = Kernels::selected();
    let mut s = k.gemm_scratch().unwrap();
    // the blocking planned from this CPU's caches, measured beside the table's own
    let plan = k.gemm_plan();
    let kp = k.with_gemm_plan(&plan).unwrap();
    let mut sp = kp.gemm_scratch().unwrap();
    println!(
        "\nC = X W, one thread, GFLOP/s (best of 3 alternating rounds), nnet {}: blocking \
         (kc, mc, nc) {:?}; planned {:?} from {:?}",
        k.isa(),
        k.gemm_blocking(),
        plan,
        nnet::kernels::cpu::CacheInfo::detect()
    );
    println!("| B | rows x cols | nnet | nnet planned | OpenBLAS | nnet / OpenBLAS |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: |");
    let mut skipped = None;
    for &shape in &SHAPES {
        let (mut ours, mut planned, mut theirs) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..3 {
            ours = ours.max(Case::new(shape).best_gflops(&k, &mut s));
            planned = planned.max(Case::new(shape).best_gflops(&kp, &mut sp));
            if skipped.is_none() {
                match openblas(&[shape]) {
                    Ok(v) => theirs = theirs.max(v.first().copied().unwrap_or(0.0)),
                    Err(why) => skipped = Some(why),
                }
            }
        }
        let (b, r, col) = shape;
        if skipped.is_none() {
            println!(
                "| {b} | {r}x{col} | {ours:.1} | {planned:.1} | {theirs:.1} | {:.2} |",
                ours / theirs
            );
        } else {
            println!("| {b} | {r}x{col} | {ours:.1} | {planned:.1} | - | - |");
        }
    }
    if let Some(why) = skipped {
        println!("(OpenBLAS skipped: {why})");
    }
    c.final_summary();
}
