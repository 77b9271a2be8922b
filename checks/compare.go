package checks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

// Variant is one replay of a probe by `credmon explain -compare`: the same
// request over another connection, protocol or path, or with the
// credential in another form.
type Variant struct {
	Name   string `json:"name"`
	Proto  string `json:"proto,omitempty"`
	Reused bool   `json:"reused,omitempty"`
	// Skipped says why the variant was not run ("" when it was).
	Skipped string `json:"skipped,omitempty"`
	// Form is the credential's form in the challenge variant, e.g.
	// "Authorization: Bearer <key>".
	Form   string `json:"form,omitempty"`
	Result Result `json:"result"`
}

// Comparison is the outcome of Compare: every variant and the sentence
// that says which one differs and what that means.
type Comparison struct {
	// Trace is the exchange of the probe as configured, as Explain
	// records it.
	Trace    *Trace    `json:"trace"`
	Variants []Variant `json:"variants"`
	Verdict  string    `json:"verdict"`
}

// Variant names, stable for scripts reading `-compare` output.
const (
	VariantConfigured = "as configured"
	VariantFresh      = "fresh connection"
	VariantReused     = "reused connection"
	VariantHTTP1      = "HTTP/1.1"
	VariantHTTP2      = "HTTP/2"
	VariantNoProxy    = "without proxy_url"
	VariantChallenge  = "as the challenge asks"
)

// Compare replays the probe in variants and says which differs from the
// probe as configured: a fresh connection against a reused one
// (authentication bound to a connection), HTTP/1.1 against HTTP/2, with
// and without proxy_url (a proxy that strips Authorization), and the
// credential as configured against the form the API's challenge asks for.
// Each variant gets its own transport, so none reuses another's
// connection; they run one after another.
func (c *Check) Compare(ctx context.Context) Comparison {
	var cmp Comparison
	add := func(name string, p *probeRun) Variant {
		r := c.runWith(ctx, c.deps.Now(), p)
		v := Variant{Name: name, Proto: p.proto, Reused: p.reused, Result: r}
		cmp.Variants = append(cmp.Variants, v)
		return v
	}
	skip := func(name, why string) { cmp.Variants = append(cmp.Variants, Variant{Name: name, Skipped: why}) }

	cmp.Trace = &Trace{}
	base := add(VariantConfigured, &probeRun{tr: cmp.Trace})
	https := strings.HasPrefix(strings.ToLower(c.Cfg.URL), "https:")

	fresh, closeFresh := c.variantClient(c.Cfg.ProxyURL, true, "")
	add(VariantFresh, &probeRun{client: fresh})
	closeFresh()

	reused, closeReused := c.variantClient(c.Cfg.ProxyURL, false, "")
	c.runWith(ctx, c.deps.Now(), &probeRun{client: reused}) // opens the connection the next one reuses
	add(VariantReused, &probeRun{client: reused})
	closeReused()

	h1, closeH1 := c.variantClient(c.Cfg.ProxyURL, true, "http/1.1")
	add(VariantHTTP1, &probeRun{client: h1})
	closeH1()
	if https {
		h2, closeH2 := c.variantClient(c.Cfg.ProxyURL, true, "h2")
		add(VariantHTTP2, &probeRun{client: h2})
		closeH2()
	} else {
		skip(VariantHTTP2, "the url is http://; HTTP/2 needs https (credmon does not speak h2c)")
	}
	if c.Cfg.ProxyURL != "" {
		direct, closeDirect := c.variantClient("", true, "")
		add(VariantNoProxy, &probeRun{client: direct})
		closeDirect()
	} else {
		skip(VariantNoProxy, "no proxy_url is configured")
	}
	form, what := c.challengeForm(base.Result)
	if form != nil {
		f, closeF := c.variantClient(c.Cfg.ProxyURL, true, "")
		add(VariantChallenge, &probeRun{client: f, form: form})
		cmp.Variants[len(cmp.Variants)-1].Form = what
		closeF()
	} else {
		skip(VariantChallenge, what)
	}
	cmp.Verdict = c.compareVerdict(cmp.Variants, what)
	return cmp
}

// variantClient builds a client of its own for one variant; proto ""
// lets the transport negotiate, "http/1.1" or "h2" pins it.
func (c *Check) variantClient(proxy string, fresh bool, proto string) (*http.Client, func()) {
	k := transportKey{proxy: proxy, fresh: fresh}
	if c.Cfg.TLS != nil {
		k.tls = *c.Cfg.TLS
	}
	t, err := newTransport(k)
	if err != nil {
		// The check's own transport was built from the same settings.
		return c.client, func() {}
	}
	switch proto {
	case "http/1.1":
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	case "h2":
		t.ForceAttemptHTTP2 = true
	}
	return &http.Client{Transport: t, CheckRedirect: c.checkRedirect}, t.CloseIdleConnections
}

