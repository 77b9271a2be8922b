package tokencache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an encryption key: AES-256.
const KeySize = 32

// sealVersion prefixes every blob so a later key-rotation scheme can tell
// formats apart without guessing.
const sealVersion byte = 1

var errBadBlob = errors.New("tokencache: sealed token is malformed")

// ParseKey decodes a 32-byte key from the config (store.encryption_key,
// store.fingerprint_key): standard or URL-safe base64, padded or not.
// Errors never echo the input — it is the key.
func ParseKey(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errors.New("key is empty: want 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("key decodes to %d bytes, want %d (e.g. `openssl rand -base64 32`)", len(b), KeySize)
		}
		return b, nil
	}
	return nil, errors.New("key is not valid base64: want 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("tokencache: encryption key is %d bytes, want %d (AES-256)", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokencache: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain with a fresh random nonce; aad (the store key) binds
// the blob to one credential, so it cannot be replayed under another.
func seal(aead cipher.AEAD, plain, aad []byte) ([]byte, error) {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("tokencache: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, aad), nil
}

// open reverses seal; it fails for another key, another aad or any change.
func open(aead cipher.AEAD, blob, aad []byte) ([]byte, error) {
	n := 1 + aead.NonceSize()
	if len(blob) < n+aead.Overhead() || blob[0] != sealVersion {
		return nil, errBadBlob
	}
	plain, err := aead.Open(nil, blob[1:n], blob[n:], aad)
	if err != nil {
		// crypto's message says nothing of the content; say what it means.
		return nil, errors.New("tokencache: sealed token does not open (another encryption key, or moved from another credential)")
	}
	return plain, nil
}
