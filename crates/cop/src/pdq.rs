//! PDQ, Meta's perceptual hash for photos, written for Rampart from the
//! published algorithm:
//!
//! 1. luma from RGB (0.299 R + 0.587 G + 0.114 B);
//! 2. two passes of a Jarosz box filter along rows then columns (together
//!    close to a tent filter), window sizes chosen from the image size, then
//!    decimation to 64 × 64 by sampling the centre of each cell;
//! 3. quality: the sum of neighbouring-pixel differences (in percent of
//!    full scale) divided by 90, at most 100;
//! 4. a 16 × 16 block of the 2-D DCT of the 64 × 64 image, skipping the
//!    constant term (frequencies 1 to 16 on each axis);
//! 5. each of the 256 coefficients compared with their median: above is 1.
//!
//! Arithmetic is single precision, in the same order as the reference
//! implementations, so identical pixels give the identical hash.
//! The eight dihedral variants are computed from the DCT block (a flip
//! negates the coefficients of odd frequency, a transpose swaps the axes),
//! not by hashing rotated images.

use crate::CopError;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A 256-bit hash. Bit `k` is bit `k % 64` of word `k / 64`; the text form
/// is 64 hex digits, most significant bit first, as the references write it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256(pub [u64; 4]);

impl Hash256 {
    pub fn distance(&self, other: &Hash256) -> u32 {
        self.0.iter().zip(other.0.iter()).map(|(a, b)| (a ^ b).count_ones()).sum()
    }

    fn set(&mut self, bit: usize) {
        self.0[bit / 64] |= 1u64 << (bit % 64);
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:016x}{:016x}{:016x}", self.0[3], self.0[2], self.0[1], self.0[0])
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({self})")
    }
}

impl FromStr for Hash256 {
    type Err = CopError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CopError::Hash(format!("`{text}` is not 64 hexadecimal digits")));
        }
        let mut words = [0u64; 4];
        for (i, word) in words.iter_mut().enumerate() {
            let start = (3 - i) * 16;
            *word = u64::from_str_radix(&text[start..start + 16], 16).map_err(|err| CopError::Hash(err.to_string()))?;
        }
        Ok(Hash256(words))
    }
}

/// A PDQ hash with its quality (0–100; below 50 the hash says little).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdqHash {
    pub hash: Hash256,
    pub quality: u32,
}

const LUMA_R: f32 = 0.299;
const LUMA_G: f32 = 0.587;
const LUMA_B: f32 = 0.114;
const SIDE: usize = 64;
const DCT_SIDE: usize = 16;

/// The box filter's full window for shrinking `old` samples to `new`:
/// ceil(old / (2 new)).
fn window(old: usize, new: usize) -> usize {
    old.div_ceil(2 * new)
}

/// One pass of a box filter of width `full` over `len` samples spaced
/// `stride` apart. The window is centred (for even widths one more sample
/// on the right) and shrinks at both edges, where each output is the mean
/// of the samples inside it. `full` never exceeds `len` (see [`window`]).
fn box_1d(input: &[f32], output: &mut [f32], start: usize, len: usize, stride: usize, full: usize) {
    let half = (full + 2) / 2;
    let at = |index: usize| start + index * stride;
    let (mut sum, mut count) = (0.0f32, 0usize);
    let (mut right, mut left, mut out) = (0usize, 0usize, 0usize);
    // Accumulate the first half window without writing.
    for _ in 0..half - 1 {
        sum += input[at(right)];
        count += 1;
        right += 1;
    }
    // Write while the window grows to its full width.
    for _ in 0..full + 1 - half {
        sum += input[at(right)];
        count += 1;
        right += 1;
        output[at(out)] = sum / count as f32;
        out += 1;
    }
    // Full window: add on the right, drop on the left.
    for _ in 0..len - full {
        sum += input[at(right)];
        sum -= input[at(left)];
        right += 1;
        left += 1;
        output[at(out)] = sum / count as f32;
        out += 1;
    }
    // Shrink at the far edge.
    for _ in 0..half - 1 {
        sum -= input[at(left)];
        count -= 1;
        left += 1;
        output[at(out)] = sum / count as f32;
        out += 1;
    }
}

