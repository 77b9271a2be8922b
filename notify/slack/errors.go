package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Error is a failed delivery, with Slack's error code when there is one.
// Its text never holds the webhook URL or the bot token.
type Error struct {
	Op        string // chat.postMessage, chat.update or webhook
	Code      string // Slack's error code (channel_not_found), or http_<status>, network
	Status    int    // HTTP status, when the failure had one
	Retryable bool
	msg       string
	ctxErr    error // context.Canceled or DeadlineExceeded, for errors.Is
}

func (e *Error) Error() string { return e.msg }

// Unwrap exposes only a context error: the transport error underneath may
// carry the webhook URL.
func (e *Error) Unwrap() error { return e.ctxErr }

// RateLimitedError is a 429: Slack says when to try again.
type RateLimitedError struct {
	Op    string
	After time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("slack %s: rate limited, retry after %s", e.Op, e.After)
}

// RetryAfter is how long Slack asked us to wait; the outbox honours it.
func (e *RateLimitedError) RetryAfter() time.Duration { return e.After }

// retryableCodes are Slack API errors that a later attempt can get past.
// Everything else (invalid_auth, channel_not_found, is_archived…) needs a
// person to change the configuration.
var retryableCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// advice says what to do about the codes people actually meet.
var advice = map[string]string{
	"invalid_auth":                      "the bot token is invalid; check notify.slack.bot_token",
	"not_authed":                        "no bot token was sent; check notify.slack.bot_token",
	"account_inactive":                  "the bot token belongs to a deleted user or app",
	"token_revoked":                     "the bot token was revoked; issue a new one",
	"token_expired":                     "the bot token expired; issue a new one",
	"missing_scope":                     "the Slack app needs the chat:write scope",
	"no_permission":                     "the Slack app may not post there",
	"channel_not_found":                 "the channel does not exist or the bot cannot see it; invite the bot or fix the channel name",
	"not_in_channel":                    "invite the bot to the channel",
	"is_archived":                       "the channel is archived",
	"channel_is_archived":               "the channel is archived",
	"restricted_action":                 "a workspace preference prevents posting there",
	"invalid_token":                     "the webhook URL is invalid; check notify.slack.webhook_url",
	"no_service":                        "the webhook was disabled or removed; create a new one",
	"no_service_id":                     "the webhook URL is incomplete; check notify.slack.webhook_url",
	"action_prohibited":                 "an admin restricted this webhook",
	"posting_to_general_channel_denied": "only admins may post to this channel",
	"invalid_blocks":                    "Slack rejected the message layout (a credmon bug: please report it)",
	"message_not_found":                 "the message to update no longer exists",
	"cant_update_message":               "the bot may not edit that message",
	"edit_window_closed":                "the message is too old to edit",
}

// codePattern is what a Slack error code looks like; anything else a
// gateway puts in a body is not echoed into our errors.
var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// classify turns whatever slack-go or net/http returned into a redacted
// error and the retry decision. body is the recorded, already redacted
// webhook response; secrets are redacted from any other text that reaches
// the message.
func classify(ctx context.Context, op string, err error, body string, secrets ...string) (bool, error) {
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return true, &RateLimitedError{Op: op, After: rl.RetryAfter}
	}
	var re *redirectError
	if errors.As(err, &re) {
		// Retrying gets the same redirect: a person has to fix the URL, and
		// the failure shows at once as permanent rather than after a streak.
		field := "api_url"
		if op == "webhook" {
			field = "webhook_url"
		}
		cause := fmt.Sprintf("Slack answered with a redirect to %s, which credmon does not follow with a secret; check notify.slack.%s",
			redactSecrets(re.Host, secrets), field)
		return false, newError(op, "redirect", re.Status, false, cause)
	}
	var api slackapi.SlackErrorResponse
	if errors.As(err, &api) {
		// Server text: redacted before it can become our code.
		code := redactSecrets(api.Err, secrets)
		if !codePattern.MatchString(code) {
			code = "unknown_error"
		}
		return retryableCodes[code], newError(op, code, 0, retryableCodes[code], "")
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) {
		code := fmt.Sprintf("http_%d", sc.Code)
		if b := strings.TrimSpace(body); codePattern.MatchString(b) {
			code = b
		}
		retry := sc.Code >= 500 || sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout
		return retry, newError(op, code, sc.Code, retry, "")
	}
	if ctx.Err() != nil {
		e := newError(op, "network", 0, true, ctx.Err().Error())
		e.ctxErr = ctx.Err()
		return true, e
	}
	// A url.Error prints the request URL, which for a webhook is the secret:
	// keep only the cause underneath it.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return true, newError(op, "network", 0, true, redactSecrets(err.Error(), secrets))
}

func newError(op, code string, status int, retry bool, cause string) *Error {
	var b strings.Builder
	fmt.Fprintf(&b, "slack %s: %s", op, code)
	if status != 0 && code != fmt.Sprintf("http_%d", status) {
		fmt.Fprintf(&b, " (HTTP %d)", status)
	}
	if a, ok := advice[code]; ok {
		b.WriteString(": " + a)
	}
	if cause != "" {
		b.WriteString(": " + cause)
	}
	return &Error{Op: op, Code: code, Status: status, Retryable: retry, msg: b.String()}
}
