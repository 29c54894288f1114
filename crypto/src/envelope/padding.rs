//! Padmé padding (`docs/protocol.md` §3.3) and a constant-memory padding stripper.

use super::error::EnvelopeError;

/// The smallest padded size.
pub const MIN_PADDED_LEN: u64 = 1024;

/// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
/// with PURBs", 2019): rounds `n` up so that only the top `floor(log2(floor(log2 n))) + 1`
/// bits may be non-zero. `None` on overflow (only for `n` near `u64::MAX`).
#[must_use]
pub fn padme(n: u64) -> Option<u64> {
    if n <= 2 {
        return Some(n);
    }
    let e = 63 - n.leading_zeros(); // floor(log2 n), >= 1
    let s = 32 - e.leading_zeros(); // floor(log2 e) + 1
    let z = e - s; // e >= s for every e >= 1
    let mask = (1u64 << z) - 1;
    Some(n.checked_add(mask)? & !mask)
}

/// `P = max(1024, padme(L + 1))`: the padded length of an `L`-byte plaintext.
#[must_use]
pub fn padded_len(plaintext_len: u64) -> Option<u64> {
    Some(padme(plaintext_len.checked_add(1)?)?.max(MIN_PADDED_LEN))
}

/// Somewhere to put plaintext as it is released.
pub(crate) trait Sink {
    fn put(&mut self, data: &[u8]) -> Result<(), EnvelopeError>;
}

impl Sink for Vec<u8> {
    fn put(&mut self, data: &[u8]) -> Result<(), EnvelopeError> {
        self.extend_from_slice(data);
        Ok(())
    }
}

/// A `std::io::Write` as a [`Sink`].
pub(crate) struct WriteSink<W>(pub W);

impl<W: std::io::Write> Sink for WriteSink<W> {
    fn put(&mut self, data: &[u8]) -> Result<(), EnvelopeError> {
        self.0.write_all(data).map_err(EnvelopeError::Io)
    }
}

static ZEROS: [u8; 4096] = [0u8; 4096];

/// Removes `0x80 0x00*` from the end of a stream of padded plaintext in constant memory: it
/// never holds back bytes, only a count of trailing zeros and whether a `0x80` precedes them.
#[derive(Debug, Default)]
pub(crate) struct PadStripper {
    /// A `0x80` that might be the padding marker is being withheld.
    marker_pending: bool,
    /// Zero bytes withheld after the (possible) marker.
    zeros: u64,
    /// Padded bytes seen.
    padded_total: u64,
    /// Plaintext bytes released.
    released: u64,
}

impl PadStripper {
    fn release_withheld(&mut self, sink: &mut impl Sink) -> Result<(), EnvelopeError> {
        if self.marker_pending {
            sink.put(&[0x80])?;
            self.released = self.released.saturating_add(1);
            self.marker_pending = false;
        }
        while self.zeros > 0 {
            let n = usize::try_from(self.zeros)
                .unwrap_or(usize::MAX)
                .min(ZEROS.len());
            sink.put(ZEROS.get(..n).unwrap_or(&[]))?;
            self.zeros -= n as u64;
            self.released = self.released.saturating_add(n as u64);
        }
        Ok(())
    }

    /// Feeds decrypted padded plaintext.
    pub(crate) fn feed(&mut self, data: &[u8], sink: &mut impl Sink) -> Result<(), EnvelopeError> {
        self.padded_total = self.padded_total.saturating_add(data.len() as u64);
        match data.iter().rposition(|&b| b != 0) {
            None => {
                self.zeros = self.zeros.saturating_add(data.len() as u64);
            }
            Some(last) => {
                self.release_withheld(sink)?;
                let (head, tail) = data.split_at(last);
                sink.put(head)?;
                self.released = self.released.saturating_add(head.len() as u64);
                match tail.split_first() {
                    Some((&0x80, zeros)) => {
                        self.marker_pending = true;
                        self.zeros = zeros.len() as u64;
                    }
                    Some((&b, zeros)) => {
                        sink.put(&[b])?;
                        self.released = self.released.saturating_add(1);
                        self.zeros = zeros.len() as u64;
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }

    /// Ends the stream: the last non-zero byte must be the `0x80` marker and the padded
    /// length must be exactly `padded_len(L)`. Returns `L`.
    pub(crate) fn finish(self) -> Result<u64, EnvelopeError> {
        if !self.marker_pending || padded_len(self.released) != Some(self.padded_total) {
            return Err(EnvelopeError::Decrypt);
        }
        Ok(self.released)
    }
}

/// Strips the padding of a whole padded buffer in place.
pub(crate) fn strip_in_place(padded: &mut Vec<u8>) -> Result<(), EnvelopeError> {
    let marker = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(EnvelopeError::Decrypt)?;
    if padded.get(marker) != Some(&0x80) || padded_len(marker as u64) != Some(padded.len() as u64) {
        return Err(EnvelopeError::Decrypt);
    }
    padded.truncate(marker);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_small_values() {
        assert_eq!(padme(0), Some(0));
        assert_eq!(padme(1), Some(1));
        assert_eq!(padme(2), Some(2));
        assert_eq!(padme(3), Some(3));
        assert_eq!(padme(9), Some(10));
        assert_eq!(padme(1025), Some(1088));
        assert_eq!(padme(65536), Some(65536));
        assert_eq!(padme(65537), Some(67584));
        assert_eq!(padme(u64::MAX), None);
        assert_eq!(padded_len(0), Some(1024));
        assert_eq!(padded_len(1023), Some(1024));
        assert_eq!(padded_len(1024), Some(1088));
    }

    fn strip_all(chunks: &[&[u8]]) -> Result<Vec<u8>, EnvelopeError> {
        let mut s = PadStripper::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out)?;
        }
        let n = s.finish()?;
        assert_eq!(n, out.len() as u64);
        Ok(out)
    }

    #[test]
    fn stripper_matches_in_place() {
        for msg in [
            &b""[..],
            b"\x80",
            b"\x00\x00",
            b"a\x80\x00",
            b"\x80\x80",
            b"xyz\x00",
        ] {
            let p = usize::try_from(padded_len(msg.len() as u64).unwrap_or(0)).unwrap_or(0);
            let mut padded = msg.to_vec();
            padded.push(0x80);
            padded.resize(p, 0);
            for split in [0, 1, msg.len(), msg.len() + 1, 500, p] {
                let (a, b) = padded.split_at(split.min(p));
                assert_eq!(strip_all(&[a, b]).ok().as_deref(), Some(msg));
            }
            let mut v = padded.clone();
            assert!(strip_in_place(&mut v).is_ok());
            assert_eq!(v, msg);
        }
        assert!(strip_all(&[&[0u8; 1024]]).is_err());
        let mut bad = vec![1u8; 1];
        bad.resize(1024, 0);
        assert!(strip_all(&[&bad]).is_err());
        // Non-canonical length: marker present but wrong padded size.
        let mut short = vec![b'a', 0x80];
        short.resize(1000, 0);
        assert!(strip_all(&[&short]).is_err());
    }
}