/// The box filter down every column at once (the plain form of the
/// streaming column pass in [`downsample`], kept to test against): the same steps as [`box_1d`]
/// applied to whole rows, so memory is read row by row (a column walk would
/// miss the cache on every sample) and each column sees exactly the
/// additions and divisions it would see alone.
#[cfg(test)]
fn box_columns(input: &[f32], output: &mut [f32], width: usize, height: usize, full: usize) {
    let half = (full + 2) / 2;
    let row = |index: usize| index * width..(index + 1) * width;
    let mut sum = vec![0.0f32; width];
    let mut count = 0usize;
    let (mut right, mut left, mut out) = (0usize, 0usize, 0usize);
    for _ in 0..half - 1 {
        sum.iter_mut().zip(&input[row(right)]).for_each(|(s, v)| *s += v);
        count += 1;
        right += 1;
    }
    for _ in 0..full + 1 - half {
        sum.iter_mut().zip(&input[row(right)]).for_each(|(s, v)| *s += v);
        count += 1;
        right += 1;
        let n = count as f32;
        output[row(out)].iter_mut().zip(&sum).for_each(|(o, s)| *o = s / n);
        out += 1;
    }
    for _ in 0..height - full {
        sum.iter_mut().zip(&input[row(right)]).for_each(|(s, v)| *s += v);
        sum.iter_mut().zip(&input[row(left)]).for_each(|(s, v)| *s -= v);
        right += 1;
        left += 1;
        let n = count as f32;
        output[row(out)].iter_mut().zip(&sum).for_each(|(o, s)| *o = s / n);
        out += 1;
    }
    for _ in 0..half - 1 {
        sum.iter_mut().zip(&input[row(left)]).for_each(|(s, v)| *s -= v);
        count -= 1;
        left += 1;
        let n = count as f32;
        output[row(out)].iter_mut().zip(&sum).for_each(|(o, s)| *o = s / n);
        out += 1;
    }
}

/// Two passes of the box filter along rows then columns, in place: the
/// plain form of what [`downsample`] computes, kept to test it against.
#[cfg(test)]
fn jarosz(buffer: &mut [f32], width: usize, height: usize) {
    let along_rows = window(width, SIDE);
    let along_cols = window(height, SIDE);
    let mut temp = vec![0.0f32; buffer.len()];
    for _ in 0..2 {
        for row in 0..height {
            box_1d(buffer, &mut temp, row * width, width, 1, along_rows);
        }
        box_columns(&temp, buffer, width, height, along_cols);
    }
}

/// Samples the centre of each of the 64 × 64 cells.
#[cfg(test)]
fn decimate(buffer: &[f32], width: usize, height: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; SIDE * SIDE];
    for i in 0..SIDE {
        let row = (((i as f32 + 0.5) * height as f32) / SIDE as f32) as usize;
        for j in 0..SIDE {
            let col = (((j as f32 + 0.5) * width as f32) / SIDE as f32) as usize;
            out[i * SIDE + j] = buffer[row.min(height - 1) * width + col.min(width - 1)];
        }
    }
    out
}

/// Where decimation samples a side of `len`: the centre of each of 64 cells.
fn sample_positions(len: usize) -> [usize; SIDE] {
    std::array::from_fn(|i| ((((i as f32 + 0.5) * len as f32) / SIDE as f32) as usize).min(len - 1))
}

/// The box filter over one contiguous row, keeping only the outputs at
/// `wanted` (ascending positions, repeats allowed): the same running sum as
/// [`box_1d`], with the divisions nobody reads left out.
fn box_row_sampled(input: &[f32], full: usize, wanted: &[usize; SIDE], out: &mut [f32]) {
    let len = input.len();
    let half = (full + 2) / 2;
    let (mut sum, mut count) = (0.0f32, 0usize);
    let (mut right, mut left) = (0usize, 0usize);
    let mut next = 0usize;
    let mut emit = |position: usize, value: f32, next: &mut usize| {
        while *next < SIDE && wanted[*next] == position {
            out[*next] = value;
            *next += 1;
        }
    };
    for _ in 0..half - 1 {
        sum += input[right];
        count += 1;
        right += 1;
    }
    let mut position = 0usize;
    for _ in 0..full + 1 - half {
        sum += input[right];
        count += 1;
        right += 1;
        if next < SIDE && wanted[next] == position {
            emit(position, sum / count as f32, &mut next);
        }
        position += 1;
    }
    for _ in 0..len - full {
        sum += input[right];
        sum -= input[left];
        right += 1;
        left += 1;
        if next < SIDE && wanted[next] == position {
            emit(position, sum / count as f32, &mut next);
        }
        position += 1;
    }
    for _ in 0..half - 1 {
        sum -= input[left];
        count -= 1;
        left += 1;
        if next < SIDE && wanted[next] == position {
            emit(position, sum / count as f32, &mut next);
        }
        position += 1;
    }
}

