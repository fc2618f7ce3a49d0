//! The blocking of the GEMM computed from the caches of the CPU and the register tile, after
//! the analytic model of BLIS (Low, Igual, Smith, Quintana-Orti, "Analytical modeling is
//! enough for high-performance BLIS", ACM TOMS 43(2), 2016):
//!
//! - `kc`: the `kc x nr` micro-panel of B stays in L1 while `mr x kc` micro-panels of A stream
//!   through it. Of the `W1` ways of L1 one is left for the stream of C, and the rest is split in
//!   the ratio of the panels: A gets `C_A = floor((W1 - 1) / (1 + nr / mr))` ways, so
//!   `kc = C_A * sets1 * line1 / (mr * 4)`, rounded down to a multiple of 8.
//! - `mc`: the `mc x kc` block of A stays in L2 while micro-panels of B stream: all ways but one
//!   (for C) and those a B micro-panel needs, `mc = C_A2 * sets2 * line2 / (kc * 4)`, rounded
//!   down to a multiple of `mr`.
//! - `nc`: the `kc x nc` block of B stays in this core's share of L3 (all ways but one), or in
//!   half of L2 without an L3, rounded down to a multiple of `nr`.
//! - rows per task: the rows of a batch whose packed A-block (`rows x kc`) takes half of L2, a
//!   multiple of `mr`.
//!
//! Each size is kept within bounds that keep the scratch buffers small and the loops long
//! enough to amortize the micro-kernel's entry.

use crate::kernels::cpu::{Cache, CacheInfo};

use super::Blocking;

/// The bounds of `kc`.
const KC_RANGE: (usize, usize) = (64, 1024);
/// The largest `mc` and `nc` (floats of the packed blocks stay below 16 MiB).
const MC_MAX: usize = 4096;
const NC_MAX: usize = 8192;
/// The largest chunk of rows per task.
const ROWS_MAX: usize = 256;

/// The blocking of one register tile on one CPU; `Debug` prints it on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Tile rows of the micro-kernel.
    pub mr: usize,
    /// Tile columns of the micro-kernel.
    pub nr: usize,
    /// The longest k-block.
    pub kc: usize,
    /// Rows of an A-block.
    pub mc: usize,
    /// Columns of a B-block.
    pub nc: usize,
    /// Rows of a batch per parallel task.
    pub rows_per_task: usize,
}

/// The bytes of `ways` ways of `c`.
fn way_bytes(c: &Cache, ways: usize) -> usize {
    ways * c.sets() * c.line
}

/// `x` rounded down to a multiple of `m`, at least `m`.
fn round_down(x: usize, m: usize) -> usize {
    (x / m * m).max(m)
}

impl Plan {
    /// The blocking for an `mr x nr` tile of f32 on a CPU with `caches`.
    pub fn new(caches: &CacheInfo, mr: usize, nr: usize) -> Plan {
        assert!(mr > 0 && nr > 0);
        let f = std::mem::size_of::<f32>();
        let (l1, l2) = (&caches.l1d, &caches.l2);
        // kc: A's share of L1 next to the resident B micro-panel
        let w1 = l1.ways.max(2);
        let ways_a = ((w1 - 1) * mr / (mr + nr)).max(1);
        let kc = (way_bytes(l1, ways_a) / (mr * f)) / 8 * 8;
        let kc = kc.clamp(KC_RANGE.0, KC_RANGE.1);
        // mc: the A block in L2, next to a streaming B micro-panel and C
        let w2 = l2.ways.max(2);
        let ways_b2 = (kc * nr * f).div_ceil(way_bytes(l2, 1).max(1));
        let ways_a2 = w2.saturating_sub(1 + ways_b2).max(1);
        let mc = round_down((way_bytes(l2, ways_a2) / (kc * f)).min(MC_MAX), mr);
        // nc: the B block in this core's share of L3 (or half of L2)
        let room = match &caches.l3 {
            Some(l3) => way_bytes(l3, l3.ways.max(2) - 1) / l3.shared_by.max(1),
            None => l2.size / 2,
        };
        let nc = round_down((room / (kc * f)).min(NC_MAX), nr);
        let rows_per_task = round_down((l2.size / 2 / (kc * f)).min(ROWS_MAX), mr);
        Plan {
            mr,
            nr,
            kc,
            mc,
            nc,
            rows_per_task,
        }
    }

