// Package rotation owns a credential's lifecycle: rotation deadlines and expiry
// bands, rotations detected by keyed fingerprint, and the previous key's grace.
package rotation
