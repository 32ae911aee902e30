//! The native back end of [`super`]'s Ed25519: `ed25519-dalek` (`verify_strict`). The async
//! functions have the WebCrypto back end's signatures and finish at once.

/// A public key known to encode a curve point.
#[derive(Clone)]
pub(crate) struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// `None` when the 32 bytes are not a point of the curve.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<PublicKey> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes).ok().map(PublicKey)
    }

    /// Strict verification: refuses small-order keys and `R`, and `S >= L`.
    pub(crate) fn verify_now(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.0.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig)).is_ok()
    }

    pub(crate) async fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.verify_now(msg, sig)
    }

    /// Always usable here (WebCrypto may lack Ed25519).
    pub(crate) async fn load(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A private key (from its 32-byte seed).
#[cfg(feature = "ingest")]
#[derive(Clone)]
pub(crate) struct SecretKey(ed25519_dalek::SigningKey);

#[cfg(feature = "ingest")]
impl SecretKey {
    pub(crate) fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    pub(crate) fn public_now(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Never fails here (the WebCrypto back end can).
    pub(crate) async fn public(&self) -> Result<[u8; 32], String> {
        Ok(self.public_now())
    }

    pub(crate) fn sign_now(&self, msg: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.0.sign(msg).to_bytes()
    }

    pub(crate) async fn sign(&self, msg: &[u8]) -> Result<[u8; 64], String> {
        Ok(self.sign_now(msg))
    }
}
