//! Keys: the random data key that SQLCipher uses, and wrapping it under a passphrase.
//!
//! The database is encrypted with a random 256-bit data key given to SQLCipher raw (no per-open
//! KDF). The data key is stored only wrapped: AES-256-GCM (from `ring`) under a key derived from a
//! passphrase or a recovery code with Argon2id (default) or PBKDF2-HMAC-SHA256. The KDF and its
//! parameters travel with each wrapped copy, and are bound into the AEAD's associated data, so
//! they can be raised later and cannot be quietly lowered in the file.

use crate::error::{Error, Invalid, Problem, Result};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use zeroize::{Zeroize, Zeroizing};

pub const KEY_LEN: usize = 32;
const SALT_LEN: usize = 16;

/// The shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE: usize = 8;
/// The longest passphrase accepted, in characters (beyond this is a paste gone wrong).
pub const MAX_PASSPHRASE: usize = 1024;

/// OWASP's baseline for Argon2id: 19 MiB, 2 passes, 1 lane.
pub const ARGON2_M_KIB: u32 = 19 * 1024;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;
/// OWASP's floor for PBKDF2-HMAC-SHA256.
pub const PBKDF2_MIN_ITERATIONS: u32 = 600_000;

/// 256 bits of key material, wiped from memory when dropped.
#[derive(Clone, Zeroize, zeroize::ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    pub fn random() -> Result<Self> {
        let mut key = [0u8; KEY_LEN];
        fill_random(&mut key)?;
        Ok(SecretKey(key))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Lower-case hex, for SQLCipher's raw-key syntax. Wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(KEY_LEN * 2));
        for b in self.0 {
            s.push(char::from_digit((b >> 4) as u32, 16).expect("nibble"));
            s.push(char::from_digit((b & 0xf) as u32, 16).expect("nibble"));
        }
        s
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    SystemRandom::new().fill(buf).map_err(|_| Error::Internal("no secure random numbers"))
}

/// How a wrapping key is derived from a secret a person knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "alg", rename_all = "kebab-case")]
pub enum Kdf {
    Argon2id { m_kib: u32, t: u32, p: u32, salt: String },
    Pbkdf2Sha256 { iterations: u32, salt: String },
}

impl Kdf {
    /// The default for new key slots: Argon2id at the OWASP baseline, with a fresh salt.
    pub fn default_argon2id() -> Result<Self> {
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt)?;
        Ok(Kdf::Argon2id { m_kib: ARGON2_M_KIB, t: ARGON2_T, p: ARGON2_P, salt: B64.encode(salt) })
    }

    /// PBKDF2-HMAC-SHA256 with a fresh salt; for platforms where 19 MiB is too much.
    pub fn pbkdf2(iterations: u32) -> Result<Self> {
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt)?;
        Ok(Kdf::Pbkdf2Sha256 { iterations: iterations.max(PBKDF2_MIN_ITERATIONS), salt: B64.encode(salt) })
    }

    /// A canonical text of the algorithm and parameters, bound into the wrap's associated data.
    fn describe(&self) -> String {
        match self {
            Kdf::Argon2id { m_kib, t, p, salt } => format!("argon2id:m={m_kib}:t={t}:p={p}:s={salt}"),
            Kdf::Pbkdf2Sha256 { iterations, salt } => format!("pbkdf2-sha256:i={iterations}:s={salt}"),
        }
    }

    /// Refuses parameters below our floor, so a tampered file cannot make guessing cheap.
    fn check_strength(&self) -> Result<()> {
        let ok = match self {
            Kdf::Argon2id { m_kib, t, p, .. } => *m_kib >= ARGON2_M_KIB && *t >= ARGON2_T && *p >= 1,
            Kdf::Pbkdf2Sha256 { iterations, .. } => *iterations >= PBKDF2_MIN_ITERATIONS,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Damaged("a key slot has weaker parameters than allowed"))
        }
    }

    /// Derives the 256-bit wrapping key from the secret.
    pub fn derive(&self, secret: &[u8]) -> Result<SecretKey> {
        self.check_strength()?;
        let mut out = [0u8; KEY_LEN];
        match self {
            Kdf::Argon2id { m_kib, t, p, salt } => {
                let salt = B64.decode(salt).map_err(|_| Error::Damaged("a key slot's salt is unreadable"))?;
                let params = argon2::Params::new(*m_kib, *t, *p, Some(KEY_LEN))
                    .map_err(|_| Error::Damaged("a key slot's parameters are unusable"))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(secret, &salt, &mut out)
                    .map_err(|_| Error::Internal("key derivation failed"))?;
            }
            Kdf::Pbkdf2Sha256 { iterations, salt } => {
                let salt = B64.decode(salt).map_err(|_| Error::Damaged("a key slot's salt is unreadable"))?;
                let iterations = NonZeroU32::new(*iterations).ok_or(Error::Damaged("zero iterations"))?;
                ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, secret, &mut out);
            }
        }
        let key = SecretKey(out);
        out.zeroize();
        Ok(key)
    }
}

/// A data key sealed under a derived key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapped {
    pub kdf: Kdf,
    pub nonce: String,
    /// Ciphertext and GCM tag, base64.
    pub sealed: String,
}

