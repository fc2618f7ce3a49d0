//! The data caches of the CPU, detected once at run time: CPUID (leaf 4 on Intel, leaf
//! 0x8000001D on AMD), else `/sys/devices/system/cpu/cpu0/cache`, else a conservative
//! default. The GEMM plan ([`super::gemm::plan`]) derives its blocking from them.

use std::path::Path;
use std::sync::OnceLock;

/// One cache level as the blocking model needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cache {
    /// Capacity in bytes.
    pub size: usize,
    /// Associativity (ways); a fully associative cache reports `size / line`.
    pub ways: usize,
    /// Line size in bytes.
    pub line: usize,
    /// Logical processors that share the cache.
    pub shared_by: usize,
}

impl Cache {
    /// A cache of `kib` KiB, `ways`-way, 64-byte lines, private to one core.
    pub const fn kib(kib: usize, ways: usize) -> Cache {
        Cache {
            size: kib * 1024,
            ways,
            line: 64,
            shared_by: 1,
        }
    }

    /// Sets: `size / (ways * line)` (at least 1).
    pub fn sets(&self) -> usize {
        (self.size / (self.ways * self.line).max(1)).max(1)
    }
}

/// The data caches of one core: L1d, L2 and the last level (when there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheInfo {
    /// The level-1 data cache.
    pub l1d: Cache,
    /// The level-2 cache.
    pub l2: Cache,
    /// The level-3 cache, if any.
    pub l3: Option<Cache>,
    /// Where the figures came from: "cpuid", "sysfs" or "default".
    pub source: &'static str,
}

impl CacheInfo {
    /// What is assumed when nothing can be detected: 32 KiB 8-way L1d, 512 KiB 8-way L2, no L3.
    pub const DEFAULT: CacheInfo = CacheInfo {
        l1d: Cache::kib(32, 8),
        l2: Cache::kib(512, 8),
        l3: None,
        source: "default",
    };

    /// The caches of this CPU, detected once and cached for the process.
    pub fn detect() -> CacheInfo {
        static INFO: OnceLock<CacheInfo> = OnceLock::new();
        *INFO.get_or_init(|| {
            from_cpuid()
                .or_else(|| from_sysfs(Path::new("/sys/devices/system/cpu/cpu0/cache")))
                .unwrap_or(CacheInfo::DEFAULT)
        })
    }

    /// Assembles the data and unified caches of levels 1 to 3 from `(level, cache)` pairs;
    /// `None` without an L1d and an L2.
    fn from_levels(levels: &[(u32, Cache)], source: &'static str) -> Option<CacheInfo> {
        let at = |l: u32| levels.iter().find(|(lv, _)| *lv == l).map(|&(_, c)| c);
        Some(CacheInfo {
            l1d: at(1)?,
            l2: at(2)?,
            l3: at(3),
            source,
        })
    }
}

/// Decodes one subleaf of CPUID leaf 4 or 0x8000001D (same layout): `Some((level, cache))`
/// for a data or unified cache, `None` for an instruction cache or the end of the list.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86_64 detection
pub(crate) fn decode_cache_leaf(eax: u32, ebx: u32, ecx: u32) -> Option<(u32, Cache)> {
    let kind = eax & 0x1f;
    if kind != 1 && kind != 3 {
        return None;
    }
    let level = (eax >> 5) & 0x7;
    let line = (ebx & 0xfff) as usize + 1;
    let partitions = ((ebx >> 12) & 0x3ff) as usize + 1;
    let ways = ((ebx >> 22) & 0x3ff) as usize + 1;
    let sets = ecx as usize + 1;
    let shared_by = ((eax >> 14) & 0xfff) as usize + 1;
    Some((
        level,
        Cache {
            size: ways * partitions * line * sets,
            ways,
            line,
            shared_by,
        },
    ))
}

#[cfg(target_arch = "x86_64")]
fn from_cpuid() -> Option<CacheInfo> {
    use std::arch::x86_64::__cpuid_count;
    let v = __cpuid_count(0, 0);
    let vendor: Vec<u8> = [v.ebx, v.edx, v.ecx]
        .iter()
        .flat_map(|r| r.to_le_bytes())
        .collect();
    let leaf = match &vendor[..] {
        b"GenuineIntel" if v.eax >= 4 => 4,
        b"AuthenticAMD" | b"HygonGenuine" => {
            let ext = __cpuid_count(0x8000_0000, 0).eax;
            // topology extensions (CPUID 0x80000001 ECX bit 22) announce leaf 0x8000001D
            let topo = ext >= 0x8000_0001 && __cpuid_count(0x8000_0001, 0).ecx & (1 << 22) != 0;
            if ext < 0x8000_001D || !topo {
                return None;
            }
            0x8000_001D
        }
        _ => return None,
    };
    let mut levels = Vec::new();
    for sub in 0..16 {
        let r = __cpuid_count(leaf, sub);
        if r.eax & 0x1f == 0 {
            break;
        }
        levels.extend(decode_cache_leaf(r.eax, r.ebx, r.ecx));
    }
    CacheInfo::from_levels(&levels, "cpuid")
}