    /// The panel sizes of the driver.
    pub(crate) fn blocking(&self) -> Blocking {
        Blocking {
            kc: self.kc,
            mc: self.mc,
            nc: self.nc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caches(l1: Cache, l2: Cache, l3: Option<Cache>) -> CacheInfo {
        CacheInfo {
            l1d: l1,
            l2,
            l3,
            source: "test",
        }
    }

    fn l3(mib: usize, ways: usize, shared_by: usize) -> Cache {
        Cache {
            shared_by,
            ..Cache::kib(mib * 1024, ways)
        }
    }

    const TILES: [(usize, usize); 4] = [(8, 32), (6, 16), (8, 12), (4, 8)];

    /// The invariants of every plan: multiples of the tile, within bounds, and the resident
    /// blocks fit the caches the model assigns them to.
    fn check(c: &CacheInfo, p: &Plan) {
        let f = 4;
        assert!(
            p.kc.is_multiple_of(8) && (KC_RANGE.0..=KC_RANGE.1).contains(&p.kc),
            "{p:?}"
        );
        assert!(
            p.mc.is_multiple_of(p.mr)
                && p.nc.is_multiple_of(p.nr)
                && p.rows_per_task.is_multiple_of(p.mr),
            "{p:?}"
        );
        assert!(
            p.mc <= MC_MAX && p.nc <= NC_MAX && p.rows_per_task <= ROWS_MAX,
            "{p:?}"
        );
        if p.kc > KC_RANGE.0 {
            // B and A micro-panels together leave a way of L1 free
            assert!(
                (p.mr + p.nr) * p.kc * f <= c.l1d.size - way_bytes(&c.l1d, 1),
                "{p:?}"
            );
        }
        assert!(p.mc * p.kc * f < c.l2.size, "{p:?}");
    }

    #[test]
    fn zen3_32k_512k() {
        let c = caches(Cache::kib(32, 8), Cache::kib(512, 8), Some(l3(32, 16, 8)));
        for (mr, nr) in TILES {
            check(&c, &Plan::new(&c, mr, nr));
        }
        let p = Plan::new(&c, 6, 16);
        // one of the 7 free ways of L1 for A: 4096 bytes / (6 * 4) = 170 -> 168; six ways of
        // L2 for A: 384 KiB / (168 * 4) = 585 -> 582; 15/16 of 32 MiB / 8 cores / 672 -> 5840
        assert_eq!((p.kc, p.mc, p.nc), (168, 582, 5840), "{p:?}");
        assert_eq!(p.rows_per_task, 252);
    }

    #[test]
    fn zen4_32k_1m() {
        let c = caches(Cache::kib(32, 8), Cache::kib(1024, 8), Some(l3(32, 16, 8)));
        for (mr, nr) in TILES {
            check(&c, &Plan::new(&c, mr, nr));
        }
        let p = Plan::new(&c, 8, 32);
        assert_eq!((p.kc, p.mc, p.nc), (128, 1536, 7680), "{p:?}");
        let scalar = Plan::new(&c, 4, 8);
        assert_eq!(scalar.kc, 512, "{scalar:?}");
    }

    #[test]
    fn skylake_x_32k_1m() {
        // 32 KiB 8-way L1d, 1 MiB 16-way L2, 1.375 MiB of 11-way L3 per core
        let l3 = Cache {
            size: 1408 * 1024 * 18,
            ways: 11,
            line: 64,
            shared_by: 18,
        };
        let c = caches(Cache::kib(32, 8), Cache::kib(1024, 16), Some(l3));
        for (mr, nr) in TILES {
            check(&c, &Plan::new(&c, mr, nr));
        }
        let p = Plan::new(&c, 8, 32);
        assert_eq!((p.kc, p.mc), (128, 1792), "{p:?}");
        // 10 of 11 ways of the per-core 1.375 MiB: 1280 KiB / (128 * 4)
        assert_eq!(p.nc, 2560, "{p:?}");
    }

    #[test]
    fn apple_like_128k_4m_no_l3() {
        let big = |kib, ways| Cache {
            line: 128,
            ..Cache::kib(kib, ways)
        };
        let c = caches(big(128, 8), big(4096, 16), None);
        for (mr, nr) in TILES {
            check(&c, &Plan::new(&c, mr, nr));
        }
        let p = Plan::new(&c, 8, 12);
        // two of the 7 free ways for A: 32 KiB / (8 * 4) = 1024
        assert_eq!(p.kc, 1024, "{p:?}");
        // 14 of 16 ways of L2 for A: 3.5 MiB / 4096 = 896; half of L2 for B: 512 -> 504
        assert_eq!((p.mc, p.nc, p.rows_per_task), (896, 504, 256), "{p:?}");
    }

    #[test]
    fn a_tiny_cache_still_gives_a_usable_plan() {
        let c = caches(Cache::kib(4, 1), Cache::kib(16, 1), None);
        let p = Plan::new(&c, 8, 32);
        assert!(KC_RANGE.0 <= p.kc && p.kc <= 128, "{p:?}");
        assert!(
            p.mc >= p.mr && p.nc >= p.nr && p.rows_per_task >= p.mr,
            "{p:?}"
        );
    }
}
