package daemon

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store/tokencache"
)

// storeKey returns the 32-byte key that seals tokens in the store, or nil
// when tokens must not be shared. With store.encryption_key set it is that
// key. Without it, the embedded bolt store keeps a random key in a file
// beside the database (mode 0600) so tokens — and rotated refresh tokens —
// survive restarts without sitting in the file in plain text; the memory
// store uses a key that lives as long as the process; the redis store gets
// none: tokens are then not shared, because they would cross the network
// and sit in Redis without protection.
func storeKey(cfg config.Store) ([]byte, error) {
	if cfg.EncryptionKey.IsSet() {
		return configuredKey("store.encryption_key", cfg.EncryptionKey)
	}
	switch cfg.Driver {
	case "redis":
		return nil, nil
	case "memory":
		key := make([]byte, tokencache.KeySize)
		_, err := rand.Read(key)
		return key, err
	}
	return boltKeyFile(cfg.Path + ".key")
}

// fingerprintKey returns the key that makes fingerprints of secrets
// secret, given the store's sealing key (storeKey): store.fingerprint_key
// when set, else derived from the sealing key — store.encryption_key, the
// bolt key file beside the database, or the memory store's per-process key.
// It is nil for redis without either key: the key is never written to a
// store, where anyone who can read it could test guesses against the
// fingerprints, so fingerprints are then off.
func fingerprintKey(cfg config.Store, sealing []byte) ([]byte, error) {
	if cfg.FingerprintKey.IsSet() {
		key, err := configuredKey("store.fingerprint_key", cfg.FingerprintKey)
		if err != nil {
			return nil, err
		}
		return derive(key, "key fingerprints"), nil
	}
	return derive(sealing, "key fingerprints"), nil
}

// configuredKey resolves and parses a 32-byte key from the config; errors
// name the field, never the value.
func configuredKey(field string, s config.Secret) ([]byte, error) {
	v, err := s.Resolve()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	key, err := tokencache.ParseKey(v.Text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return key, nil
}

func boltKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, perr := tokencache.ParseKey(strings.TrimSpace(string(b)))
		if perr != nil {
			return nil, fmt.Errorf("%s: %w", path, perr)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, tokencache.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, err
	}
	return key, nil
}

// derive separates keys by purpose, so the token-sealing key is never
// used directly as the fingerprint key.
func derive(key []byte, purpose string) []byte {
	if key == nil {
		return nil
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("credmon " + purpose))
	return m.Sum(nil)
}
