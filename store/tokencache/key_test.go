package tokencache_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/credmon/credmon/store/tokencache"
)

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:32] // bytes that differ between std and URL alphabets
	for name, enc := range map[string]*base64.Encoding{
		"std": base64.StdEncoding, "url": base64.URLEncoding, "raw-std": base64.RawStdEncoding, "raw-url": base64.RawURLEncoding,
	} {
		in := enc.EncodeToString(raw) + "\n"
		got, err := tokencache.ParseKey(in)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: ParseKey = %x, %v; want the 32 bytes", name, got, err)
		}
	}
}

func TestParseKeyErrorsHideInput(t *testing.T) {
	for name, in := range map[string]string{
		"short":   base64.StdEncoding.EncodeToString([]byte("sk_live_FAKE_31_bytes_long_xxxxx")[:31]),
		"long":    base64.StdEncoding.EncodeToString([]byte("sk_live_FAKE_33_bytes_long_xxxxxx")),
		"garbage": "sk_live_FAKE!!not*base64",
		"empty":   "  ",
	} {
		_, err := tokencache.ParseKey(in)
		if err == nil {
			t.Errorf("%s: ParseKey accepted it", name)
			continue
		}
		if strings.TrimSpace(in) != "" && strings.Contains(err.Error(), strings.TrimSpace(in)) || strings.Contains(err.Error(), "FAKE") {
			t.Errorf("%s: error echoes the key: %v", name, err)
		}
	}
}