/// The box filter down the 64 columns of `input` (`height` rows of 64),
/// keeping only the rows at `wanted`.
fn box_columns_sampled(input: &[f32], height: usize, full: usize, wanted: &[usize; SIDE]) -> Vec<f32> {
    let mut out = vec![0.0f32; SIDE * SIDE];
    let half = (full + 2) / 2;
    let row = |index: usize| index * SIDE..(index + 1) * SIDE;
    let mut sum = [0.0f32; SIDE];
    let mut count = 0usize;
    let (mut right, mut left, mut position, mut next) = (0usize, 0usize, 0usize, 0usize);
    let mut emit = |position: usize, sum: &[f32; SIDE], count: usize, next: &mut usize| {
        let n = count as f32;
        while *next < SIDE && wanted[*next] == position {
            out[*next * SIDE..(*next + 1) * SIDE].iter_mut().zip(sum).for_each(|(o, s)| *o = s / n);
            *next += 1;
        }
    };
    for _ in 0..half - 1 {
        sum.iter_mut().zip(&input[row(right)]).for_each(|(s, v)| *s += v);
        count += 1;
        right += 1;
    }
    for _ in 0..full + 1 - half {
        sum.iter_mut().zip(&input[row(right)]).for_each(|(s, v)| *s += v);
        count += 1;
        right += 1;
        emit(position, &sum, count, &mut next);
        position += 1;
    }
    for _ in 0..height - full {
        sum.iter_mut().zip(&input[row(right)]).for_each(|(s, v)| *s += v);
        sum.iter_mut().zip(&input[row(left)]).for_each(|(s, v)| *s -= v);
        right += 1;
        left += 1;
        emit(position, &sum, count, &mut next);
        position += 1;
    }
    for _ in 0..half - 1 {
        sum.iter_mut().zip(&input[row(left)]).for_each(|(s, v)| *s -= v);
        count -= 1;
        left += 1;
        emit(position, &sum, count, &mut next);
        position += 1;
    }
    out
}

/// Jarosz filtering and decimation to 64 × 64, computing only what the
/// decimation reads, in one streaming pass:
///
/// - the first pass along rows fills a ring of `window + 1` rows, just what
///   the first pass down columns needs at any moment, so the working set
///   stays in cache instead of streaming whole-image buffers;
/// - each row the column pass emits goes straight through the second pass
///   along rows, which keeps only the 64 sampled columns;
/// - the second pass down columns keeps only the 64 sampled rows.
///
/// Every value kept is computed by the same additions, subtractions and
/// divisions, in the same order, as [`jarosz`] then [`decimate`] (tested).
/// `row_source` writes row `r`'s luma into the slice it is given.
fn downsample(width: usize, height: usize, row_source: &mut dyn FnMut(usize, &mut [f32])) -> Vec<f32> {
    let along_rows = window(width, SIDE);
    let full = window(height, SIDE);
    let half = (full + 2) / 2;
    let columns = sample_positions(width);
    let capacity = full + 1;
    let mut ring = vec![0.0f32; capacity * width];
    let mut line = vec![0.0f32; width];
    let mut produce = |row: usize, ring: &mut [f32]| {
        row_source(row, &mut line);
        let slot = (row % capacity) * width;
        box_1d(&line, &mut ring[slot..slot + width], 0, width, 1, along_rows);
    };
    let mut narrow = vec![0.0f32; height * SIDE];
    let mut filtered = vec![0.0f32; width];
    let mut sum = vec![0.0f32; width];
    let (mut count, mut right, mut left, mut out) = (0usize, 0usize, 0usize, 0usize);
    let slot = |row: usize| (row % capacity) * width..(row % capacity + 1) * width;
    let emit = |sum: &[f32], count: usize, out: usize, filtered: &mut [f32], narrow: &mut [f32]| {
        let n = count as f32;
        filtered.iter_mut().zip(sum).for_each(|(f, s)| *f = s / n);
        box_row_sampled(filtered, along_rows, &columns, &mut narrow[out * SIDE..(out + 1) * SIDE]);
    };
    for _ in 0..half - 1 {
        produce(right, &mut ring);
        sum.iter_mut().zip(&ring[slot(right)]).for_each(|(s, v)| *s += v);
        count += 1;
        right += 1;
    }
    for _ in 0..full + 1 - half {
        produce(right, &mut ring);
        sum.iter_mut().zip(&ring[slot(right)]).for_each(|(s, v)| *s += v);
        count += 1;
        right += 1;
        emit(&sum, count, out, &mut filtered, &mut narrow);
        out += 1;
    }
    for _ in 0..height - full {
        produce(right, &mut ring);
        sum.iter_mut().zip(&ring[slot(right)]).for_each(|(s, v)| *s += v);
        sum.iter_mut().zip(&ring[slot(left)]).for_each(|(s, v)| *s -= v);
        right += 1;
        left += 1;
        emit(&sum, count, out, &mut filtered, &mut narrow);
        out += 1;
    }
    for _ in 0..half - 1 {
        sum.iter_mut().zip(&ring[slot(left)]).for_each(|(s, v)| *s -= v);
        count -= 1;
        left += 1;
        emit(&sum, count, out, &mut filtered, &mut narrow);
        out += 1;
    }
    box_columns_sampled(&narrow, height, full, &sample_positions(height))
}

