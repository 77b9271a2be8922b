package challenge

import "testing"

func TestBearerError(t *testing.T) {
	tests := []struct {
		header string
		want   BearerError
		expiry bool
	}{
		{`Bearer realm="x"`, BearerErrorNone, false},
		{`Bearer error="invalid_request"`, BearerInvalidRequest, false},
		{`Bearer error="invalid_token"`, BearerInvalidToken, false},
		{`Bearer error="INVALID_TOKEN"`, BearerInvalidToken, false},
		{`Bearer error="insufficient_scope", scope="a b"`, BearerInsufficientScope, false},
		{`Bearer error="invalid_dpop_proof"`, BearerErrorUnknown, false},
		{`Bearer error="invalid_token", error_description="The access token expired"`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="Jwt is expired"`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="jwt expired"`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="Token has EXPIRED."`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="IDX10223: Lifetime validation failed. The token is expired."`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="IDX10223: Lifetime validation failed"`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="\"exp\" claim timestamp check failed"`, BearerInvalidToken, true},
		{`Bearer error="expired_token"`, BearerInvalidToken, true},
		{`Bearer error="token_expired"`, BearerInvalidToken, true},
		{`Bearer error="invalid_token", error_description="The token was revoked"`, BearerInvalidToken, false},
		{`Bearer error="invalid_token", error_description="Signature invalid; token is not expired"`, BearerInvalidToken, false},
		{`Bearer error="invalid_token", error_description="unexpired token rejected: bad audience"`, BearerInvalidToken, false},
		{`Bearer error="invalid_token", error_description="missing exp claim"`, BearerInvalidToken, false},
	}
	for _, tt := range tests {
		cs := Parse([]string{tt.header})
		if len(cs) != 1 {
			t.Fatalf("Parse(%q) = %+v", tt.header, cs)
		}
		if got := cs[0].BearerError(); got != tt.want {
			t.Errorf("%s: BearerError() = %q, want %q", tt.header, got, tt.want)
		}
		if got := cs[0].SaysExpired(); got != tt.expiry {
			t.Errorf("%s: SaysExpired() = %v, want %v", tt.header, got, tt.expiry)
		}
	}
}

func TestDescribesExpiry(t *testing.T) {
	for desc, want := range map[string]bool{
		"":                               false,
		"Refresh token expired":          true,
		"The refresh token has expired.": true,
		"AADSTS700082: The refresh token has expired due to inactivity.": true,
		"Invalid client secret provided.":                                false,
		"client secret never expired":                                    false,
		"expiredness":                                                    false,
		"invalid_grant: token is expired!":                               true,
	} {
		if got := DescribesExpiry(desc); got != want {
			t.Errorf("DescribesExpiry(%q) = %v, want %v", desc, got, want)
		}
	}
}
