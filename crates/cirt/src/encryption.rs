//! OpenPGP encryption of notices to constituents whose contacts published a
//! key: keys are checked when they are registered, and a notice's MIME body
//! is encrypted to the key and sent as PGP/MIME (RFC 3156).

use crate::CirtError;
use pgp::composed::{Deserializable, MessageBuilder, SignedPublicKey};
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::types::KeyDetails;

fn invalid(message: impl Into<String>) -> CirtError {
    CirtError::Field { path: "openpgp_key".into(), message: message.into() }
}

/// What the registry shows of a contact's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Upper-case hex fingerprint of the primary key.
    pub fingerprint: String,
    pub user_ids: Vec<String>,
}

fn parse(armored: &str) -> Result<SignedPublicKey, CirtError> {
    let (key, _) =
        SignedPublicKey::from_string(armored.trim()).map_err(|err| invalid(format!("not an armoured OpenPGP public key: {err}")))?;
    key.verify_bindings().map_err(|err| invalid(format!("the key's self-signatures do not verify: {err}")))?;
    Ok(key)
}

/// Checks an armoured public key: it parses, its bindings verify, and it
/// has a subkey that can encrypt.
pub fn inspect(armored: &str) -> Result<KeyInfo, CirtError> {
    let key = parse(armored)?;
    if !key.public_subkeys.iter().any(|subkey| subkey.algorithm().can_encrypt()) {
        return Err(invalid("the key has no encryption subkey"));
    }
    Ok(KeyInfo {
        fingerprint: format!("{:X}", key.primary_key.fingerprint()),
        user_ids: key.details.users.iter().map(|user| String::from_utf8_lossy(user.id.id()).into_owned()).collect(),
    })
}

/// `data` encrypted to the key's first encryption subkey, armoured.
pub fn encrypt(armored_key: &str, data: &[u8]) -> Result<String, CirtError> {
    let key = parse(armored_key)?;
    let subkey = key
        .public_subkeys
        .iter()
        .find(|subkey| subkey.algorithm().can_encrypt())
        .ok_or_else(|| invalid("the key has no encryption subkey"))?;
    let mut builder = MessageBuilder::from_bytes("", data.to_vec()).seipd_v1(rand::rngs::OsRng, SymmetricKeyAlgorithm::AES256);
    builder.encrypt_to_key(rand::rngs::OsRng, subkey).map_err(|err| invalid(format!("cannot encrypt to this key: {err}")))?;
    builder.to_armored_string(rand::rngs::OsRng, Default::default()).map_err(|err| invalid(format!("encryption failed: {err}")))
}
