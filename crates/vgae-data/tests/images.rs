//! Image datasets from the real files in `VGAE_DATA_DIR` (MNIST, Fashion-MNIST, Frey Face), and the IDX /
//! MAT readers on mutated copies of them. These tests fail (never skip) when the data directory is missing.

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};
use vgae_data::images::{self, ImageDataset};
use vgae_data::source::DataSource;
use vgae_data::{idx, mat};

fn data_dir() -> PathBuf {
    let d = std::env::var_os("VGAE_DATA_DIR").unwrap_or_else(|| {
        panic!("VGAE_DATA_DIR is not set: these tests need the shared data directory (e.g. VGAE_DATA_DIR=../shared/data)")
    });
    let d = PathBuf::from(d);
    assert!(
        d.join("mnist").is_dir() && d.join("fashion-mnist").is_dir() && d.join("frey").is_dir(),
        "VGAE_DATA_DIR={} lacks mnist/, fashion-mnist/ or frey/",
        d.display()
    );
    d
}

fn src() -> DataSource {
    DataSource::new(Some(data_dir()))
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut v)
        .unwrap();
    v
}

fn counts(ds: &ImageDataset) -> (Vec<usize>, Vec<usize>) {
    (
        ds.train.label_counts(10).unwrap(),
        ds.test.as_ref().unwrap().label_counts(10).unwrap(),
    )
}

#[test]
fn mnist_matches_the_shared_readme() {
    let ds = images::load(&src(), "mnist").unwrap();
    assert_eq!(
        (ds.height, ds.width, ds.train.n, ds.test.as_ref().unwrap().n),
        (28, 28, 60000, 10000)
    );
    let (tr, te) = counts(&ds);
    assert_eq!(
        tr,
        vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        te,
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    // First training label of MNIST is a 5, and image pixels span 0..255.
    assert_eq!(ds.train.labels.as_ref().unwrap()[0], 5);
    assert_eq!(*ds.train.pixels.iter().max().unwrap(), 255);
    assert_eq!(*ds.train.pixels.iter().min().unwrap(), 0);
    let (text, j) = images::describe(&src(), "mnist").unwrap();
    assert!(text.contains("60000") && text.contains("5923"), "{text}");
    assert_eq!(j["images"], 70000);
    assert_eq!(j["splits"]["train"], 60000);
    assert_eq!(j["label_counts"]["test"][1], 1135);
}

#[test]
fn fashion_mnist_matches_the_shared_readme() {
    let ds = images::load(&src(), "fashion-mnist").unwrap();
    assert_eq!((ds.height, ds.width), (28, 28));
    let (tr, te) = counts(&ds);
    assert_eq!(tr, vec![6000; 10]);
    assert_eq!(te, vec![1000; 10]);
    // Different data than MNIST.
    let m = images::load(&src(), "mnist").unwrap();
    assert_ne!(m.train.image(0, 784), ds.train.image(0, 784));
}

#[test]
fn frey_matches_the_shared_readme() {
    let ds = images::load(&src(), "frey").unwrap();
    assert_eq!((ds.height, ds.width, ds.train.n), (28, 20, 1965));
    assert!(ds.test.is_none() && ds.train.labels.is_none());
    let (text, j) = images::describe(&src(), "frey").unwrap();
    assert_eq!(j["images"], 1965);
    assert_eq!(j["height"], 28);
    assert_eq!(j["width"], 20);
    assert_eq!(j["pixel_min"], 8);
    assert_eq!(j["pixel_max"], 238);
    assert!(j["label_counts"].is_null());
    assert!(text.contains("1965") && text.contains("8..238"), "{text}");
}

#[test]
fn frey_layout_is_column_major_images() {
    // The raw uint8 payload of `ff` in this file is stored column-major: image j is bytes j*560..(j+1)*560 of
    // the real part. Check the reader against a direct search of the file for the first image's bytes.
    let p = data_dir().join("frey/frey_rawface.mat");
    let raw = std::fs::read(&p).unwrap();
    let ds = images::load_frey(&p).unwrap();
    let first = ds.train.image(0, 560);
    let last = ds.train.image(1964, 560);
    let at = raw
        .windows(560)
        .position(|w| w == first)
        .expect("first image bytes occur in the file");
    assert_eq!(&raw[at + 1964 * 560..at + 1965 * 560], last);
    // A face: the border pixels (hair / background) differ from the centre; not all equal.
    assert!(first.iter().any(|&v| v != first[0]));
}

#[test]
fn gz_and_plain_idx_agree() {
    let d = data_dir();
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("mnist");
    std::fs::create_dir(&plain).unwrap();
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(plain.join(f), gunzip(&d.join(format!("mnist/{f}.gz")))).unwrap();
    }
    let a = images::load_idx_dir("mnist", &d.join("mnist")).unwrap();
    let b = images::load(&DataSource::new(Some(tmp.path().into())), "mnist").unwrap();
    assert_eq!(a.train, b.train);
    assert_eq!(a.test, b.test);
}

