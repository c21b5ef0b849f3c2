//! PDQ conformance on `../shared/corpora/pdq`: the reference hashes were
//! made by the C++ implementation (through its Python binding) from
//! Pillow-decoded pixels. Where our decoder yields the same pixels (lossless
//! formats) the hash must be identical; elsewhere, for images of quality 80
//! or more, within 10 bits. The test prints the largest distance seen.

use rampart_cop::pdq::{self, Hash256};
use rampart_cop::{CopError, decode};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/pdq")
}

fn expected() -> Vec<(String, Hash256, u32)> {
    let text = std::fs::read_to_string(corpus().join("expected-pdqhash-py.tsv")).expect("reference hashes");
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[0].to_owned(), fields[1].parse().expect("hex"), fields[2].parse().expect("quality"))
        })
        .collect()
}

fn hash_file(relative: &str) -> pdq::PdqHash {
    let bytes = std::fs::read(corpus().join("data").join(relative)).expect("image");
    let image = decode::rgb(&bytes).unwrap_or_else(|err| panic!("{relative}: {err}"));
    pdq::hash_rgb(&image.pixels, image.width, image.height).expect("hash")
}

#[test]
fn hashes_agree_with_the_reference() {
    let cases = expected();
    assert!(cases.len() >= 40, "the corpus lists its images");
    let mut worst = (0, String::new());
    let mut exact = 0;
    for (path, reference, reference_quality) in &cases {
        let ours = hash_file(path);
        let distance = ours.hash.distance(reference);
        let lossless = path.ends_with(".png") || path.ends_with(".bmp");
        if lossless {
            assert_eq!(ours.hash, *reference, "{path}: identical pixels give the identical hash (distance {distance})");
            assert_eq!(ours.quality, *reference_quality, "{path}: quality");
        } else if *reference_quality >= 80 {
            assert!(distance <= 10, "{path}: {distance} bits from the reference ({ours:?})");
        }
        if distance == 0 {
            exact += 1;
        }
        if distance > worst.0 {
            worst = (distance, path.clone());
        }
    }
    println!("PDQ conformance: {exact} of {} identical, largest distance {} ({})", cases.len(), worst.0, worst.1);
}

/// The matching path decodes a JPEG to its luma plane only; it must stay
/// within the same tolerance of the reference, and lossless images take the
/// exact path.
#[test]
fn the_luma_plane_path_agrees_with_the_reference_too() {
    let mut worst = (0, String::new());
    let mut exact = 0;
    let cases = expected();
    for (path, reference, reference_quality) in &cases {
        let bytes = std::fs::read(corpus().join("data").join(path)).expect("image");
        let image = decode::for_hashing(&bytes).unwrap_or_else(|err| panic!("{path}: {err}"));
        let is_luma = matches!(image, decode::Decoded::Luma(_));
        assert!(!is_luma || path.ends_with(".jpg"), "{path}: only JPEGs are decoded to luma");
        let ours = pdq::hash_decoded(&image).expect("hash");
        let distance = ours.hash.distance(reference);
        if *reference_quality >= 80 {
            assert!(distance <= 10, "{path}: {distance} bits from the reference");
        }
        if !is_luma {
            assert_eq!(ours, hash_file(path), "{path}: non-JPEG images take the RGB path");
        }
        exact += usize::from(distance == 0);
        if distance > worst.0 {
            worst = (distance, path.clone());
        }
    }
    println!("PDQ luma-plane path: {exact} of {} identical, largest distance {} ({})", cases.len(), worst.0, worst.1);
    let bytes = std::fs::read(corpus().join("data/bridge-mods/aaa-orig.jpg")).expect("image");
    assert!(matches!(decode::for_hashing(&bytes[..bytes.len() / 2]), Err(CopError::Image(_))), "a truncated JPEG is refused");
    assert!(matches!(decode::for_hashing(&[0xFF, 0xD8, 0xFF, 0xD9]), Err(CopError::Image(_))));
}

#[test]
fn the_dihedral_hashes_match_the_rotated_and_flipped_images() {
    let bytes = std::fs::read(corpus().join("data/reg-test-input/dih/bridge-1-original.jpg")).expect("image");
    let image = decode::rgb(&bytes).expect("decode");
    let (variants, quality) = pdq::dihedral_rgb(&image.pixels, image.width, image.height).expect("hash");
    assert!(quality >= 80);
    let names = [
        "bridge-1-original.jpg",
        "bridge-2-rotate-90.jpg",
        "bridge-3-rotate-180.jpg",
        "bridge-4-rotate-270.jpg",
        "bridge-5-flipx.jpg",
        "bridge-6-flipy.jpg",
        "bridge-7-flip-plus-1.jpg",
        "bridge-8-flip-minus-1.jpg",
    ];
    for (variant, name) in variants.iter().zip(names) {
        let actual = hash_file(&format!("reg-test-input/dih/{name}")).hash;
        let distance = variant.distance(&actual);
        assert!(distance <= 10, "{name}: the variant computed from the original is {distance} bits from hashing the file");
    }
}

#[test]
fn hostile_images_are_refused_cleanly() {
    let good = std::fs::read(corpus().join("data/bridge-mods/aaa-orig.jpg")).expect("image");
    let truncated = &good[..good.len() / 3];
    match decode::rgb(truncated) {
        Err(CopError::Image(message)) => assert!(message.contains("decode") || message.contains("read"), "{message}"),
        Ok(_) => panic!("a truncated JPEG decoded"),
        Err(other) => panic!("{other:?}"),
    }
    assert!(matches!(decode::rgb(b"not an image at all"), Err(CopError::Image(_))));
    assert!(matches!(decode::rgb(&[]), Err(CopError::Image(_))));
    // A PNG whose header claims 100 000 × 100 000 pixels: refused before any allocation.
    let mut bomb = Vec::new();
    bomb.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    bomb.extend_from_slice(&13u32.to_be_bytes());
    bomb.extend_from_slice(b"IHDR");
    bomb.extend_from_slice(&ihdr);
    let crc = crc32(&[b"IHDR".as_slice(), &ihdr].concat());
    bomb.extend_from_slice(&crc.to_be_bytes());
    // A little compressed data (a real bomb is megabytes of zeros) and the end.
    for (kind, data) in [(b"IDAT", vec![0x78u8, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]), (b"IEND", Vec::new())] {
        bomb.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        bomb.extend_from_slice(kind);
        bomb.extend_from_slice(&data);
        bomb.extend_from_slice(&crc32(&[kind.as_slice(), &data].concat()).to_be_bytes());
    }
    match decode::rgb(&bomb) {
        Err(CopError::Image(message)) => assert!(message.contains("100000 × 100000"), "{message}"),
        other => panic!("a decompression bomb was not refused: {:?}", other.map(|i| (i.width, i.height))),
    }
}

/// CRC-32 (IEEE), for building a well-formed PNG header in the test.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