// challengeForm returns the credential rewritten in the form the API's
// challenge asks for, when that differs from what was sent; otherwise
// nil and why not.
func (c *Check) challengeForm(base Result) (func(*Authorization) *Authorization, string) {
	ch := base.Challenge
	switch {
	case c.Cred == nil:
		return nil, "the check sends no credential"
	case ch == nil:
		return nil, "the API sent no challenge"
	case ch.Is("Basic") || ch.Is("Digest") || ch.Is("Negotiate") || ch.Is("NTLM"):
		return nil, "the challenge asks for " + clip(ch.Scheme, 32) + ", which needs more than the key"
	}
	scheme := ch.Scheme
	if ch.Is("Bearer") {
		scheme = "Bearer"
	}
	header, sent := sentForm(c.Cred.Config())
	if strings.EqualFold(header, "Authorization") && strings.EqualFold(sent, scheme) {
		return nil, "the credential is already sent as the challenge asks (Authorization: " + clip(scheme, 32) + ")"
	}
	what := "Authorization: " + clip(scheme, 32) + " <key>"
	return func(a *Authorization) *Authorization {
		b := *a
		b.Header, b.Value = "Authorization", scheme+" "+a.Token
		return &b
	}, what
}

// sentForm is the header and scheme a credential is sent with.
func sentForm(cfg *config.Credential) (header, scheme string) {
	if isOAuth2(cfg) {
		return "Authorization", "Bearer"
	}
	header = cfg.Header
	if header == "" {
		header = "Authorization"
	}
	switch {
	case cfg.Scheme != nil:
		scheme = *cfg.Scheme
	case strings.EqualFold(header, "Authorization"):
		scheme = "Bearer"
	}
	return header, scheme
}

// compareVerdict says which variants answer differently from the probe
// as configured and what that points at.
func (c *Check) compareVerdict(vs []Variant, form string) string {
	byName := map[string]*Variant{}
	for i := range vs {
		if vs[i].Skipped == "" {
			byName[vs[i].Name] = &vs[i]
		}
	}
	base := byName[VariantConfigured]
	same := func(a, b *Variant) bool {
		return a != nil && b != nil && a.Result.Cause == b.Result.Cause && a.Result.HTTPStatus == b.Result.HTTPStatus
	}
	answer := func(v *Variant) string {
		if v.Result.HTTPStatus == 0 {
			return string(v.Result.Cause)
		}
		return fmt.Sprintf("%d %s", v.Result.HTTPStatus, v.Result.Cause)
	}
	var out []string
	if f, r := byName[VariantFresh], byName[VariantReused]; f != nil && r != nil && !same(f, r) {
		out = append(out, fmt.Sprintf("A fresh connection gets %s, a reused one %s: the API or a gateway in front of it binds authentication to the connection (state kept from an earlier request, or Authorization dropped on kept-alive requests). Set `fresh_connection: true` on the check to probe as a new client would, and tell the API owner: clients that reuse connections will fail.",
			answer(f), answer(r)))
	}
	if h1, h2 := byName[VariantHTTP1], byName[VariantHTTP2]; h1 != nil && h2 != nil && !same(h1, h2) {
		out = append(out, fmt.Sprintf("HTTP/1.1 gets %s, HTTP/2 %s: the API or a gateway treats the protocols differently (a header lost in translation between them).", answer(h1), answer(h2)))
	}
	if np := byName[VariantNoProxy]; np != nil && base != nil && !same(np, base) {
		out = append(out, fmt.Sprintf("Through proxy_url (%s) the API answers %s, directly %s: the proxy changes the request — most often it strips or rewrites Authorization. Let it pass the header through, or bypass it for this API.",
			redact.URL(c.Cfg.ProxyURL, c.sensitive), answer(base), answer(np)))
	}
	if cf := byName[VariantChallenge]; cf != nil && base != nil && !same(cf, base) {
		out = append(out, fmt.Sprintf("Sent as the challenge asks (%s) the API answers %s instead of %s: change the credential's header and scheme to that form.",
			form, answer(cf), answer(base)))
	}
	if len(out) == 0 {
		for _, v := range vs {
			if v.Skipped == "" && base != nil && !same(&v, base) {
				out = append(out, fmt.Sprintf("%s gets %s where the probe as configured gets %s.", v.Name, answer(&v), answer(base)))
			}
		}
	}
	if len(out) == 0 {
		return "Every variant gets the same answer: how credmon reaches the API is not the difference, so the cause above stands."
	}
	return strings.Join(out, " ")
}
