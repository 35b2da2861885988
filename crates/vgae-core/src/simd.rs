//! Run-time picked builds of kernels, on the path [`SimdPath::selected`] names (the widest the CPU has, or
//! `VGAE_SIMD`): `pulp` kernels written once for every instruction set (the dense loss), and plain-Rust
//! element-wise kernels compiled by `multiversion!` for AVX-512F, AVX2+FMA and the baseline (NEON is the
//! aarch64 baseline). Rust never contracts `a * b + c` into an FMA on its own, so every build of a
//! `multiversion!` kernel does the same arithmetic and gives the same bits.

/// `multiversion!(fn name(a: A, b: B) -> R = body);` defines `name`, which calls the `#[inline(always)]`
/// function `body` through its widest build the CPU supports.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) $(-> $r:ty)? = $body:path;) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn v4($($a: $t),*) $(-> $r)? {
                    $body($($a),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn v3($($a: $t),*) $(-> $r)? {
                    $body($($a),*)
                }
                // The selected path is one the CPU has (`SimdPath::selected` checks), so VGAE_SIMD can
                // lower every kernel to AVX2 or scalar for a comparison.
                match $crate::simd::SimdPath::selected() {
                    // SAFETY: the CPU supports the features `v4` was compiled for.
                    $crate::simd::SimdPath::Avx512 => return unsafe { v4($($a),*) },
                    // SAFETY: as above, for `v3`.
                    $crate::simd::SimdPath::Avx2 => return unsafe { v3($($a),*) },
                    _ => {}
                }
            }
            $body($($a),*)
        }
    };
}

pub(crate) use multiversion;

/// The instruction set a portable (`pulp`) kernel runs on: the widest the CPU has, or the one named by
/// `VGAE_SIMD` (`avx512`, `avx2`, `neon`, `scalar`) when the CPU has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SimdPath {
    /// AVX-512F (x86-64-v4), 16 f32 lanes.
    Avx512,
    /// AVX2 + FMA (x86-64-v3), 8 f32 lanes.
    Avx2,
    /// NEON (aarch64), 4 f32 lanes.
    Neon,
    /// One lane, no SIMD.
    Scalar,
}

impl SimdPath {
    /// Every path, widest first.
    pub const ALL: [SimdPath; 4] = [
        SimdPath::Avx512,
        SimdPath::Avx2,
        SimdPath::Neon,
        SimdPath::Scalar,
    ];

    /// The name in `VGAE_SIMD`, tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "avx512",
            SimdPath::Avx2 => "avx2",
            SimdPath::Neon => "neon",
            SimdPath::Scalar => "scalar",
        }
    }

    /// Whether this CPU can run the path.
    pub fn available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx512 => pulp::x86::V4::try_new().is_some(),
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2 => pulp::x86::V3::try_new().is_some(),
            #[cfg(target_arch = "aarch64")]
            SimdPath::Neon => pulp::aarch64::Neon::try_new().is_some(),
            SimdPath::Scalar => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The paths this CPU can run, widest first.
    pub fn available_paths() -> Vec<SimdPath> {
        Self::ALL.into_iter().filter(|p| p.available()).collect()
    }

    /// The path kernels use: `VGAE_SIMD` if set to a path this CPU has, else the widest available.
    pub fn selected() -> SimdPath {
        static PATH: std::sync::OnceLock<SimdPath> = std::sync::OnceLock::new();
        *PATH.get_or_init(|| {
            let asked = std::env::var("VGAE_SIMD").ok();
            let asked = asked
                .as_deref()
                .and_then(|s| Self::ALL.into_iter().find(|p| p.name() == s));
            match asked {
                Some(p) if p.available() => p,
                _ => Self::available_paths()[0],
            }
        })
    }

    /// Runs `op` compiled for this path (the scalar build when the CPU lacks it).
    #[inline]
    pub fn run<Op: pulp::WithSimd>(self, op: Op) -> Op::Output {
        use pulp::Simd;
        match self {
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx512 => {
                if let Some(s) = pulp::x86::V4::try_new() {
                    return Simd::vectorize(s, op);
                }
            }
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2 => {
                if let Some(s) = pulp::x86::V3::try_new() {
                    return Simd::vectorize(s, op);
                }
            }
            #[cfg(target_arch = "aarch64")]
            SimdPath::Neon => {
                if let Some(s) = pulp::aarch64::Neon::try_new() {
                    return Simd::vectorize(s, op);
                }
            }
            _ => {}
        }
        Simd::vectorize(pulp::Scalar::new(), op)
    }
}