/// SHA-256 of `bytes`, as lower-case hex: checksums, and hashes of codes that must not be kept.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Wraps `data_key` under `secret`. `context` names the store and slot, so a wrapped copy cannot
/// be moved to another store or slot.
pub fn wrap(data_key: &SecretKey, secret: &[u8], kdf: Kdf, context: &str) -> Result<Wrapped> {
    let kek = kdf.derive(secret)?;
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let key = aead_key(&kek)?;
    let aad = aad(&kdf, context);
    let mut buf = data_key.as_bytes().to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut buf)
        .map_err(|_| Error::Internal("sealing the data key failed"))?;
    let sealed = B64.encode(&buf);
    buf.zeroize();
    Ok(Wrapped { kdf, nonce: B64.encode(nonce), sealed })
}

/// Unwraps with `secret`; `Ok(None)` when the secret is not the one this copy was wrapped under.
pub fn unwrap(wrapped: &Wrapped, secret: &[u8], context: &str) -> Result<Option<SecretKey>> {
    let kek = wrapped.kdf.derive(secret)?;
    let nonce: [u8; NONCE_LEN] =
        B64.decode(&wrapped.nonce).ok().and_then(|n| n.try_into().ok()).ok_or(Error::Damaged("a key slot's nonce is unreadable"))?;
    let mut buf = B64.decode(&wrapped.sealed).map_err(|_| Error::Damaged("a key slot is unreadable"))?;
    let key = aead_key(&kek)?;
    let aad = aad(&wrapped.kdf, context);
    let result = match key.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut buf) {
        Ok(plain) if plain.len() == KEY_LEN => {
            let mut k = [0u8; KEY_LEN];
            k.copy_from_slice(plain);
            let key = SecretKey(k);
            k.zeroize();
            Some(key)
        }
        Ok(_) => return Err(Error::Damaged("a key slot holds a key of the wrong size")),
        Err(_) => None,
    };
    buf.zeroize();
    Ok(result)
}

/// A key or a record sealed under a raw key (no KDF): AES-256-GCM, random nonce, and the
/// associated data naming what it is and where it belongs, so a sealed value cannot be moved.
pub fn seal(under: &SecretKey, plain: &[u8], context: &str) -> Result<String> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let key = aead_key(under)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(NONCE_LEN + plain.len() + 16));
    buf.extend_from_slice(plain);
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut *buf)
        .map_err(|_| Error::Internal("sealing failed"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    Ok(B64.encode(out))
}

/// Opens what [`seal`] made; `Ok(None)` when `under` is not the key it was sealed with (or the
/// context differs), an error when the text is not a sealed value at all.
pub fn open_sealed(under: &SecretKey, sealed: &str, context: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let raw = B64.decode(sealed).map_err(|_| Error::Damaged("a sealed value is unreadable"))?;
    if raw.len() < NONCE_LEN + 16 {
        return Err(Error::Damaged("a sealed value is too short"));
    }
    let nonce: [u8; NONCE_LEN] = raw[..NONCE_LEN].try_into().expect("length checked");
    let mut buf = Zeroizing::new(raw[NONCE_LEN..].to_vec());
    let key = aead_key(under)?;
    match key.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut buf) {
        Ok(plain) => {
            let n = plain.len();
            buf.truncate(n);
            Ok(Some(buf))
        }
        Err(_) => Ok(None),
    }
}

/// Seals a key under another key.
pub fn seal_key(under: &SecretKey, key: &SecretKey, context: &str) -> Result<String> {
    seal(under, key.as_bytes(), context)
}

/// Opens a key sealed with [`seal_key`].
pub fn open_key(under: &SecretKey, sealed: &str, context: &str) -> Result<Option<SecretKey>> {
    match open_sealed(under, sealed, context)? {
        Some(plain) if plain.len() == KEY_LEN => {
            let mut k = [0u8; KEY_LEN];
            k.copy_from_slice(&plain);
            let key = SecretKey(k);
            k.zeroize();
            Ok(Some(key))
        }
        Some(_) => Err(Error::Damaged("a sealed key has the wrong size")),
        None => Ok(None),
    }
}

fn aead_key(kek: &SecretKey) -> Result<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, kek.as_bytes()).map_err(|_| Error::Internal("bad key length"))?;
    Ok(LessSafeKey::new(unbound))
}

fn aad(kdf: &Kdf, context: &str) -> String {
    format!("companion-keyslot-v1|{context}|{}", kdf.describe())
}

/// Checks a new passphrase's length (in characters).
pub fn check_passphrase(field: &'static str, passphrase: &str) -> std::result::Result<(), Invalid> {
    let n = passphrase.chars().count();
    if n < MIN_PASSPHRASE {
        return Err(Invalid::new(field, Problem::TooShort { min: MIN_PASSPHRASE }));
    }
    if n > MAX_PASSPHRASE {
        return Err(Invalid::new(field, Problem::TooLong { max: MAX_PASSPHRASE }));
    }
    Ok(())
}