/// The quality metric of the 64 × 64 image.
fn quality(small: &[f32]) -> u32 {
    let mut gradient: i64 = 0;
    for i in 0..SIDE - 1 {
        for j in 0..SIDE {
            let d = ((small[i * SIDE + j] - small[(i + 1) * SIDE + j]) * 100.0 / 255.0) as i64;
            gradient += d.abs();
        }
    }
    for i in 0..SIDE {
        for j in 0..SIDE - 1 {
            let d = ((small[i * SIDE + j] - small[i * SIDE + j + 1]) * 100.0 / 255.0) as i64;
            gradient += d.abs();
        }
    }
    u32::try_from((gradient / 90).min(100)).unwrap_or(100)
}

/// The 16 × 64 DCT basis, frequencies 1 to 16.
fn dct_matrix() -> &'static [f32] {
    static MATRIX: OnceLock<Vec<f32>> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut matrix = vec![0.0f32; DCT_SIDE * SIDE];
        for i in 0..DCT_SIDE {
            for j in 0..SIDE {
                let angle = (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                matrix[i * SIDE + j] = scale * (angle.cos() as f32);
            }
        }
        matrix
    })
}

/// D · A · Dᵀ: the 16 × 16 low-frequency block.
fn dct(small: &[f32]) -> [f32; DCT_SIDE * DCT_SIDE] {
    let d = dct_matrix();
    let mut left = vec![0.0f32; DCT_SIDE * SIDE];
    for i in 0..DCT_SIDE {
        for j in 0..SIDE {
            let mut sum = 0.0f32;
            for k in 0..SIDE {
                sum += d[i * SIDE + k] * small[k * SIDE + j];
            }
            left[i * SIDE + j] = sum;
        }
    }
    let mut out = [0.0f32; DCT_SIDE * DCT_SIDE];
    for i in 0..DCT_SIDE {
        for j in 0..DCT_SIDE {
            let mut sum = 0.0f32;
            for k in 0..SIDE {
                sum += left[i * SIDE + k] * d[j * SIDE + k];
            }
            out[i * DCT_SIDE + j] = sum;
        }
    }
    out
}

/// Bits of the coefficients above their median (the 128th smallest).
fn threshold(block: &[f32; DCT_SIDE * DCT_SIDE]) -> Hash256 {
    let mut sorted = *block;
    sorted.sort_by(f32::total_cmp);
    let median = sorted[(DCT_SIDE * DCT_SIDE).div_ceil(2) - 1];
    let mut hash = Hash256::default();
    for (bit, value) in block.iter().enumerate() {
        if *value > median {
            hash.set(bit);
        }
    }
    hash
}

