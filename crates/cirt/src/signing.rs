//! OpenPGP signatures of published advisories (CSAF 2.0 requirement 19,
//! what makes a provider a trusted provider): each release is signed with a
//! detached, armoured signature served beside it as `.asc`, and the public
//! key is published with the provider metadata (requirement 20).
//!
//! The key is the operator's, loaded from an armoured secret-key file like a
//! TLS key; it never enters the database. Signing uses the `pgp` crate.

use crate::CirtError;
use pgp::composed::{Deserializable, DetachedSignature, EncryptionCaps, KeyType, SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey};
use pgp::types::{KeyDetails, Password, SigningKey};

fn invalid(message: impl Into<String>) -> CirtError {
    CirtError::Field { path: "csaf.signing_key".into(), message: message.into() }
}

/// A loaded signing key.
pub struct Signer {
    key: SignedSecretKey,
    password: Password,
    public_armored: String,
    fingerprint: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads an armoured OpenPGP secret key whose primary key can sign,
    /// checking the passphrase by making a test signature.
    pub fn from_armored(text: &str, passphrase: Option<&str>) -> Result<Signer, CirtError> {
        let (key, _headers) =
            SignedSecretKey::from_string(text).map_err(|err| invalid(format!("not an armoured OpenPGP secret key: {err}")))?;
        let password = passphrase.map(Password::from).unwrap_or_default();
        let signer = Signer::with_key(key, password)?;
        signer.sign(b"rampart key check").map_err(|err| invalid(format!("the key cannot sign (wrong passphrase?): {err}")))?;
        Ok(signer)
    }

    /// A new Ed25519 key (the v4 format every OpenPGP tool reads), for the
    /// demo and tests; operators bring their own.
    pub fn generate(user_id: &str) -> Result<Signer, CirtError> {
        let mut params = SecretKeyParamsBuilder::default();
        params
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .can_encrypt(EncryptionCaps::None)
            .primary_user_id(user_id.into());
        let params = params.build().map_err(|err| invalid(err.to_string()))?;
        let key = params.generate(rand::rngs::OsRng).map_err(|err| invalid(err.to_string()))?;
        Signer::with_key(key, Password::empty())
    }

    fn with_key(key: SignedSecretKey, password: Password) -> Result<Signer, CirtError> {
        let public = SignedPublicKey::from(key.clone());
        let public_armored = public.to_armored_string(Default::default()).map_err(|err| invalid(err.to_string()))?;
        let fingerprint = format!("{:X}", key.primary_key.fingerprint());
        Ok(Signer { key, password, public_armored, fingerprint })
    }

    /// The secret key, armoured, to store a generated key.
    pub fn secret_armored(&self) -> Result<String, CirtError> {
        self.key.to_armored_string(Default::default()).map_err(|err| invalid(err.to_string()))
    }

    pub fn public_armored(&self) -> &str {
        &self.public_armored
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A detached, armoured signature over `data`.
    pub fn sign(&self, data: &[u8]) -> Result<String, CirtError> {
        let primary = &self.key.primary_key;
        let signature = DetachedSignature::sign_binary_data(rand::rngs::OsRng, primary, &self.password, primary.hash_alg(), data)
            .map_err(|err| invalid(format!("signing failed: {err}")))?;
        signature.to_armored_string(Default::default()).map_err(|err| invalid(err.to_string()))
    }

    /// Whether `armored` is a valid signature of this key over `data`.
    pub fn verify(&self, data: &[u8], armored: &str) -> bool {
        let Ok((signature, _)) = DetachedSignature::from_string(armored) else { return false };
        let public = SignedPublicKey::from(self.key.clone());
        signature.verify(&public.primary_key, data).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_keys_round_trip() {
        let signer = Signer::generate("KE-CIRT <cirt@ke.example>").expect("key");
        assert_eq!(signer.fingerprint().len(), 40, "a v4 fingerprint");
        let signature = signer.sign(b"{\"document\": {}}").expect("signature");
        assert!(signature.starts_with("-----BEGIN PGP SIGNATURE-----"), "{signature}");
        assert!(signer.verify(b"{\"document\": {}}", &signature));
        assert!(!signer.verify(b"{\"document\": {\"x\": 1}}", &signature), "another document");
        let again = Signer::from_armored(&signer.secret_armored().expect("armour"), None).expect("reloaded");
        assert_eq!(again.fingerprint(), signer.fingerprint());
        assert!(again.public_armored().starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        for bad in ["", "not a key", signer.public_armored()] {
            assert!(matches!(Signer::from_armored(bad, None), Err(CirtError::Field { .. })), "{bad}");
        }
    }
}
