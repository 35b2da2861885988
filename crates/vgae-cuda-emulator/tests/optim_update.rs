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

/// The one-launch updates over all of a model's tensors (`adagrad_multi_f32`, `adam_multi_f32`, with a table
/// of pointers) give each tensor the bits of its own launch, for tensors of 3000, 0, 7 and 1500 elements (an
/// empty one, and tensors that share a 1024-thread block).
#[test]
fn multi_tensor_updates_give_each_tensor_its_own_launch_bits() {
    use vgae_cuda_emulator::launch_with_buffers;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let sizes = [3000usize, 0, 7, 1500];
    let mut draw =
        |n: usize, lo: f32| -> Vec<f32> { (0..n).map(|_| rng.random_range(lo..1.0)).collect() };
    // Per tensor: p, the states, g.
    let mut tensors: Vec<[Vec<f32>; 4]> = sizes
        .iter()
        .map(|&n| [draw(n, -1.0), draw(n, 0.0), draw(n, 0.0), draw(n, -1.0)])
        .collect();
    let starts: Vec<u64> = std::iter::once(0)
        .chain(sizes.iter().scan(0u64, |s, &n| {
            *s += n as u64;
            Some(*s)
        }))
        .collect();
    let total = *starts.last().unwrap() as u32;
    let (b1, c1, b2, c2, r1, r2, eps, lr) = (0.9f32, 0.1, 0.999, 0.001, 10.0, 1000.0, 1e-8, 0.01);
    for adam in [false, true] {
        let mut want = tensors.clone();
        for t in want.iter_mut() {
            let n = t[0].len() as u32;
            let (grid, block) = for_num_elems(n);
            let [p, m, v, g] = t;
            let (kernel, mut args) = match adam {
                false => (
                    "adagrad_f32",
                    vec![
                        Arg::FloatsOut(p),
                        Arg::FloatsOut(m),
                        Arg::Floats(g),
                        Arg::F32(lr),
                        Arg::F32(eps),
                        Arg::U32(n),
                    ],
                ),
                true => (
                    "adam_f32",
                    vec![
                        Arg::FloatsOut(p),
                        Arg::FloatsOut(m),
                        Arg::FloatsOut(v),
                        Arg::Floats(g),
                        Arg::F32(b1),
                        Arg::F32(c1),
                        Arg::F32(b2),
                        Arg::F32(c2),
                        Arg::F32(r1),
                        Arg::F32(r2),
                        Arg::F32(eps),
                        Arg::F32(lr),
                        Arg::U32(n),
                    ],
                ),
            };
            launch(kernel, grid, block, &mut args, Order::Forward).unwrap();
        }
        let per = if adam { 4 } else { 3 };
        let mut buffers: Vec<Arg> = Vec::new();
        for t in tensors.iter_mut() {
            let [p, m, v, g] = t;
            buffers.push(Arg::FloatsOut(p));
            buffers.push(Arg::FloatsOut(m));
            if adam {
                buffers.push(Arg::FloatsOut(v));
            }
            buffers.push(Arg::Floats(g));
        }
        let table: Vec<usize> = (0..sizes.len() * per).collect();
        let (grid, block) = for_num_elems(total);
        let mut args = vec![Arg::Pointers(&table, &starts), Arg::U32(sizes.len() as u32)];
        let kernel = match adam {
            false => {
                args.extend([Arg::F32(lr), Arg::F32(eps)]);
                "adagrad_multi_f32"
            }
            true => {
                args.extend([b1, c1, b2, c2, r1, r2, eps, lr].map(Arg::F32));
                "adam_multi_f32"
            }
        };
        launch_with_buffers(kernel, grid, block, &mut args, &mut buffers, Order::Forward).unwrap();
        drop(buffers);
        for (k, (got, want)) in tensors.iter().zip(&want).enumerate() {
            for (j, what) in ["parameter", "first state", "second state"]
                .iter()
                .enumerate()
            {
                assert_bits(&got[j], &want[j], &format!("{kernel} tensor {k}: {what}"));
            }
        }
        // The next round starts from the updated tensors.
        tensors = want;
    }
}
