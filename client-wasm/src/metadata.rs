//! Removes identifying metadata from images before they are encrypted, by dropping whole
//! segments or chunks. Nothing is decoded or re-encoded, so the picture itself is bit-for-bit
//! the same.
//!
//! Both are allow-lists: what is not needed to show the picture is dropped, known or not.
//!
//! - JPEG: kept are the frame and scan structure only: `SOF0`–`SOF15` (`0xC0`–`0xCF` without
//!   `0xC8`, so including `DHT` and `DAC`), `DQT`, `DRI`, `DNL`, `SOS` with its entropy-coded
//!   data and restart markers, `EOI`; `APP0` "JFIF" cut to its 14 fixed bytes (no thumbnail)
//!   and `APP14` "Adobe" cut to its 12 bytes (the colour transform). Dropped is everything
//!   else: `APP1`–`APP15` (Exif/GPS and XMP in `APP1`, ICC profiles in `APP2`, C2PA/JUMBF in
//!   `APP11`, Photoshop/IPTC in `APP13`, maker data), `COM`, `JFXX` thumbnails, reserved and
//!   extension markers, and bytes after the end-of-image marker (trailers, appended previews).
//! - PNG: kept are `IHDR`, `PLTE`, `IDAT`, `IEND` and the ancillary chunks needed to show
//!   the colours right: `tRNS`, `gAMA`, `cHRM`, `sRGB`. Dropped is every other chunk: text
//!   (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `tIME`, `iCCP` (an ICC profile can name the device),
//!   C2PA `caBX`, `pHYs`, animation and private chunks, and bytes after `IEND`. Chunk CRCs
//!   are kept as they are.
//!
//! Other formats are returned unchanged with [`Stripped::Unsupported`]; the page tells the
//! reporter that their metadata is not removed.

/// What [`strip`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stripped {
    /// A JPEG or PNG: the cleaned bytes and the number of segments or chunks removed.
    Cleaned {
        /// The file without metadata.
        bytes: Vec<u8>,
        /// How many segments (JPEG) or chunks (PNG) were removed.
        removed: usize,
    },
    /// Not a JPEG or PNG: nothing was changed.
    Unsupported,
}

/// A JPEG or PNG whose structure could not be followed. The file is not attached: sending it
/// unchanged could leak the metadata the reporter was promised would be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the image is damaged: its metadata cannot be removed safely")]
pub struct Malformed;

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Strips metadata from a JPEG or PNG, recognised by its first bytes (never by name or type).
///
/// # Errors
/// [`Malformed`] for a JPEG or PNG whose segments or chunks do not add up.
pub fn strip(bytes: &[u8]) -> Result<Stripped, Malformed> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        strip_jpeg(bytes)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        strip_png(bytes)
    } else {
        Ok(Stripped::Unsupported)
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
}

fn be32(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    let v = u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]);
    usize::try_from(v).ok()
}

/// What to keep of a JPEG marker segment (`payload`: its data after the length field): `None`
/// drops it; `Some(n)` keeps its first `n` payload bytes (the whole segment when `n` is its
/// length). An allow-list: unknown markers are dropped.
fn jpeg_segment_keep(marker: u8, payload: &[u8]) -> Option<usize> {
    match marker {
        // Frames (SOF0–SOF15, which include DHT 0xC4 and DAC 0xCC), DQT, DNL, DRI, SOS.
        0xC0..=0xC7 | 0xC9..=0xCF | 0xDA..=0xDD => Some(payload.len()),
        // JFIF: identifier, version, units, densities; the thumbnail bytes are dropped.
        0xE0 if payload.starts_with(b"JFIF\0") && payload.len() >= JFIF_LEN => Some(JFIF_LEN),
        // Adobe: version, flags and the colour transform only.
        0xEE if payload.starts_with(b"Adobe") && payload.len() >= ADOBE_LEN => Some(ADOBE_LEN),
        _ => None,
    }
}

/// `JFIF\0`, version (2), units (1), densities (2 + 2), thumbnail size (1 + 1).
const JFIF_LEN: usize = 14;
/// `Adobe`, version (2), flags (2 + 2), colour transform (1).
const ADOBE_LEN: usize = 12;

