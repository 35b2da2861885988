//! Image datasets for the VAE: MNIST and Fashion-MNIST (IDX files, gzipped or not, or the hub's parquet
//! conversion through candle-datasets) and Frey Face (`frey_rawface.mat`).
//!
//! Local files are looked up in the data directories of [`DataSource`] (`--data-dir`, then `VGAE_DATA_DIR`):
//!
//! | dataset | files (under the data dir) |
//! | --- | --- |
//! | `mnist` | `mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` |
//! | `fashion-mnist` | `fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` |
//! | `frey` | `frey/frey_rawface.mat` (variable `ff`, uint8 560 × 1965, one 28 × 20 image per column) |
//!
//! With the `mnist-parquet` cargo feature (off by default: it compiles parquet and tokenizers), MNIST / Fashion-MNIST that are not found locally are
//! loaded with `candle_datasets::vision::{mnist, fashion_mnist}::load()`, which reads the parquet conversion
//! of `ylecun/mnist` / `zalando-datasets/fashion_mnist` (revision `refs/convert/parquet`) from the Hugging
//! Face cache and downloads it when missing (honours `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_CACHE`). Those
//! loaders return pixels / 255 as f32; they are turned back into bytes here. Frey Face has no hub source.

use crate::error::{DataError, Result};
use crate::source::DataSource;
use crate::{idx, mat};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The image datasets [`load`] knows.
pub const NAMES: [&str; 3] = ["mnist", "fashion-mnist", "frey"];

/// The MAT-file variable holding Frey Face.
pub const FREY_VAR: &str = "ff";
/// Where Frey Face is looked for under a data directory (a bare `frey_rawface.mat` is also accepted).
pub const FREY_FILE: &str = "frey/frey_rawface.mat";

/// One split: `n` images of `height × width` bytes, row-major, and optional labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSplit {
    /// Number of images.
    pub n: usize,
    /// `n · height · width` grey levels 0..=255, image after image.
    pub pixels: Vec<u8>,
    /// One class per image, if the dataset is labelled.
    pub labels: Option<Vec<u8>>,
}

impl ImageSplit {
    /// Pixels of image `i`.
    pub fn image(&self, i: usize, hw: usize) -> &[u8] {
        &self.pixels[i * hw..(i + 1) * hw]
    }

    /// Label counts `0..classes`, if labelled.
    pub fn label_counts(&self, classes: usize) -> Option<Vec<usize>> {
        self.labels.as_ref().map(|l| {
            let mut c = vec![0; classes];
            for &v in l {
                if (v as usize) < classes {
                    c[v as usize] += 1;
                }
            }
            c
        })
    }

    /// Keeps the images whose index passes `keep`.
    pub fn select(&self, hw: usize, keep: impl Fn(usize) -> bool) -> ImageSplit {
        let idx: Vec<usize> = (0..self.n).filter(|&i| keep(i)).collect();
        ImageSplit {
            n: idx.len(),
            pixels: idx
                .iter()
                .flat_map(|&i| self.image(i, hw).iter().copied())
                .collect(),
            labels: self
                .labels
                .as_ref()
                .map(|l| idx.iter().map(|&i| l[i]).collect()),
        }
    }
}

/// A loaded image dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    /// Lower-case dataset name (one of [`NAMES`]).
    pub name: String,
    /// Image height in pixels (28 for all three).
    pub height: usize,
    /// Image width in pixels (28; 20 for Frey Face).
    pub width: usize,
    /// Number of label classes (10 for MNIST / Fashion-MNIST), `None` if unlabelled (Frey).
    pub classes: Option<usize>,
    /// The official training split; for Frey Face every image (see [`frey_is_test`] for its test rule).
    pub train: ImageSplit,
    /// The official test split; `None` for Frey Face, which has none.
    pub test: Option<ImageSplit>,
    /// Where it was read from (a directory, file, or `hub:<repo>`).
    pub origin: String,
}

impl ImageDataset {
    /// `height · width`: the stride between images in [`ImageSplit::pixels`].
    pub fn pixels_per_image(&self) -> usize {
        self.height * self.width
    }
}

