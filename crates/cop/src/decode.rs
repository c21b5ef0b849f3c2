//! Decoding an image given for hashing, with limits: an image is refused
//! before any large allocation if it claims too many pixels (decompression
//! bombs), and a truncated or malformed file is an error, never a panic.
//! The pixels live only as long as the hashing needs them.

use crate::CopError;
use image::{ImageReader, Limits};
use std::io::Cursor;

/// The largest image accepted: 50 megapixels, 12 000 pixels on a side.
pub const MAX_PIXELS: u64 = 50_000_000;
pub const MAX_SIDE: u32 = 12_000;

/// RGB pixels of a decoded image.
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Decodes JPEG, PNG, WebP, GIF or BMP bytes to RGB (alpha dropped, as
/// the reference hashes were made; EXIF orientation is not applied, so a
/// rotated copy matches through the dihedral hashes).
pub fn rgb(bytes: &[u8]) -> Result<Rgb, CopError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|err| CopError::Image(format!("cannot read the image: {err}")))?;
    match reader.format() {
        None => return Err(CopError::Image("not a JPEG, PNG, WebP, GIF or BMP image".into())),
        // The JPEG decoder fills a cut-off image with grey rather than fail;
        // a JPEG whose scan data never ends is truncated.
        Some(image::ImageFormat::Jpeg) if !jpeg_complete(bytes) => {
            return Err(CopError::Image("cannot decode the image: the JPEG file is truncated (no end-of-image marker)".into()));
        }
        Some(_) => {}
    }
    let (width, height) = reader.into_dimensions().map_err(|err| CopError::Image(format!("cannot read the image header: {err}")))?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(CopError::Image(format!(
            "{width} × {height} pixels is more than Rampart hashes ({MAX_PIXELS} pixels, {MAX_SIDE} a side)"
        )));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|err| CopError::Image(format!("cannot read the image: {err}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // Room for the decoded image at 16 bits per channel with alpha, twice.
    limits.max_alloc = Some(MAX_PIXELS * 8 * 2);
    reader.limits(limits);
    let image = reader.decode().map_err(|err| CopError::Image(format!("cannot decode the image: {err}")))?;
    let rgb = image.into_rgb8();
    Ok(Rgb { width: rgb.width() as usize, height: rgb.height() as usize, pixels: rgb.into_raw() })
}

/// Luma (grey) pixels of a decoded image, one byte per pixel.
pub struct Luma8 {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// An image decoded for hashing: JPEG straight to its luma plane, anything
/// else to RGB.
pub enum Decoded {
    Rgb(Rgb),
    Luma(Luma8),
}

/// Decodes bytes for hashing, as fast as the format allows. A JPEG's Y
/// plane is the PDQ luma (both weight R, G, B by 0.299, 0.587, 0.114), so a
/// JPEG is decoded to Y alone: no chroma upsampling, no colour conversion,
/// no RGB-to-luma pass. The hash can differ from hashing the RGB image by a
/// few bits (rounding of the colour conversion), which `benchmarks/pdq`
/// measures against the reference; [`rgb`] is the exact path.
pub fn for_hashing(bytes: &[u8]) -> Result<Decoded, CopError> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return rgb(bytes).map(Decoded::Rgb);
    }
    if !jpeg_complete(bytes) {
        return Err(CopError::Image("cannot decode the image: the JPEG file is truncated (no end-of-image marker)".into()));
    }
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::Luma)
        .set_max_width(MAX_SIDE as usize)
        .set_max_height(MAX_SIDE as usize)
        .set_strict_mode(false);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|err| CopError::Image(format!("cannot read the image header: {err:?}")))?;
    // Only a YCbCr or grey JPEG has a luma plane (CMYK, YCCK and RGB-coded
    // ones take the RGB path).
    use zune_core::colorspace::ColorSpace;
    if !matches!(decoder.input_colorspace(), Some(ColorSpace::YCbCr | ColorSpace::Luma)) {
        return rgb(bytes).map(Decoded::Rgb);
    }
    let (width, height) = decoder.dimensions().unwrap_or((0, 0));
    if width == 0 || height == 0 || u64::try_from(width * height).unwrap_or(u64::MAX) > MAX_PIXELS {
        return Err(CopError::Image(format!(
            "{width} × {height} pixels is more than Rampart hashes ({MAX_PIXELS} pixels, {MAX_SIDE} a side)"
        )));
    }
    let pixels = decoder.decode().map_err(|err| CopError::Image(format!("cannot decode the image: {err:?}")))?;
    if pixels.len() < width * height {
        return Err(CopError::Image("cannot decode the image: fewer pixels than the header says".into()));
    }
    Ok(Decoded::Luma(Luma8 { width, height, pixels }))
}

/// Whether a JPEG has an end-of-image marker after its last start-of-scan
/// (an embedded thumbnail's own markers come before it).
fn jpeg_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_scan {
        Some(scan) => bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}