fn strip_jpeg(bytes: &[u8]) -> Result<Stripped, Malformed> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut removed = 0usize;
    let mut at = 2usize;
    loop {
        // A marker: 0xFF, optional 0xFF fill bytes, then the marker code.
        if bytes.get(at) != Some(&0xFF) {
            return Err(Malformed);
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or(Malformed)?;
        at += 1;
        match marker {
            0xD9 => {
                // End of image; whatever follows is dropped.
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(Stripped::Cleaned { bytes: out, removed });
            }
            0x00 | 0xD8 => return Err(Malformed),
            // Markers without a length (RSTn, TEM) outside a scan: copy them.
            0x01 | 0xD0..=0xD7 => out.extend_from_slice(&[0xFF, marker]),
            _ => {
                let len = be16(bytes, at).ok_or(Malformed)?;
                if len < 2 {
                    return Err(Malformed);
                }
                let end = at.checked_add(len).ok_or(Malformed)?;
                let segment = bytes.get(at..end).ok_or(Malformed)?;
                let payload = segment.get(2..).ok_or(Malformed)?;
                match jpeg_segment_keep(marker, payload) {
                    None => removed += 1,
                    Some(n) if n == payload.len() && marker != 0xE0 => {
                        out.extend_from_slice(&[0xFF, marker]);
                        out.extend_from_slice(segment);
                    }
                    Some(n) => {
                        let kept = payload.get(..n).ok_or(Malformed)?;
                        let mut kept = kept.to_vec();
                        if marker == 0xE0 {
                            // No thumbnail: width and height 0.
                            kept.truncate(JFIF_LEN - 2);
                            kept.extend_from_slice(&[0, 0]);
                        }
                        if kept.as_slice() != payload {
                            removed += 1;
                        }
                        out.extend_from_slice(&[0xFF, marker]);
                        let len = u16::try_from(kept.len() + 2).map_err(|_| Malformed)?;
                        out.extend_from_slice(&len.to_be_bytes());
                        out.extend_from_slice(&kept);
                    }
                }
                at = end;
                if marker == 0xDA {
                    // Start of scan: entropy-coded data follows until a marker that is not a
                    // stuffed 0xFF00, a restart marker or fill.
                    let start = at;
                    loop {
                        let b = *bytes.get(at).ok_or(Malformed)?;
                        if b == 0xFF {
                            let next = *bytes.get(at + 1).ok_or(Malformed)?;
                            if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                                at += 2;
                                continue;
                            }
                            if next == 0xFF {
                                at += 1;
                                continue;
                            }
                            break;
                        }
                        at += 1;
                    }
                    out.extend_from_slice(bytes.get(start..at).ok_or(Malformed)?);
                }
            }
        }
    }
}

/// The PNG chunk types kept: the critical ones, and those needed for the right colours and
/// transparency. Every other chunk is dropped.
const PNG_KEEP: [&[u8; 4]; 8] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
];

