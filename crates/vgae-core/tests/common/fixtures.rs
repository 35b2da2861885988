//! A small embedding and graph that the loss and kernel tests share (their reference values, computed from
//! these with numpy, are in those tests).

use candle_core::{Device, Tensor, Var};

pub const Z: [[f32; 3]; 5] = [
    [0.5, -1.2, 2.0],
    [1.5, 0.3, -0.7],
    [-2.0, 4.0, 1.0],
    [0.1, 0.2, 0.3],
    [3.0, -3.0, 5.0],
];
pub const EDGES: [[u32; 2]; 3] = [[0, 1], [1, 2], [3, 4]];

/// Largest absolute difference of two tensors of the same shape.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

pub fn z_var() -> Var {
    Var::from_tensor(&Tensor::new(&Z, &Device::Cpu).unwrap()).unwrap()
}

pub fn positives(n: u32) -> Vec<[u32; 2]> {
    let mut p: Vec<[u32; 2]> = EDGES.iter().flat_map(|&[u, v]| [[u, v], [v, u]]).collect();
    p.extend((0..n).map(|i| [i, i]));
    p
}