/// The DCT block and quality from a 64 × 64 image.
fn block_of_small(small: &[f32]) -> ([f32; DCT_SIDE * DCT_SIDE], u32) {
    (dct(small), quality(small))
}

fn check_size(pixels: usize, width: usize, height: usize, per_pixel: usize) -> Result<(), CopError> {
    if width == 0 || height == 0 {
        return Err(CopError::Image("the image has no pixels".into()));
    }
    if pixels < width * height * per_pixel {
        return Err(CopError::Image("fewer pixels than the dimensions say".into()));
    }
    Ok(())
}

/// The 64 × 64 image of row-major RGB bytes, luma computed row by row.
fn small_of_rgb(rgb: &[u8], width: usize, height: usize) -> Result<Vec<f32>, CopError> {
    check_size(rgb.len(), width, height, 3)?;
    Ok(downsample(width, height, &mut |row, line| {
        for (out, p) in line.iter_mut().zip(rgb[row * width * 3..(row + 1) * width * 3].chunks_exact(3)) {
            *out = LUMA_R * f32::from(p[0]) + LUMA_G * f32::from(p[1]) + LUMA_B * f32::from(p[2]);
        }
    }))
}

/// The 64 × 64 image of row-major luma bytes.
fn small_of_luma8(luma: &[u8], width: usize, height: usize) -> Result<Vec<f32>, CopError> {
    check_size(luma.len(), width, height, 1)?;
    Ok(downsample(width, height, &mut |row, line| {
        for (out, p) in line.iter_mut().zip(&luma[row * width..(row + 1) * width]) {
            *out = f32::from(*p);
        }
    }))
}

/// The hashes of an image decoded for hashing, and of its seven rotations
/// and flips (see [`dihedral_rgb`]), with its quality.
pub fn dihedral_decoded(image: &crate::decode::Decoded) -> Result<([Hash256; 8], u32), CopError> {
    let small = match image {
        crate::decode::Decoded::Rgb(rgb) => small_of_rgb(&rgb.pixels, rgb.width, rgb.height)?,
        crate::decode::Decoded::Luma(luma) => small_of_luma8(&luma.pixels, luma.width, luma.height)?,
    };
    let (block, quality) = block_of_small(&small);
    Ok((dihedral(&block), quality))
}

/// The PDQ hash of an image decoded for hashing.
pub fn hash_decoded(image: &crate::decode::Decoded) -> Result<PdqHash, CopError> {
    let small = match image {
        crate::decode::Decoded::Rgb(rgb) => small_of_rgb(&rgb.pixels, rgb.width, rgb.height)?,
        crate::decode::Decoded::Luma(luma) => small_of_luma8(&luma.pixels, luma.width, luma.height)?,
    };
    let (block, quality) = block_of_small(&small);
    Ok(PdqHash { hash: threshold(&block), quality })
}

/// The PDQ hash of an image given as row-major RGB bytes.
pub fn hash_rgb(rgb: &[u8], width: usize, height: usize) -> Result<PdqHash, CopError> {
    let (block, quality) = block_of_small(&small_of_rgb(rgb, width, height)?);
    Ok(PdqHash { hash: threshold(&block), quality })
}

/// The PDQ hash of an image given as row-major luma.
pub fn hash_luma(luma: &[f32], width: usize, height: usize) -> Result<PdqHash, CopError> {
    check_size(luma.len(), width, height, 1)?;
    let small = downsample(width, height, &mut |row, line| line.copy_from_slice(&luma[row * width..(row + 1) * width]));
    let (block, quality) = block_of_small(&small);
    Ok(PdqHash { hash: threshold(&block), quality })
}

/// The hashes of the image and of its seven rotations and flips, in the
/// reference's order: original, rotated 90°, 180° and 270°, flipped about
/// the x axis and about the y axis, and flipped about each diagonal.
pub fn dihedral_rgb(rgb: &[u8], width: usize, height: usize) -> Result<([Hash256; 8], u32), CopError> {
    let (block, quality) = block_of_small(&small_of_rgb(rgb, width, height)?);
    Ok((dihedral(&block), quality))
}

