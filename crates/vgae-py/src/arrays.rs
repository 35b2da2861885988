//! numpy arrays in and out: edge indices in PyG's `[2, E]` layout (or `[E, 2]`), features, labels, weights.
//! Every check names the argument and what was expected, so a malformed array never reaches the library.

use crate::err;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// Reads an integer array of shape `[2, E]` (PyG's `edge_index`) or `[E, 2]` as `E` pairs of node ids.
/// A `[2, 2]` array is read as `[2, E]`, as PyG would. Ids must be in `0..u32::MAX`.
pub fn pairs(what: &str, a: &Bound<'_, PyAny>) -> PyResult<Vec<[u32; 2]>> {
    let values: (Vec<i64>, [usize; 2]) = if let Ok(x) = a.extract::<PyReadonlyArray2<i64>>() {
        (x.as_array().iter().copied().collect(), dims(&x))
    } else if let Ok(x) = a.extract::<PyReadonlyArray2<i32>>() {
        (x.as_array().iter().map(|&v| v as i64).collect(), dims(&x))
    } else {
        return Err(err(format!(
            "{what} must be a 2-d int64 or int32 numpy array of shape [2, E] or [E, 2], got {}",
            describe(a)
        )));
    };
    let (flat, [rows, cols]) = values;
    let (e, at): (usize, Box<dyn Fn(usize, usize) -> i64>) = match (rows, cols) {
        (2, e) => (e, Box::new(move |k, side| flat[side * e + k])),
        (e, 2) => (e, Box::new(move |k, side| flat[k * 2 + side])),
        _ => {
            return Err(err(format!(
                "{what} has shape [{rows}, {cols}]: expected [2, E] (PyG's edge_index) or [E, 2]"
            )))
        }
    };
    (0..e)
        .map(|k| {
            let (u, v) = (at(k, 0), at(k, 1));
            let id = |x: i64| u32::try_from(x).ok().filter(|&x| x != u32::MAX);
            match (id(u), id(v)) {
                (Some(u), Some(v)) => Ok([u, v]),
                _ => Err(err(format!(
                    "{what}: pair {k} is ({u}, {v}): node ids must be in 0..{}",
                    u32::MAX
                ))),
            }
        })
        .collect()
}

fn dims<T: numpy::Element>(x: &PyReadonlyArray2<'_, T>) -> [usize; 2] {
    let s = x.shape();
    [s[0], s[1]]
}

/// What a Python value is, for error messages: a numpy array's dtype and shape, or the type's name.
pub fn describe(a: &Bound<'_, PyAny>) -> String {
    let dtype = a.getattr("dtype").map(|d| d.to_string());
    let shape = a.getattr("shape").map(|s| s.to_string());
    match (dtype, shape) {
        (Ok(d), Ok(s)) => format!("an array of dtype {d} and shape {s}"),
        _ => format!(
            "a {}",
            a.get_type()
                .name()
                .map_or("value".into(), |n| n.to_string())
        ),
    }
}

/// A float32 (or float64) 2-d array as row-major values and its width.
pub fn dense_f32(what: &str, a: &Bound<'_, PyAny>) -> PyResult<(Vec<f32>, usize, usize)> {
    if let Ok(x) = a.extract::<PyReadonlyArray2<f32>>() {
        let [r, c] = dims(&x);
        return Ok((x.as_array().iter().copied().collect(), r, c));
    }
    if let Ok(x) = a.extract::<PyReadonlyArray2<f64>>() {
        let [r, c] = dims(&x);
        return Ok((x.as_array().iter().map(|&v| v as f32).collect(), r, c));
    }
    Err(err(format!(
        "{what} must be a 2-d float32 numpy array [num_nodes, num_features] (or a CSR matrix's \
         (indptr, indices, data, shape)), got {}",
        describe(a)
    )))
}

/// A 1-d array converted to `T`, or a clear error naming `what`.
pub fn vector<'py, T: numpy::Element + Copy>(
    what: &str,
    a: &Bound<'py, PyAny>,
) -> PyResult<Vec<T>> {
    let x: PyReadonlyArray1<'py, T> = a.extract().map_err(|_| {
        err(format!(
            "{what} must be a 1-d numpy array of {}, got {}",
            std::any::type_name::<T>(),
            describe(a)
        ))
    })?;
    Ok(x.as_array().iter().copied().collect())
}

/// Pairs as PyG's `[2, E]` int64 edge index.
pub fn edge_index<'py>(py: Python<'py>, pairs: &[[u32; 2]]) -> Bound<'py, PyArray2<i64>> {
    let e = pairs.len();
    let mut flat = vec![0i64; 2 * e];
    for (k, &[u, v]) in pairs.iter().enumerate() {
        flat[k] = u as i64;
        flat[e + k] = v as i64;
    }
    Array2::from_shape_vec((2, e), flat)
        .expect("2 × E values")
        .into_pyarray(py)
}

/// Row-major `rows × cols` values as a 2-d float32 array.
pub fn matrix<'py>(
    py: Python<'py>,
    values: Vec<f32>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    Array2::from_shape_vec((rows, cols), values)
        .map(|a| a.into_pyarray(py))
        .map_err(err)
}
