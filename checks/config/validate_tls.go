package config

import (
	"net/url"
)

// Warnings for settings that hand a credential to whoever sits on the path.
const (
	insecureCheckMsg = "tls.insecure_skip_verify with a credential: anyone who can intercept the connection receives the credential (the server's certificate is not checked)"
	openReloadMsg    = "POST /-/reload is served on a non-loopback address without server.web_config_file: anyone who reaches the port can make the daemon reload (set basic_auth_users there, or bind to 127.0.0.1)"
	insecureRedisMsg = "tls.insecure_skip_verify with a redis password: anyone who can intercept the connection receives the password and the shared state (the server's certificate is not checked)"
)

// insecureTLS warns, at the insecure_skip_verify key, when a connection
// that carries a credential does not verify whom it talks to. It is legal —
// a lab or a test may need it — but never silent.
func (v *validator) insecureTLS(t *TLS, path string, credential bool, msg string) {
	if t == nil || !t.InsecureSkipVerify || !credential {
		return
	}
	at := path + ".insecure_skip_verify"
	v.c.Warnings = append(v.c.Warnings, &Error{Pos: v.c.Pos(at), Path: at, Msg: msg, Err: ErrInsecure})
}

// reloadEndpoint warns when the reload endpoint is open to the network
// with no authentication in front of it. Reloading re-reads the same files,
// so it is legal, but an unauthenticated write endpoint is never silent.
func (v *validator) reloadEndpoint() {
	s := v.c.Server
	if !s.EnableReloadEndpoint || s.WebConfigFile != "" {
		return
	}
	if listensOnLoopback(s.Listen) {
		return
	}
	at := "server.enable_reload_endpoint"
	v.c.Warnings = append(v.c.Warnings, &Error{Pos: v.c.Pos(at), Path: at, Msg: openReloadMsg, Err: ErrInsecure})
}

// redisHasPassword reports whether the redis connection authenticates.
func redisHasPassword(r Redis) bool {
	if r.Password.IsSet() {
		return true
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}
