//! The NCCL backend on this machine's first GPU with `WORLD_SIZE=1` (a `--features nccl` build on a GPU
//! machine: `scripts/gpu_check.sh` runs it): every collective keeps the one rank's data, and the dense
//! loss split over the world gives the unsplit loss. Several GPUs are not tested here (none are lent).
#![cfg(feature = "nccl")]

use candle_core::{Device, Tensor, Var};
use vgae_core::collective::Collective;
use vgae_core::graph::all_pairs_sharded::softplus_gram_sharded;
use vgae_core::graph::all_pairs_softplus::softplus_gram;
use vgae_nccl::{Launch, NcclWorld};

fn world() -> (NcclWorld, Device) {
    let device = Device::new_cuda(0).expect("a CUDA device: this test runs on a GPU machine");
    let launch = Launch {
        rank: 0,
        world_size: 1,
        local_rank: 0,
    };
    (NcclWorld::init(&device, &launch, None).unwrap(), device)
}

#[test]
fn one_rank_collectives_keep_the_data() {
    let (w, _) = world();
    assert_eq!((w.rank(), w.size()), (0, 1));
    let mut buf = vec![1.5f32, -2.0, 3.25];
    w.all_reduce_sum(&mut buf).unwrap();
    assert_eq!(buf, [1.5, -2.0, 3.25]);
    let mut bytes = b"checkpoint".to_vec();
    w.broadcast(&mut bytes, 0).unwrap();
    assert_eq!(bytes, b"checkpoint");
    assert!(w.broadcast(&mut bytes, 1).is_err(), "no rank 1");
    assert_eq!(w.all_gather(b"abc").unwrap(), vec![b"abc".to_vec()]);
    assert_eq!(w.all_gather(b"").unwrap(), vec![Vec::<u8>::new()]);
    w.barrier().unwrap();
}

#[test]
fn the_split_dense_loss_equals_the_unsplit_one_on_the_gpu() {
    let (w, device) = world();
    let (n, d) = (700, 16);
    let host: Vec<f32> = (0..n * d)
        .map(|i| ((i * 37 % 101) as f32 / 101.0 - 0.5) * 0.6)
        .collect();
    let z = Var::from_tensor(&Tensor::from_vec(host, (n, d), &device).unwrap()).unwrap();
    let split = softplus_gram_sharded(z.as_tensor(), 128, &w).unwrap();
    let whole = softplus_gram(z.as_tensor(), 128).unwrap();
    let (a, b) = (
        split.to_scalar::<f32>().unwrap(),
        whole.to_scalar::<f32>().unwrap(),
    );
    assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
    let ga = split
        .backward()
        .unwrap()
        .get(&z)
        .unwrap()
        .flatten_all()
        .unwrap();
    let gb = whole
        .backward()
        .unwrap()
        .get(&z)
        .unwrap()
        .flatten_all()
        .unwrap();
    let diff = (ga - gb).unwrap().abs().unwrap().max(0).unwrap();
    assert!(diff.to_scalar::<f32>().unwrap() <= 1e-5);
}
