package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/credmon/credmon/checks/duration"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
)

// SilenceAPI is what the silence endpoints call: *notify.Silences.
type SilenceAPI interface {
	Add(ctx context.Context, m notify.SilenceMatch, d time.Duration, comment string) (notify.Silence, error)
	Expire(ctx context.Context, id string) (notify.Silence, error)
	Runtime(ctx context.Context) ([]notify.Silence, error)
}

// SilenceRequest is the body of POST /api/v1/silences.
type SilenceRequest struct {
	notify.SilenceMatch
	For     string `json:"for"` // a config duration: "2h", "1d"
	Comment string `json:"comment"`
}

// WithSilences serves GET and POST /api/v1/silences (list the runtime
// silences, ended ones included; add one) and POST
// /api/v1/silences/{id}/expire, so the CLI can reach a store the daemon
// holds (bolt's file lock).
func WithSilences(api SilenceAPI) HandlerOption {
	return func(s *server) { s.silences = api }
}

func (s *server) listSilences(w http.ResponseWriter, r *http.Request) {
	list, err := s.silences.Runtime(r.Context())
	if damaged := (*store.DamagedError)(nil); errors.As(err, &damaged) {
		s.log.Warn("silences listed without the stored ones that do not read", "err", err)
	} else if err != nil {
		s.log.Warn("silences unavailable", "err", err)
		http.Error(w, "silences unavailable: store does not answer", http.StatusServiceUnavailable)
		return
	}
	if list == nil {
		list = []notify.Silence{}
	}
	writeJSON(w, http.StatusOK, list)
}

// writeGuard refuses what a page of another site could make a browser
// send: a cross-origin request, or one that is not JSON (a form needs no
// CORS preflight, a JSON body does).
func writeGuard(w http.ResponseWriter, r *http.Request) bool {
	if crossOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		http.Error(w, "send Content-Type: application/json", http.StatusUnsupportedMediaType)
		return false
	}
	return true
}

func (s *server) addSilence(w http.ResponseWriter, r *http.Request) {
	if !writeGuard(w, r) {
		return
	}
	var req SilenceRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "invalid silence: "+err.Error(), http.StatusBadRequest)
		return
	}
	d, err := duration.Parse(req.For)
	switch {
	case req.Env == "":
		http.Error(w, "invalid silence: env is required", http.StatusBadRequest)
		return
	case req.Check != "" && req.Credential != "":
		http.Error(w, "invalid silence: give check or credential, not both", http.StatusBadRequest)
		return
	case err != nil || d <= 0:
		http.Error(w, "invalid silence: for must be a duration greater than 0, like 2h", http.StatusBadRequest)
		return
	}
	sl, err := s.silences.Add(r.Context(), req.SilenceMatch, d, req.Comment)
	if err != nil {
		s.log.Warn("silence not stored", "err", err)
		http.Error(w, "silence not stored: store does not answer", http.StatusServiceUnavailable)
		return
	}
	s.log.Info("silence added", "id", sl.ID, "env", sl.Env, "check", sl.Check, "credential", sl.Credential, "until", sl.End, "comment", sl.Comment)
	writeJSON(w, http.StatusCreated, sl)
}

func (s *server) expireSilence(w http.ResponseWriter, r *http.Request) {
	if crossOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	sl, err := s.silences.Expire(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, notify.ErrSilenceNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		s.log.Warn("silence not expired", "err", err)
		http.Error(w, "silence not expired: store does not answer", http.StatusServiceUnavailable)
		return
	}
	s.log.Info("silence expired", "id", sl.ID)
	writeJSON(w, http.StatusOK, sl)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encode failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