/// A recovery code holds 120 random bits: 24 characters of Crockford's base32, shown in six
/// groups of four.
const RECOVERY_BYTES: usize = 15;
const RECOVERY_CHARS: usize = 24;

/// Makes a new recovery code, formatted for people: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`.
pub fn new_recovery_code() -> Result<Zeroizing<String>> {
    use companion_protocol::codes::CROCKFORD;
    let mut bytes = Zeroizing::new([0u8; RECOVERY_BYTES]);
    fill_random(bytes.as_mut())?;
    let mut chars = Zeroizing::new([0u8; RECOVERY_CHARS]);
    debug_assert_eq!(CROCKFORD.encode_len(RECOVERY_BYTES), RECOVERY_CHARS);
    CROCKFORD.encode_mut(bytes.as_ref(), chars.as_mut());
    let mut out = Zeroizing::new(String::with_capacity(RECOVERY_CHARS + 5));
    for (n, c) in chars.iter().enumerate() {
        if n > 0 && n % 4 == 0 {
            out.push('-');
        }
        out.push(*c as char);
    }
    Ok(out)
}

/// Normalises a typed recovery code: case, spaces and dashes do not matter, and the letters
/// people confuse with digits (O, I, L) are read as digits. `None` if it cannot be a code.
pub fn normalise_recovery_code(raw: &str) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(RECOVERY_CHARS));
    for c in raw.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !companion_protocol::codes::CROCKFORD_SYMBOLS.contains(c) {
            return None;
        }
        out.push(c);
    }
    (out.len() == RECOVERY_CHARS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_unwrap() {
        let data = SecretKey::random().unwrap();
        let w = wrap(&data, b"correct horse", Kdf::default_argon2id().unwrap(), "store|slot").unwrap();
        let back = unwrap(&w, b"correct horse", "store|slot").unwrap().unwrap();
        assert_eq!(back.as_bytes(), data.as_bytes());
        assert!(unwrap(&w, b"wrong horse", "store|slot").unwrap().is_none());
        assert!(unwrap(&w, b"correct horse", "other|slot").unwrap().is_none(), "bound to its context");
    }

    #[test]
    fn pbkdf2_slots_work_and_weak_parameters_are_refused() {
        let data = SecretKey::random().unwrap();
        let w = wrap(&data, b"pass phrase", Kdf::pbkdf2(PBKDF2_MIN_ITERATIONS).unwrap(), "c").unwrap();
        assert_eq!(unwrap(&w, b"pass phrase", "c").unwrap().unwrap().as_bytes(), data.as_bytes());
        let mut weak = w.clone();
        if let Kdf::Pbkdf2Sha256 { iterations, .. } = &mut weak.kdf {
            *iterations = 1000;
        }
        assert!(matches!(unwrap(&weak, b"pass phrase", "c"), Err(Error::Damaged(_))));
    }

    #[test]
    fn raising_parameters_in_the_file_does_not_unwrap() {
        let data = SecretKey::random().unwrap();
        let mut w = wrap(&data, b"pass phrase", Kdf::default_argon2id().unwrap(), "c").unwrap();
        if let Kdf::Argon2id { t, .. } = &mut w.kdf {
            *t += 1;
        }
        assert!(unwrap(&w, b"pass phrase", "c").unwrap().is_none());
    }

    #[test]
    fn recovery_codes_are_24_symbols_and_forgiving_to_type() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 24 + 5);
        assert_eq!(code.matches('-').count(), 5);
        let norm = normalise_recovery_code(&code).unwrap();
        assert_eq!(norm.len(), 24);
        let sloppy = code.to_lowercase().replace('-', " ").replace('0', "o").replace('1', "l");
        assert_eq!(normalise_recovery_code(&sloppy).unwrap(), norm);
        assert!(normalise_recovery_code("ABCD").is_none());
        assert!(normalise_recovery_code(&format!("{}U", &norm[..23])).is_none());
        assert_ne!(new_recovery_code().unwrap(), code);
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let k = SecretKey::random().unwrap();
        let inner = SecretKey::random().unwrap();
        let s = seal_key(&k, &inner, "a").unwrap();
        assert_eq!(open_key(&k, &s, "a").unwrap().unwrap().as_bytes(), inner.as_bytes());
        assert!(open_key(&k, &s, "b").unwrap().is_none());
        assert!(open_key(&SecretKey::random().unwrap(), &s, "a").unwrap().is_none());
        let data = seal(&k, b"{\"x\":1}", "row").unwrap();
        assert_eq!(&open_sealed(&k, &data, "row").unwrap().unwrap()[..], b"{\"x\":1}");
        assert!(matches!(open_sealed(&k, "AAAA", "row"), Err(Error::Damaged(_))));
    }

    #[test]
    fn hex_is_64_lowercase_digits() {
        let k = SecretKey::random().unwrap();
        let hex = k.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(format!("{k:?}"), "SecretKey(..)");
    }

    #[test]
    fn passphrases_have_a_minimum_length_in_characters() {
        assert!(check_passphrase("passphrase", "1234567").is_err());
        assert!(check_passphrase("passphrase", "12345678").is_ok());
        assert!(check_passphrase("passphrase", "æøåæøåæ").is_err());
    }
}
