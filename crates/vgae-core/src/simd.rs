//! Run-time picked builds of plain-Rust kernels: the same source compiled for AVX-512F, for AVX2+FMA and for the
//! baseline, so the auto-vectoriser can use the widest registers the CPU has. Rust never contracts `a * b + c`
//! into an FMA on its own, so every build does the same arithmetic and gives the same bits.

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
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports the features `v4` was compiled for.
                    return unsafe { v4($($a),*) };
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: as above, for `v3`.
                    return unsafe { v3($($a),*) };
                }
            }
            $body($($a),*)
        }
    };
}

pub(crate) use multiversion;