#[cfg(not(target_arch = "x86_64"))]
fn from_cpuid() -> Option<CacheInfo> {
    None
}

/// Parses a sysfs cache size: "32K", "1024K", "32M" or a number of bytes.
fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mul) = match s.as_bytes().last()? {
        b'K' => (&s[..s.len() - 1], 1024),
        b'M' => (&s[..s.len() - 1], 1024 * 1024),
        b'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mul)
}

/// The number of CPUs in a sysfs list such as "0-1,4,6-7".
fn count_cpu_list(s: &str) -> Option<usize> {
    let mut n = 0;
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    Some(n.max(1))
}

/// Reads `dir/index*/{level,type,size,ways_of_associativity,coherency_line_size,
/// shared_cpu_list}` (the layout of `/sys/devices/system/cpu/cpu0/cache`).
pub(crate) fn from_sysfs(dir: &Path) -> Option<CacheInfo> {
    let mut levels = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let p = entry.path();
        let read = |f: &str| std::fs::read_to_string(p.join(f)).ok();
        let kind = read("type")?;
        if kind.trim() == "Instruction" {
            continue;
        }
        let level = read("level")?.trim().parse::<u32>().ok()?;
        let size = parse_size(&read("size")?)?;
        let line = read("coherency_line_size")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(64);
        let ways = read("ways_of_associativity")
            .and_then(|s| s.trim().parse::<usize>().ok())
            .filter(|&w| w > 0)
            .unwrap_or(8);
        let shared_by = read("shared_cpu_list")
            .and_then(|s| count_cpu_list(&s))
            .unwrap_or(1);
        levels.push((
            level,
            Cache {
                size,
                ways,
                line,
                shared_by,
            },
        ));
    }
    CacheInfo::from_levels(&levels, "sysfs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuid_cache_leaves_decode() {
        // Zen 4 leaf 0x8000001D subleaf 0: L1d, 8 ways, 64 sets, 64-byte lines, 2 threads
        let eax = 1 | (1 << 5) | (1 << 14);
        let ebx = 63 | (7 << 22);
        let (level, c) = decode_cache_leaf(eax, ebx, 63).unwrap();
        assert_eq!(level, 1);
        assert_eq!(
            c,
            Cache {
                size: 32 * 1024,
                ways: 8,
                line: 64,
                shared_by: 2
            }
        );
        assert_eq!(c.sets(), 64);
        // a unified L2 of 2048 sets x 8 ways = 1 MiB
        let (level, c) = decode_cache_leaf(3 | (2 << 5), 63 | (7 << 22), 2047).unwrap();
        assert_eq!((level, c.size), (2, 1024 * 1024));
        // instruction caches and the end of the list are skipped
        assert_eq!(decode_cache_leaf(2 | (1 << 5), ebx, 63), None);
        assert_eq!(decode_cache_leaf(0, 0, 0), None);
    }

    #[test]
    fn sysfs_sizes_and_lists_parse() {
        assert_eq!(parse_size("32K\n"), Some(32 * 1024));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("K"), None);
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0,2-3,8"), Some(4));
        assert_eq!(count_cpu_list("3-1"), None);
    }

    #[test]
    fn a_sysfs_tree_reads_back() {
        let dir = std::env::temp_dir().join(format!("nnet-cache-{}", std::process::id()));
        let entries = [
            ("index0", "1", "Data", "48K", "12", "0-1"),
            ("index1", "1", "Instruction", "32K", "8", "0-1"),
            ("index2", "2", "Unified", "2048K", "16", "0-1"),
            ("index3", "3", "Unified", "105M", "15", "0-55"),
        ];
        for (idx, level, kind, size, ways, shared) in entries {
            let d = dir.join(idx);
            std::fs::create_dir_all(&d).unwrap();
            for (f, v) in [
                ("level", level),
                ("type", kind),
                ("size", size),
                ("ways_of_associativity", ways),
                ("coherency_line_size", "64"),
                ("shared_cpu_list", shared),
            ] {
                std::fs::write(d.join(f), format!("{v}\n")).unwrap();
            }
        }
        let info = from_sysfs(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(info.source, "sysfs");
        assert_eq!(
            info.l1d,
            Cache {
                size: 48 * 1024,
                ways: 12,
                line: 64,
                shared_by: 2
            }
        );
        assert_eq!(info.l2.size, 2048 * 1024);
        assert_eq!(info.l3.unwrap().shared_by, 56);
        assert!(from_sysfs(&dir).is_none());
    }

    #[test]
    fn detection_finds_two_levels() {
        let info = CacheInfo::detect();
        assert!(
            info.l1d.size >= 4096 && info.l2.size >= info.l1d.size,
            "{info:?}"
        );
        assert!(info.l1d.ways >= 1 && info.l1d.line >= 16);
    }
}