/// Loads an image dataset by name: local files first, then (MNIST / Fashion-MNIST, `mnist-parquet` feature)
/// the hub.
pub fn load(src: &DataSource, name: &str) -> Result<ImageDataset> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "mnist" | "fashion-mnist" => {
            if let Some(dir) = find_idx_dir(src, &lower) {
                return load_idx_dir(&lower, &dir);
            }
            #[cfg(feature = "mnist-parquet")]
            {
                load_hub(&lower).map_err(|e| {
                    DataError::Other(format!(
                        "dataset '{lower}' not found locally (looked for {lower}/train-images-idx3-ubyte[.gz] in {}) \
                         and the hub failed: {e}",
                        dirs_text(src)
                    ))
                })
            }
            #[cfg(not(feature = "mnist-parquet"))]
            Err(DataError::Other(format!(
                "dataset '{lower}' not found: looked for {lower}/train-images-idx3-ubyte[.gz] in {}; pass --data-dir \
                 or set VGAE_DATA_DIR, or build with `--features mnist-parquet` to fetch the hub's parquet copy",
                dirs_text(src)
            )))
        }
        "frey" => {
            let p = src.find_file(FREY_FILE).or_else(|| src.find_file("frey_rawface.mat")).ok_or_else(|| {
                DataError::Other(format!(
                    "dataset 'frey' not found: looked for {FREY_FILE} in {}; pass --data-dir or set VGAE_DATA_DIR",
                    dirs_text(src)
                ))
            })?;
            load_frey(&p)
        }
        _ => Err(DataError::UnknownDataset {
            name: name.to_string(),
            expected: NAMES.join(", "),
        }),
    }
}

fn dirs_text(src: &DataSource) -> String {
    let d = src.dirs();
    if d.is_empty() {
        "no data directory (neither --data-dir nor VGAE_DATA_DIR is set)".into()
    } else {
        d.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const IDX_STEMS: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// The first data directory holding `<name>/train-images-idx3-ubyte[.gz]`.
pub fn find_idx_dir(src: &DataSource, name: &str) -> Option<PathBuf> {
    ["", ".gz"]
        .iter()
        .find_map(|ext| src.find_file(&format!("{name}/{}{ext}", IDX_STEMS[0])))
        .and_then(|p| p.parent().map(Path::to_path_buf))
}

fn idx_file(dir: &Path, stem: &str) -> Result<PathBuf> {
    [format!("{stem}.gz"), stem.to_string()]
        .into_iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            DataError::invalid(
                dir.join(stem),
                "missing (looked for it with and without .gz)",
            )
        })
}

/// Loads the four IDX files of MNIST / Fashion-MNIST from one directory (each gzipped or not).
pub fn load_idx_dir(name: &str, dir: &Path) -> Result<ImageDataset> {
    let split = |img: &str, lab: &str| -> Result<(usize, usize, ImageSplit)> {
        let ip = idx_file(dir, img)?;
        let lp = idx_file(dir, lab)?;
        let (n, r, c, pixels) = idx::read_images(&ip)?;
        let labels = idx::read_labels(&lp, 10)?;
        if labels.len() != n {
            return Err(DataError::invalid(
                &lp,
                format!(
                    "{} labels, but {} holds {n} images",
                    labels.len(),
                    ip.display()
                ),
            ));
        }
        Ok((
            r,
            c,
            ImageSplit {
                n,
                pixels,
                labels: Some(labels),
            },
        ))
    };
    let (h, w, train) = split(IDX_STEMS[0], IDX_STEMS[1])?;
    let (h2, w2, test) = split(IDX_STEMS[2], IDX_STEMS[3])?;
    if (h, w) != (h2, w2) {
        return Err(DataError::invalid(
            dir,
            format!("train images are {h}x{w} but test images are {h2}x{w2}"),
        ));
    }
    Ok(ImageDataset {
        name: name.to_string(),
        height: h,
        width: w,
        classes: Some(10),
        train,
        test: Some(test),
        origin: dir.display().to_string(),
    })
}

/// Frey Face has no official test split: every 10th image (index ≡ 9 mod 10) is held out, 196 of 1965.
/// Trainers and evaluators share this one rule so a test image never lands in training.
pub fn frey_is_test(i: usize) -> bool {
    i % 10 == 9
}

/// Loads Frey Face: variable `ff`, 560 × N uint8, one image per column (28 rows × 20 columns, row-major
/// inside the column, i.e. `ff.T.reshape(-1, 28, 20)`). All images go to `train`; `test` is `None`.
pub fn load_frey(path: &Path) -> Result<ImageDataset> {
    let v = mat::read_var(path, FREY_VAR)?;
    let (h, w) = (28, 20);
    if v.dims.len() != 2 || v.dims[0] != h * w {
        return Err(DataError::invalid(
            path,
            format!(
                "variable '{FREY_VAR}' has shape {:?}, expected [560, n] (28x20 images as columns)",
                v.dims
            ),
        ));
    }
    let pixels = v.to_u8().ok_or_else(|| {
        DataError::invalid(
            path,
            format!(
                "variable '{FREY_VAR}' ({}) holds values outside 0..=255",
                v.class_name()
            ),
        )
    })?;
    // Column-major 560 × n: column j is image j, contiguous.
    Ok(ImageDataset {
        name: "frey".into(),
        height: h,
        width: w,
        classes: None,
        train: ImageSplit {
            n: v.dims[1],
            pixels,
            labels: None,
        },
        test: None,
        origin: path.display().to_string(),
    })
}

