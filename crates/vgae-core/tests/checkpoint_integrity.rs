//! Checkpoint integrity: every tensor's sha256 is recorded on save and checked on load, so a flipped bit is an
//! error naming the tensor; files written before the digests existed still load.

use candle_core::{Device, Tensor};
use std::collections::HashMap;
use vgae_core::checkpoint::{load, save, verify, DIGESTS_KEY, FORMAT_KEY};

fn sample(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("ck.safetensors");
    let w = Tensor::new(&[[1f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &Device::Cpu).unwrap();
    let b = Tensor::new(&[7f64, 8.0], &Device::Cpu).unwrap();
    let meta = HashMap::from([(FORMAT_KEY.to_string(), "test/1".to_string())]);
    save(&path, &[("w".into(), w), ("b".into(), b)], &meta).unwrap();
    path
}

/// Byte offset of a tensor's data in a safetensors file.
fn data_offset(bytes: &[u8], name: &str) -> usize {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    8 + n + header[name]["data_offsets"][0].as_u64().unwrap() as usize
}

#[test]
fn digests_are_recorded_and_match_an_independent_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let ck = load(&path, &Device::Cpu).unwrap();
    let digests: HashMap<String, String> = serde_json::from_str(&ck.metadata[DIGESTS_KEY]).unwrap();
    // sha256 of the f32 little-endian bytes of [1, 2, 3, 4, 5, 6], computed independently:
    //   python3 -c "import hashlib, numpy as np; print(hashlib.sha256(np.arange(1, 7, dtype='<f4').tobytes()).hexdigest())"
    assert_eq!(
        digests["w"],
        "24ae2dfe8df57c1b80e54cef3d90ac3b417fd98973345a5f616bbc9a75dcc202"
    );
    assert_eq!(digests.len(), 2);
    let v = verify(&path).unwrap();
    assert_eq!((v.tensors, v.bytes, v.digests), (2, 24 + 16, true));
}

#[test]
fn a_flipped_bit_in_a_tensor_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let good = std::fs::read(&path).unwrap();
    for name in ["w", "b"] {
        let mut bad = good.clone();
        bad[data_offset(&good, name) + 3] ^= 0x10;
        std::fs::write(&path, &bad).unwrap();
        for e in [
            load(&path, &Device::Cpu).err().unwrap().to_string(),
            verify(&path).unwrap_err().to_string(),
        ] {
            assert!(
                e.contains(&format!("tensor '{name}'"))
                    && e.contains("sha256")
                    && e.contains("ck.safetensors"),
                "{e}"
            );
        }
    }
}

#[test]
fn files_without_digests_still_load_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.safetensors");
    let data: Vec<u8> = [1f32, 2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    let bytes = safetensors::tensor::serialize([("w", view)], None).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let ck = load(&path, &Device::Cpu).unwrap();
    assert_eq!(ck.tensors["w"].to_vec1::<f32>().unwrap(), [1.0, 2.0]);
    assert!(!verify(&path).unwrap().digests);
}

#[test]
fn a_tensor_with_nan_or_inf_is_never_written_and_the_old_file_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let before = std::fs::read(&path).unwrap();
    for bad in [f32::NAN, f32::INFINITY] {
        let w = Tensor::new(&[1f32, bad, 3.0], &Device::Cpu).unwrap();
        let e = save(&path, &[("enc.w".into(), w)], &HashMap::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tensor 'enc.w'") && e.contains("index 1") && e.contains("ck.safetensors"),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
