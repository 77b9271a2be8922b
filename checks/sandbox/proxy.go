package sandbox

import (
	"io"
	"net/http"
	"sync/atomic"
)

// StrippingProxy is a forward HTTP proxy that drops the Authorization
// header on the way, as misconfigured corporate proxies and some gateways
// do: what `credmon explain -compare` is there to find. seen, when not
// nil, counts the requests it forwarded.
func StrippingProxy(seen *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen.Add(1)
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range r.Header {
			if k != "Authorization" && k != "Proxy-Connection" {
				out.Header[k] = vs
			}
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
	})
}
