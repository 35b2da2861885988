//! A minimal level-5 MAT-file writer, for building test inputs.

use super::{
    MI_COMPRESSED, MI_DOUBLE, MI_INT32, MI_INT8, MI_MATRIX, MI_UINT32, MI_UINT8, MX_UINT8,
};

/// Writes variables as a level-5 MAT-file (little-endian), each either plain or zlib-compressed. Used by the
/// tests to build inputs; real numeric data only, stored as doubles unless every value fits a byte and
/// `class` is uint8.
pub fn write(vars: &[(&str, u8, &[usize], &[f64])], compress: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut text = b"MATLAB 5.0 MAT-file, written by vgae-data".to_vec();
    text.resize(116, b' ');
    out.extend(text);
    out.extend([0u8; 8]);
    out.extend(0x0100u16.to_le_bytes());
    out.extend(b"IM");
    for (name, class, dims, data) in vars {
        let mut m = Vec::new();
        let sub = |m: &mut Vec<u8>, t: u32, d: &[u8]| {
            m.extend(t.to_le_bytes());
            m.extend((d.len() as u32).to_le_bytes());
            m.extend(d);
            while !m.len().is_multiple_of(8) {
                m.push(0);
            }
        };
        let mut flags = (*class as u32).to_le_bytes().to_vec();
        flags.extend([0u8; 4]);
        sub(&mut m, MI_UINT32, &flags);
        let db: Vec<u8> = dims
            .iter()
            .flat_map(|&d| (d as i32).to_le_bytes())
            .collect();
        sub(&mut m, MI_INT32, &db);
        sub(&mut m, MI_INT8, name.as_bytes());
        if *class == MX_UINT8 {
            let b: Vec<u8> = data.iter().map(|&v| v as u8).collect();
            sub(&mut m, MI_UINT8, &b);
        } else {
            let b: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
            sub(&mut m, MI_DOUBLE, &b);
        }
        let mut el = MI_MATRIX.to_le_bytes().to_vec();
        el.extend((m.len() as u32).to_le_bytes());
        el.extend(m);
        if compress {
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&el).expect("writing to a Vec");
            let z = e.finish().expect("writing to a Vec");
            out.extend(MI_COMPRESSED.to_le_bytes());
            out.extend((z.len() as u32).to_le_bytes());
            out.extend(z);
        } else {
            out.extend(el);
        }
    }
    out
}
