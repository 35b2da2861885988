//! The optimiser kernels (`kernels/optim_update.cu`) emulated against the CPU's in-place updates: the
//! kernel file claims the CPU's bits from the same inputs (no contraction into FMAs, IEEE ÷ and √), checked
//! here over three Adam steps of `optim::Adam` on 3000 elements (past one 1024-thread block).

mod common;

use candle_core::{Device, Tensor, Var};
use common::assert_bits;
use rand::{Rng, SeedableRng};
use vgae_core::optim::Adam;
use vgae_cuda_emulator::{for_num_elems, launch, Arg, Order};

#[test]
fn adam_kernel_gives_the_cpu_update_bit_for_bit() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let n = 3000;
    let p0: Vec<f32> = (0..n).map(|_| rng.random_range(-1f32..1.0)).collect();
    let var = Var::from_tensor(&Tensor::from_vec(p0.clone(), n, &Device::Cpu).unwrap()).unwrap();
    let mut opt = Adam::new(vec![("w".into(), var.clone())], 0.01).unwrap();
    let (mut p, mut m, mut v) = (p0, vec![0f32; n], vec![0f32; n]);
    for t in 1..=3 {
        // Gradients of every sign and scale, some exactly zero.
        let g: Vec<f32> = (0..n)
            .map(|i| match i % 7 {
                0 => 0.0,
                _ => rng.random_range(-1f32..1.0) * 10f32.powi(rng.random_range(-6..2)),
            })
            .collect();
        let gt = Tensor::from_vec(g.clone(), n, &Device::Cpu).unwrap();
        opt.step_each(&[Some(gt)]).unwrap();
        // The constants as `Adam::step_each` derives them for the CUDA launch.
        let (b1, b2, eps, lr) = (opt.beta1, opt.beta2, opt.eps, opt.lr);
        let (bc1, bc2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let (grid, block) = for_num_elems(n as u32);
        let mut args = [
            Arg::FloatsOut(&mut p),
            Arg::FloatsOut(&mut m),
            Arg::FloatsOut(&mut v),
            Arg::Floats(&g),
            Arg::F32(b1 as f32),
            Arg::F32((1.0 - b1) as f32),
            Arg::F32(b2 as f32),
            Arg::F32((1.0 - b2) as f32),
            Arg::F32((1.0 / bc1) as f32),
            Arg::F32((1.0 / bc2) as f32),
            Arg::F32(eps as f32),
            Arg::F32(lr as f32),
            Arg::U32(n as u32),
        ];
        launch("adam_f32", grid, block, &mut args, Order::Forward).unwrap();
        let cpu: Vec<f32> = var.as_tensor().to_vec1().unwrap();
        assert_bits(&p, &cpu, &format!("Adam step {t}: parameter"));
    }
}

/// Adagrad's kernel against its formula in the CPU's operation order (`optim::fused`'s `adagrad_body`:
/// `s += g²; p −= g / (√s + ε) · lr`), bit for bit.
#[test]
fn adagrad_kernel_gives_the_cpu_formula_bit_for_bit() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let n = 2500;
    let mut p: Vec<f32> = (0..n).map(|_| rng.random_range(-1f32..1.0)).collect();
    let mut s: Vec<f32> = (0..n).map(|_| rng.random_range(0f32..2.0)).collect();
    let g: Vec<f32> = (0..n).map(|_| rng.random_range(-1f32..1.0)).collect();
    let (lr, eps) = (0.01f32, 1e-10f32);
    let (mut pw, mut sw) = (p.clone(), s.clone());
    for i in 0..n {
        sw[i] += g[i] * g[i];
        pw[i] -= g[i] / (sw[i].sqrt() + eps) * lr;
    }
    let (grid, block) = for_num_elems(n as u32);
    let mut args = [
        Arg::FloatsOut(&mut p),
        Arg::FloatsOut(&mut s),
        Arg::Floats(&g),
        Arg::F32(lr),
        Arg::F32(eps),
        Arg::U32(n as u32),
    ];
    launch("adagrad_f32", grid, block, &mut args, Order::Forward).unwrap();
    assert_bits(&s, &sw, "Adagrad accumulator");
    assert_bits(&p, &pw, "Adagrad parameter");
}