/// The eight dihedral hashes from one DCT block. A left-right flip negates
/// the coefficients whose horizontal frequency is odd (even column index,
/// as frequencies start at 1), a top-bottom flip those with odd vertical
/// frequency, and a transpose swaps the axes.
fn dihedral(block: &[f32; DCT_SIDE * DCT_SIDE]) -> [Hash256; 8] {
    let at = |i: usize, j: usize| block[i * DCT_SIDE + j];
    let sign = |index: usize| if index.is_multiple_of(2) { -1.0f32 } else { 1.0f32 };
    let make = |f: &dyn Fn(usize, usize) -> f32| {
        let mut out = [0.0f32; DCT_SIDE * DCT_SIDE];
        for i in 0..DCT_SIDE {
            for j in 0..DCT_SIDE {
                out[i * DCT_SIDE + j] = f(i, j);
            }
        }
        threshold(&out)
    };
    [
        make(&|i, j| at(i, j)),
        // Rotate 90° clockwise: transpose, then flip left-right.
        make(&|i, j| sign(i) * at(j, i)),
        make(&|i, j| sign(i) * sign(j) * at(i, j)),
        // Rotate 270°: transpose, then flip top-bottom.
        make(&|i, j| sign(j) * at(j, i)),
        // Flipped about the x axis (top-bottom), then about the y axis.
        make(&|i, j| sign(i) * at(i, j)),
        make(&|i, j| sign(j) * at(i, j)),
        make(&|i, j| at(j, i)),
        make(&|i, j| sign(i) * sign(j) * at(j, i)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_print_and_parse_as_the_references_write_them() {
        let text = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let hash: Hash256 = text.parse().expect("hex");
        assert_eq!(hash.to_string(), text);
        assert_eq!(hash.distance(&hash), 0);
        let mut other = hash;
        other.0[0] ^= 0b1011;
        assert_eq!(hash.distance(&other), 3);
        assert!("f8f8".parse::<Hash256>().is_err());
        assert!(text.replace('f', "g").parse::<Hash256>().is_err());
    }

    #[test]
    fn the_box_filter_averages_a_centred_window_that_shrinks_at_the_edges() {
        let input: Vec<f32> = (1..=6).map(|v| v as f32).collect();
        let mut output = vec![0.0f32; 6];
        box_1d(&input, &mut output, 0, 6, 1, 3);
        // Windows: [1,2], [1,2,3], [2,3,4], [3,4,5], [4,5,6], [5,6].
        assert_eq!(output, vec![1.5, 2.0, 3.0, 4.0, 5.0, 5.5]);
        box_1d(&input, &mut output, 0, 6, 1, 1);
        assert_eq!(output, input, "a window of one changes nothing");
    }

    #[test]
    fn filtering_all_columns_at_once_equals_filtering_each() {
        let (width, height) = (7, 23);
        let input: Vec<f32> = (0..width * height).map(|v| ((v * 37) % 101) as f32 * 0.37).collect();
        for full in [1, 2, 3, 6, 23] {
            let mut together = vec![0.0f32; input.len()];
            box_columns(&input, &mut together, width, height, full);
            let mut alone = vec![0.0f32; input.len()];
            for col in 0..width {
                box_1d(&input, &mut alone, col, height, width, full);
            }
            assert_eq!(together, alone, "window {full}: bit for bit");
        }
    }

    #[test]
    fn the_sampled_downsampling_equals_filtering_everything() {
        for (width, height) in [(64, 64), (1, 1), (3, 200), (200, 3), (63, 65), (130, 97), (640, 480)] {
            let luma: Vec<f32> = (0..width * height).map(|v| ((v * 7919 + 13) % 256) as f32).collect();
            let mut everything = luma.clone();
            jarosz(&mut everything, width, height);
            let sampled = downsample(width, height, &mut |row, line| line.copy_from_slice(&luma[row * width..(row + 1) * width]));
            assert_eq!(sampled, decimate(&everything, width, height), "{width} × {height}");
        }
    }

    #[test]
    fn a_flat_image_has_no_quality() {
        let grey = vec![128u8; 100 * 80 * 3];
        let hash = hash_rgb(&grey, 100, 80).expect("hash");
        assert_eq!(hash.quality, 0);
        assert!(hash_rgb(&grey, 0, 10).is_err());
        assert!(hash_rgb(&grey[..10], 100, 80).is_err());
    }
}