/// Loads MNIST / Fashion-MNIST from the hub's parquet conversion through candle-datasets (cache first).
#[cfg(feature = "mnist-parquet")]
pub fn load_hub(name: &str) -> Result<ImageDataset> {
    use candle_datasets::vision::{fashion_mnist, mnist};
    let (ds, repo) = match name {
        "mnist" => (mnist::load(), "ylecun/mnist"),
        "fashion-mnist" => (fashion_mnist::load(), "zalando-datasets/fashion_mnist"),
        _ => {
            return Err(DataError::UnknownDataset {
                name: name.into(),
                expected: "mnist, fashion-mnist".into(),
            })
        }
    };
    let ds = ds.map_err(|e| DataError::Other(format!("hub dataset {repo}: {e}")))?;
    let conv = |imgs: &candle_core::Tensor, labs: &candle_core::Tensor| -> Result<ImageSplit> {
        let e = |err: candle_core::Error| DataError::Other(format!("hub dataset {repo}: {err}"));
        let n = imgs.dim(0).map_err(e)?;
        let px: Vec<f32> = imgs.flatten_all().and_then(|t| t.to_vec1()).map_err(e)?;
        let labels: Vec<u8> = labs
            .to_dtype(candle_core::DType::U8)
            .and_then(|t| t.to_vec1())
            .map_err(e)?;
        if px.len() != n * 784 || labels.len() != n {
            return Err(DataError::Other(format!(
                "hub dataset {repo}: {n} images with {} pixels and {} labels, expected 784 pixels and one label each",
                px.len(),
                labels.len()
            )));
        }
        Ok(ImageSplit {
            n,
            pixels: px
                .iter()
                .map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
                .collect(),
            labels: Some(labels),
        })
    };
    Ok(ImageDataset {
        name: name.into(),
        height: 28,
        width: 28,
        classes: Some(10),
        train: conv(&ds.train_images, &ds.train_labels)?,
        test: Some(conv(&ds.test_images, &ds.test_labels)?),
        origin: format!("hub:{repo}@refs/convert/parquet"),
    })
}

/// Human-readable summary and the same as JSON (`vgae data info mnist`).
pub fn describe(src: &DataSource, name: &str) -> Result<(String, serde_json::Value)> {
    let ds = load(src, name)?;
    Ok(summary(&ds))
}

/// The summary of a loaded dataset: text and JSON.
pub fn summary(ds: &ImageDataset) -> (String, serde_json::Value) {
    let mut splits = vec![("train", &ds.train)];
    if let Some(t) = &ds.test {
        splits.push(("test", t));
    }
    let split_key = |s: &'static str| -> &'static str {
        if ds.test.is_none() && s == "train" {
            "all"
        } else {
            s
        }
    };
    let images: usize = splits.iter().map(|(_, s)| s.n).sum();
    let (mut lo, mut hi) = (u8::MAX, u8::MIN);
    for (_, s) in &splits {
        for &p in &s.pixels {
            lo = lo.min(p);
            hi = hi.max(p);
        }
    }
    let mut counts = serde_json::Map::new();
    let mut label_counts = serde_json::Map::new();
    let mut text = format!(
        "dataset      {}\nsource       {}\nimages       {images}\nimage size   {}x{} (height x width)\npixels       {lo}..{hi}\n",
        ds.name, ds.origin, ds.height, ds.width
    );
    for (k, s) in &splits {
        counts.insert(split_key(k).into(), json!(s.n));
        text += &format!("{:<12} {}\n", format!("{} images", split_key(k)), s.n);
        if let Some(c) = ds.classes.and_then(|c| s.label_counts(c)) {
            text += &format!("{:<12} {c:?}\n", format!("{} labels", split_key(k)));
            label_counts.insert(split_key(k).into(), json!(c));
        }
    }
    if ds.classes.is_none() {
        text += "labels       none\n";
    }
    let j = json!({
        "name": ds.name,
        "source": ds.origin,
        "images": images,
        "height": ds.height,
        "width": ds.width,
        "classes": ds.classes,
        "splits": counts,
        "label_counts": if ds.classes.is_some() { serde_json::Value::Object(label_counts) } else { serde_json::Value::Null },
        "pixel_min": lo,
        "pixel_max": hi,
    });
    (text.trim_end().to_string(), j)
}
