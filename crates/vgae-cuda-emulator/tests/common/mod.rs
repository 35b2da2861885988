//! Helpers of the emulator's tests.
#![allow(dead_code)] // each test file uses some of these

/// The largest |a − b| over `tol · (max |b| + 1e-6)`, after checking lengths and that `a` is finite.
pub fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(0f32, |m, x| m.max(x.abs())) + 1e-6;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.is_finite() && (x - y).abs() <= tol * scale,
            "{what}[{i}]: {x} against {y} (scale {scale})"
        );
    }
}

/// Bit-for-bit equality of two float slices, naming the first difference.
pub fn assert_bits(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
        panic!("{what}[{i}]: {} against {}", a[i], b[i]);
    }
}