fn strip_png(bytes: &[u8]) -> Result<Stripped, Malformed> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut removed = 0usize;
    let mut at = PNG_SIGNATURE.len();
    loop {
        let len = be32(bytes, at).ok_or(Malformed)?;
        // length, type, data, CRC
        let end = at.checked_add(len).and_then(|n| n.checked_add(12)).ok_or(Malformed)?;
        let chunk = bytes.get(at..end).ok_or(Malformed)?;
        let kind = chunk.get(4..8).ok_or(Malformed)?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Malformed);
        }
        if PNG_KEEP.iter().any(|m| m.as_slice() == kind) {
            out.extend_from_slice(chunk);
        } else {
            removed += 1;
        }
        at = end;
        if kind == b"IEND" {
            return Ok(Stripped::Cleaned { bytes: out, removed });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A structurally complete JPEG (not decodable, which does not matter here) with the given
    /// segments before the frame.
    fn jpeg(before_frame: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        for s in before_frame {
            j.extend_from_slice(s);
        }
        j.extend(segment(0xDB, &[0u8; 65])); // DQT
        j.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0])); // SOF0
        j.extend(segment(0xC4, &[0u8; 20])); // DHT
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0])); // SOS
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD1, 0x78]);
        j.extend_from_slice(&[0xFF, 0xD9]);
        j.extend_from_slice(trailer);
        j
    }

    const JFIF: &[u8] = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0";

    #[test]
    fn jpeg_drops_exif_xmp_icc_and_comments() {
        let exif = segment(0xE1, b"Exif\0\0MM\0*GPS 52.37N 4.89E Canon EOS");
        let xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>");
        let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01camera");
        let com = segment(0xFE, b"taken by J. Jansen");
        let adobe = segment(0xEE, b"Adobe\0d\0\0\0\0\x01");
        let input = jpeg(&[segment(0xE0, JFIF), exif, xmp, icc, com, adobe.clone()], b"trailer");
        let Stripped::Cleaned { bytes, removed } = strip(&input).unwrap() else { panic!("not cleaned") };
        assert_eq!(removed, 4);
        let expected = jpeg(&[segment(0xE0, JFIF), adobe], b"");
        assert_eq!(bytes, expected);
        let text = String::from_utf8_lossy(&bytes);
        for leak in ["Exif", "GPS", "Canon", "xmpmeta", "ICC", "Jansen", "trailer"] {
            assert!(!text.contains(leak), "{leak} survived");
        }
    }

    #[test]
    fn jpeg_without_metadata_is_unchanged() {
        let input = jpeg(&[segment(0xE0, JFIF)], b"");
        assert_eq!(strip(&input).unwrap(), Stripped::Cleaned { bytes: input.clone(), removed: 0 });
    }

    #[test]
    fn jpeg_scan_data_is_copied_verbatim() {
        // A segment-like byte pattern inside the entropy-coded data must not be parsed.
        let input = jpeg(&[], b"");
        let Stripped::Cleaned { bytes, .. } = strip(&input).unwrap() else { panic!() };
        assert_eq!(bytes, input);
    }

    #[test]
    fn progressive_jpeg_segments_between_scans_are_handled() {
        let mut j = jpeg(&[], b"");
        j.truncate(j.len() - 2); // before EOI
        j.extend(segment(0xFE, b"comment between scans"));
        j.extend(segment(0xC4, &[1u8; 20]));
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(&[0x9A, 0xFF, 0xD9]);
        let Stripped::Cleaned { bytes, removed } = strip(&j).unwrap() else { panic!() };
        assert_eq!(removed, 1);
        assert!(!String::from_utf8_lossy(&bytes).contains("comment"));
        assert!(bytes.ends_with(&[0x9A, 0xFF, 0xD9]));
    }

    #[test]
    fn damaged_jpegs_are_refused_not_passed_through() {
        let input = jpeg(&[segment(0xE1, b"Exif\0\0GPS")], b"");
        // Cut anywhere before the end-of-image marker.
        for cut in 3..input.len() - 2 {
            assert_eq!(strip(&input[..cut]), Err(Malformed), "cut at {cut}");
        }
        // A length that runs past the end.
        let mut bad = vec![0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, b'E'];
        assert_eq!(strip(&bad), Err(Malformed));
        bad[4] = 0;
        bad[5] = 1; // length 1 < 2
        assert_eq!(strip(&bad), Err(Malformed));
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0xAA, 0xBB, 0xCC, 0xDD]); // CRC is not checked or changed
        c
    }

    fn png(chunks: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut p = PNG_SIGNATURE.to_vec();
        p.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        for c in chunks {
            p.extend_from_slice(c);
        }
        p.extend(chunk(b"IDAT", b"pixels"));
        p.extend(chunk(b"IEND", b""));
        p.extend_from_slice(trailer);
        p
    }

    #[test]
    fn png_drops_text_exif_and_time_chunks() {
        let keep = chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]);
        let input = png(
            &[
                chunk(b"tEXt", b"Author\0J. Jansen"),
                chunk(b"zTXt", b"Comment\0\0xyz"),
                chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<gps>"),
                chunk(b"eXIf", b"MM\0*GPS"),
                chunk(b"tIME", &[7, 232, 1, 2, 3, 4, 5]),
                keep.clone(),
            ],
            b"appended",
        );
        let Stripped::Cleaned { bytes, removed } = strip(&input).unwrap() else { panic!() };
        assert_eq!(removed, 5);
        assert_eq!(bytes, png(&[keep], b""));
    }

    #[test]
    fn damaged_pngs_are_refused() {
        let input = png(&[chunk(b"tEXt", b"GPS")], b"");
        for cut in 8..input.len() {
            assert_eq!(strip(&input[..cut]), Err(Malformed), "cut at {cut}");
        }
        let mut huge = PNG_SIGNATURE.to_vec();
        huge.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        huge.extend_from_slice(b"tEXt");
        assert_eq!(strip(&huge), Err(Malformed));
    }

    /// Every kind of PNG metadata named in the issue, and a chunk nobody knows: none survive,
    /// and what is left is a PNG of the allowed chunks in their order.
    #[test]
    fn png_keeps_only_the_allow_list() {
        let keep = [
            chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]),
            chunk(b"cHRM", &[0u8; 32]),
            chunk(b"sRGB", &[0]),
            chunk(b"PLTE", &[1, 2, 3]),
            chunk(b"tRNS", &[0]),
        ];
        let metadata = [
            chunk(b"tEXt", b"Author\0LEAK-text"),
            chunk(b"zTXt", b"Comment\0\0LEAK-ztxt"),
            chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0LEAK-itxt"),
            chunk(b"eXIf", b"MM\0*LEAK-exif"),
            chunk(b"iCCP", b"LEAK-icc\0\0profile"),
            chunk(b"caBX", b"jumbLEAK-c2pa"),
            chunk(b"prVt", b"LEAK-private"),
            chunk(b"tIME", b"LEAK-t"),
            chunk(b"pHYs", b"LEAK-phys"),
            chunk(b"sPLT", b"LEAK-splt\0"),
        ];
        let mut chunks = Vec::new();
        for (i, m) in metadata.iter().enumerate() {
            chunks.push(m.clone());
            if let Some(k) = keep.get(i) {
                chunks.push(k.clone());
            }
        }
        let input = png(&chunks, b"LEAK-trailer");
        let Stripped::Cleaned { bytes, removed } = strip(&input).unwrap() else { panic!() };
        assert_eq!(removed, metadata.len());
        assert_eq!(bytes, png(&keep, b""));
        assert!(!bytes.windows(4).any(|w| w == b"LEAK"));
    }

    /// Every kind of JPEG metadata named in the issue, a JFIF thumbnail and unknown markers:
    /// none survive; the frame and scan are copied as they are.
    #[test]
    fn jpeg_keeps_only_the_allow_list() {
        let mut jfif_thumb = JFIF.to_vec();
        jfif_thumb[12] = 1; // a 1×1 thumbnail
        jfif_thumb[13] = 1;
        jfif_thumb.extend_from_slice(b"LEAK-thumbnail");
        let mut adobe_long = b"Adobe\0d\0\0\0\0\x01".to_vec();
        adobe_long.extend_from_slice(b"LEAK-adobe");
        let metadata = [
            segment(0xE1, b"Exif\0\0MM\0*LEAK-exif"),
            segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0LEAK-xmp"),
            segment(0xE2, b"ICC_PROFILE\0\x01\x01LEAK-icc"),
            segment(0xEB, b"JP\0\0\0\x01jumbLEAK-c2pa"),
            segment(0xED, b"Photoshop 3.0\08BIMLEAK-iptc"),
            segment(0xFE, b"LEAK-comment"),
            segment(0xE0, b"JFXX\0\x10LEAK-jfxx"),
            segment(0xEF, b"LEAK-app15"),
            segment(0xF1, b"LEAK-jpg-extension"),
            segment(0xC8, b"LEAK-reserved"),
            segment(0xDE, b"LEAK-dhp"),
        ];
        let mut before = vec![segment(0xE0, &jfif_thumb), segment(0xEE, &adobe_long)];
        before.extend(metadata.iter().cloned());
        before.push(segment(0xDD, &[0, 4])); // DRI
        let input = jpeg(&before, b"LEAK-trailer");
        let Stripped::Cleaned { bytes, removed } = strip(&input).unwrap() else { panic!() };
        assert_eq!(removed, metadata.len() + 2);
        let expected = jpeg(
            &[
                segment(0xE0, JFIF),
                segment(0xEE, b"Adobe\0d\0\0\0\0\x01"),
                segment(0xDD, &[0, 4]),
            ],
            b"",
        );
        assert_eq!(bytes, expected);
        assert!(!bytes.windows(4).any(|w| w == b"LEAK"));
        // What is left is stable: stripping again removes nothing.
        assert_eq!(strip(&bytes).unwrap(), Stripped::Cleaned { bytes: bytes.clone(), removed: 0 });
    }

    #[test]
    fn other_files_are_left_alone() {
        assert_eq!(strip(b"%PDF-1.7 ..."), Ok(Stripped::Unsupported));
        assert_eq!(strip(b""), Ok(Stripped::Unsupported));
        assert_eq!(strip(&[0xFF, 0xD8]), Ok(Stripped::Unsupported));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// A JPEG or PNG prefix followed by arbitrary bytes, to get past the signature check.
    fn image_like() -> impl Strategy<Value = Vec<u8>> {
        (0usize..3, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(kind, rest)| {
            let mut v = match kind {
                0 => vec![0xFF, 0xD8, 0xFF],
                1 => PNG_SIGNATURE.to_vec(),
                _ => Vec::new(),
            };
            v.extend(rest);
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Untrusted bytes never panic; a cleaned result is never larger than the input, and
        /// stripping it again removes nothing (no metadata is left behind to find).
        #[test]
        fn any_bytes_never_panic(bytes in image_like()) {
            if let Ok(Stripped::Cleaned { bytes: out, .. }) = strip(&bytes) {
                prop_assert!(out.len() <= bytes.len());
                match strip(&out) {
                    Ok(Stripped::Cleaned { bytes: again, removed }) => {
                        prop_assert_eq!(removed, 0);
                        prop_assert_eq!(again, out);
                    }
                    other => prop_assert!(false, "cleaned output not clean: {:?}", other),
                }
            }
        }
    }
}
