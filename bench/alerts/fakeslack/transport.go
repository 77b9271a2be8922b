package fakeslack

import "net/http"

// ReplicaTransport sends every request with ReplicaHeader set to name, so
// a Server with StallReplica: name can hang that replica's deliveries.
func ReplicaTransport(name string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return replicaTransport{name: name, base: base}
}

type replicaTransport struct {
	name string
	base http.RoundTripper
}

func (t replicaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the caller's request.
	r := req.Clone(req.Context())
	r.Header.Set(ReplicaHeader, t.name)
	return t.base.RoundTrip(r)
}
