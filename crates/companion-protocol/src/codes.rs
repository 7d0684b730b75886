//! Codes people read aloud and type: Crockford's base32 (no I, L, O or U, so a code read aloud
//! or written by hand survives), through `data-encoding`. The patient's recovery code and the
//! clinic's pairing codes use the same alphabet.

use data_encoding::{Encoding, Specification};
use std::sync::LazyLock;

/// Crockford's base32 alphabet.
pub const CROCKFORD_SYMBOLS: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Crockford's base32 without padding.
pub static CROCKFORD: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str(CROCKFORD_SYMBOLS);
    spec.encoding().expect("a valid base32 specification")
});

/// `XXXX-XXXX-…`: `chars` in groups of four, for people.
pub fn grouped(chars: &str) -> String {
    let mut out = String::with_capacity(chars.len() + chars.len() / 4);
    for (n, c) in chars.chars().enumerate() {
        if n > 0 && n % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crockford_encodes_five_bits_a_character_in_its_own_alphabet() {
        assert_eq!(CROCKFORD.encode(&[0xff; 5]), "ZZZZZZZZ");
        assert_eq!(CROCKFORD.encode(&[0; 15]).len(), 24);
        // 0x08 0x42 → 00001 00001 00001 0(0000): "1110".
        assert_eq!(CROCKFORD.encode(&[0x08, 0x42]), "1110");
        let all: String = (0..32u8).map(|i| CROCKFORD_SYMBOLS.as_bytes()[i as usize] as char).collect();
        assert!(!all.contains(['I', 'L', 'O', 'U']));
        assert_eq!(grouped("ABCDEFGHJK"), "ABCD-EFGH-JK");
    }
}