fn expect_err(r: vgae_data::Result<impl std::fmt::Debug>, file: &Path, needles: &[&str]) -> String {
    let e = r.expect_err("must fail").to_string();
    assert!(
        e.contains(&file.display().to_string()),
        "error must name {}: {e}",
        file.display()
    );
    for n in needles {
        assert!(e.contains(n), "error must contain '{n}': {e}");
    }
    e
}

#[test]
fn idx_bad_inputs_from_real_files() {
    let d = data_dir();
    let tmp = tempfile::tempdir().unwrap();
    let labels = gunzip(&d.join("mnist/t10k-labels-idx1-ubyte.gz"));
    let images_raw = gunzip(&d.join("mnist/t10k-images-idx3-ubyte.gz"));
    let w = |name: &str, b: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    // Truncated data (plain): the declared size exceeds what follows the header.
    let p = w("trunc-labels", &labels[..5000]);
    expect_err(idx::read(&p), &p, &["at byte 8", "10000", "4992"]);
    // Truncated header.
    let p = w("trunc-head", &images_raw[..10]);
    expect_err(idx::read(&p), &p, &["truncated header"]);
    // Wrong magic.
    let mut m = labels.clone();
    m[0] = 0x12;
    let p = w("magic", &m);
    expect_err(idx::read(&p), &p, &["wrong magic"]);
    let mut m = labels.clone();
    m[2] = 0x0d; // float elements: not supported
    let p = w("type", &m);
    expect_err(idx::read(&p), &p, &["element type 0x0d"]);
    // Declared length far beyond the file (plain and gzipped): rejected before allocating.
    let mut m = images_raw.clone();
    m[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let p = w("huge", &m);
    expect_err(idx::read(&p), &p, &["at byte 16", "only 7840000 follow"]);
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
        e.write_all(&m).unwrap();
        e.finish().unwrap();
    }
    let p = w("huge.gz", &gz);
    expect_err(idx::read(&p), &p, &["more than a"]);
    // Truncated gzip (real .gz file cut in half).
    let realgz = std::fs::read(d.join("mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let p = w("cut.gz", &realgz[..realgz.len() / 2]);
    expect_err(idx::read(&p), &p, &["gzip"]);
    // A label out of range.
    let mut m = labels.clone();
    m[8 + 17] = 10;
    let p = w("badlabel", &m);
    expect_err(idx::read_labels(&p, 10), &p, &["item 17", "at byte 25"]);
    // Image / label counts disagree in a dataset directory.
    let dir = tmp.path().join("mnist");
    std::fs::create_dir(&dir).unwrap();
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
    ] {
        std::fs::copy(d.join(format!("mnist/{f}.gz")), dir.join(format!("{f}.gz"))).unwrap();
    }
    let mut short = labels[..8 + 9999].to_vec();
    short[4..8].copy_from_slice(&9999u32.to_be_bytes());
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), &short).unwrap();
    let e = images::load_idx_dir("mnist", &dir).unwrap_err().to_string();
    assert!(
        e.contains("9999 labels") && e.contains("10000 images"),
        "{e}"
    );
}

