package redact

import "testing"

func TestURL(t *testing.T) {
	key := "FAKE0123456789abcdef"
	s := NewSet(key)
	cases := []struct{ in, want string }{
		{"https://api.example/v1/x", "https://api.example/v1/x"},
		{"https://user:FAKE-pw@api.example/v1", "https://" + Mask + "@api.example/v1"},
		{"https://api.example/v1?api_key=abc&page=2", "https://api.example/v1?api_key=" + Mask + "&page=2"},
		{"https://api.example/v1?q=" + key, "https://api.example/v1?q=" + Mask},
		{"https://api.example/bot" + key + "/getMe", "https://api.example/bot" + Mask + "/getMe"},
		{"https://api.example/v1?access_token=x#frag", "https://api.example/v1?access_token=" + Mask + "#frag"},
	}
	for _, c := range cases {
		if got := URL(c.in, s); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
