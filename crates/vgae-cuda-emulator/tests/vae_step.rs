//! The VAE device step (`Vae::device_grads`) on the CPU with its passes run by the CUDA kernels of
//! `kernels/vae_step.cu` (emulated, with the arguments and launch geometry `passes.rs` gives them) against
//! the same step with the passes' Rust twins, for both decoders and activations; and the kernels' result
//! independent of the order in which a block's threads run (their sums are fixed trees).

mod common;

use candle_core::{Device, Tensor};
use common::{assert_bits, assert_close};
use vgae_core::rng::RunRng;
use vgae_core::vae::config::{Activation, Arch, Likelihood, VaeConfig};
use vgae_core::vae::{with_host_kernels, KernelGeometry, Vae};
use vgae_cuda_emulator::{launch, Arg, Order};

/// The emulated kernels as the step's [`vgae_core::vae::HostKernels`]: a block's threads in reverse order
/// when `REVERSE`.
fn emulated<const REVERSE: bool>(
    name: &str,
    g: KernelGeometry,
    inputs: &[&[f32]],
    outputs: &mut [Vec<f32>],
    dims: &[u32],
) -> Result<(), String> {
    let mut args: Vec<Arg> = inputs.iter().map(|v| Arg::Floats(v)).collect();
    args.extend(outputs.iter_mut().map(|v| Arg::FloatsOut(v)));
    args.extend(dims.iter().map(|&d| Arg::U32(d)));
    let order = if REVERSE {
        Order::Reverse
    } else {
        Order::Forward
    };
    launch(name, g.grid, g.block, &mut args, order)?;
    // The step's outputs start as NaN: every element must have been written.
    for (k, o) in outputs.iter().enumerate() {
        if let Some(i) = o.iter().position(|x| x.is_nan()) {
            return Err(format!("output {k} element {i} left unwritten or NaN"));
        }
    }
    Ok(())
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn vae_step_kernels_match_their_rust_twins_in_the_real_step() {
    let dev = Device::Cpu;
    // (arch, decoder, hidden override, batch): rows past one 1024-thread block and 300 pixels past one
    // 256-thread row block exercise the bounds checks and the strided row loops.
    let cases = [
        (Arch::Lecture, Likelihood::Bernoulli, Some(vec![40, 20]), 37),
        (Arch::Paper, Likelihood::Bernoulli, Some(vec![50]), 37),
        (Arch::Lecture, Likelihood::Gaussian, Some(vec![40, 20]), 37),
        (Arch::Paper, Likelihood::Gaussian, Some(vec![50]), 37),
        (Arch::Paper, Likelihood::Bernoulli, Some(Vec::new()), 300),
    ];
    for (seed, (arch, lik, hidden, rows)) in cases.into_iter().enumerate() {
        let mut cfg = VaeConfig::new(arch, 15, 20, 4, lik);
        if let Some(h) = hidden {
            cfg.hidden = h;
        }
        let what = format!("{arch:?} {lik:?} {:?} {:?}", cfg.hidden, cfg.activation);
        let m = Vae::new(&cfg, &mut RunRng::new(seed as u64), &dev).unwrap();
        if cfg.activation == Activation::Tanh {
            // N(0, 0.01²) weights leave every unit near 0: scale them up so the slopes are exercised.
            for (_, v) in m.params() {
                v.set(&(v.as_tensor() * 40.0).unwrap()).unwrap();
            }
        }
        let mut rng = RunRng::new(seed as u64 + 10);
        let x = rng.uniform(0.0, 1.0, &[rows, 300], &dev).unwrap();
        let eps = rng.normal(&[rows, 4], &dev).unwrap();
        let (want_loss, want) = m.device_grads(&x, &eps).unwrap();
        let (loss, got) =
            with_host_kernels(emulated::<false>, || m.device_grads(&x, &eps)).unwrap();
        let (loss_r, got_r) =
            with_host_kernels(emulated::<true>, || m.device_grads(&x, &eps)).unwrap();
        assert_close(
            &flat(&loss),
            &flat(&want_loss),
            1e-5,
            &format!("{what}: loss"),
        );
        assert_bits(
            &flat(&loss_r),
            &flat(&loss),
            &format!("{what}: loss, reversed threads"),
        );
        for (((name, _), g), (w, gr)) in m.params().iter().zip(&got).zip(want.iter().zip(&got_r)) {
            assert_close(&flat(g), &flat(w), 1e-5, &format!("{what} {name}"));
            assert_bits(
                &flat(gr),
                &flat(g),
                &format!("{what} {name}, reversed threads"),
            );
        }
    }
}

/// A kernel given the wrong arguments is refused by name, not run.
#[test]
fn launch_refuses_a_wrong_argument_list_naming_it() {
    let (y, b) = ([1f32; 6], [0f32; 3]);
    let mut out = [0f32; 6];
    fn g(args: &mut [Arg]) -> Result<(), String> {
        launch(
            "bias_act_f32",
            [1, 1, 1],
            [1024, 1, 1],
            args,
            Order::Forward,
        )
    }
    let mut args = [
        Arg::Floats(&y),
        Arg::Floats(&b),
        Arg::FloatsOut(&mut out),
        Arg::U32(2),
    ];
    let e = g(&mut args).unwrap_err();
    assert!(
        e.contains("bias_act_f32") && e.contains("4 arguments") && e.contains("takes 6"),
        "{e}"
    );
    let mut args = [
        Arg::Floats(&y),
        Arg::Floats(&b),
        Arg::FloatsOut(&mut out),
        Arg::U32(2),
        Arg::F32(3.0),
        Arg::U32(1),
    ];
    let e = g(&mut args).unwrap_err();
    assert!(e.contains("argument 4") && e.contains("wrong type"), "{e}");
    let e = launch("no_such_f32", [1, 1, 1], [1, 1, 1], &mut [], Order::Forward).unwrap_err();
    assert!(e.contains("no such kernel"), "{e}");
}

/// Writes past a buffer's end and into an input are caught: `bias_act_f32` told the output holds 2 rows
/// more than it does, and given its output as an input.
#[test]
fn launch_catches_overruns_and_writes_into_inputs() {
    let (y, b) = ([1f32; 12], [0f32; 3]);
    // bias_act_f32(y, b, out, rows, cols = 3, identity).
    let run = |out: Arg, rows: u32| {
        let mut args = [
            Arg::Floats(&y),
            Arg::Floats(&b),
            out,
            Arg::U32(rows),
            Arg::U32(3),
            Arg::U32(0),
        ];
        launch(
            "bias_act_f32",
            [1, 1, 1],
            [1024, 1, 1],
            &mut args,
            Order::Forward,
        )
        .unwrap_err()
    };
    let mut out = [0f32; 6];
    let e = run(Arg::FloatsOut(&mut out), 4);
    assert!(e.contains("past the end of argument 2"), "{e}");
    let e = run(Arg::Floats(&out), 2);
    assert!(e.contains("into input argument 2"), "{e}");
}