#[test]
fn mat_bad_inputs_from_the_real_file() {
    let d = data_dir();
    let real = std::fs::read(d.join("frey/frey_rawface.mat")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let w = |name: &str, b: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    // Truncated at many points: always an error naming the file, never a panic.
    for cut in [
        0usize,
        50,
        127,
        128,
        131,
        136,
        150,
        200,
        1000,
        real.len() / 2,
        real.len() - 1,
    ] {
        let p = w(&format!("cut{cut}.mat"), &real[..cut]);
        expect_err(mat::read_var(&p, "ff"), &p, &[]);
    }
    let p = w("half.mat", &real[..real.len() / 2]);
    expect_err(mat::read(&p), &p, &["at byte 128", "declares"]);
    // Wrong endian indicator / not a MAT-file.
    let mut m = real.clone();
    m[126] = b'X';
    let p = w("endian.mat", &m);
    expect_err(mat::read(&p), &p, &["endian indicator"]);
    let mut m = real.clone();
    m[0] = b'X';
    let p = w("text.mat", &m);
    expect_err(mat::read(&p), &p, &["MATLAB"]);
    // Declared element length beyond the file.
    let mut m = real.clone();
    m[132..136].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let p = w("huge.mat", &m);
    expect_err(
        mat::read(&p),
        &p,
        &["at byte 128", "declares 4294967280 bytes"],
    );
    // Dimensions that disagree with the data length.
    let mut m = real.clone();
    let dims_at = real
        .windows(8)
        .position(|w| w == [0x30, 0x02, 0, 0, 0xad, 0x07, 0, 0])
        .expect("dims 560 x 1965");
    m[dims_at..dims_at + 4].copy_from_slice(&561u32.to_le_bytes());
    let p = w("dims.mat", &m);
    expect_err(mat::read(&p), &p, &["need 1102365 values"]);
    // Missing variable.
    let mut m = real.clone();
    let name_at = real.windows(2).position(|w| w == b"ff").unwrap();
    m[name_at] = b'g';
    let p = w("name.mat", &m);
    expect_err(mat::read_var(&p, "ff"), &p, &["no variable 'ff'", "gf"]);
}

#[test]
fn mat_compressed_equals_plain() {
    // Re-encode Frey Face as a miCOMPRESSED (zlib) file and as a plain one; both read back identically.
    let d = data_dir();
    let ff = mat::read_var(&d.join("frey/frey_rawface.mat"), "ff").unwrap();
    assert_eq!(
        (ff.class_name(), ff.dims.clone()),
        ("uint8", vec![560, 1965])
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut sizes = Vec::new();
    for compress in [false, true] {
        let b = mat::write(&[("ff", mat::MX_UINT8, &ff.dims, &ff.data)], compress);
        sizes.push(b.len());
        let p = tmp.path().join(format!("frey{compress}.mat"));
        std::fs::write(&p, &b).unwrap();
        let ds = images::load_frey(&p).unwrap();
        assert_eq!(ds.train.n, 1965);
        assert_eq!(ds.train.pixels, ff.to_u8().unwrap());
        if compress {
            // Truncated and corrupted compressed streams are errors too.
            let p2 = tmp.path().join("cut.mat");
            std::fs::write(&p2, &b[..b.len() - 1000]).unwrap();
            expect_err(mat::read(&p2), &p2, &["at byte 128"]);
            let mut bad = b.clone();
            bad[140] ^= 0xff;
            bad[141] ^= 0xff;
            std::fs::write(&p2, &bad).unwrap();
            expect_err(mat::read(&p2), &p2, &["compressed element"]);
        }
    }
    assert!(
        sizes[1] < sizes[0],
        "compression should shrink the file: {sizes:?}"
    );
}

#[test]
fn missing_data_and_unknown_names_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DataSource::new(Some(tmp.path().into()));
    let missing = tmp.path().join("nope.mat");
    expect_err(images::load_frey(&missing), &missing, &[]);
    let e = images::load(&s, "cifar").unwrap_err().to_string();
    assert!(e.contains("unknown dataset 'cifar'"), "{e}");
}

#[test]
fn frey_test_rule_holds_out_every_tenth_image() {
    use vgae_data::images::frey_is_test;
    assert_eq!((0..1965).filter(|&i| frey_is_test(i)).count(), 196);
    assert!(frey_is_test(9) && frey_is_test(19) && !frey_is_test(0) && !frey_is_test(10));
}
