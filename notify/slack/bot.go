package slack

import (
	"context"
	"errors"
	"fmt"

	slackapi "github.com/slack-go/slack"

	"github.com/credmon/credmon/notify"
)

// bot posts with the Web API, keeping each incident in one thread: the
// opening message top-level, follow-ups under it, and the opening marked
// resolved at the end.
func (n *Notifier) bot(ctx context.Context, channel string, m notify.Message) (bool, error) {
	r := render(m)
	switch m.Event {
	case notify.EventOpened:
		return n.postTopLevel(ctx, channel, m, r, true)
	case notify.EventRotated, notify.EventPendingVerified:
		return n.postTopLevel(ctx, channel, m, r, false)
	}
	thCh, thTS, err := n.threads.GetThread(ctx, m.IncidentKey)
	if err != nil {
		return true, fmt.Errorf("slack: incident thread: %w", err)
	}
	if thTS == "" {
		n.log.WarnContext(ctx, "slack: incident thread unknown, posting top-level",
			"incident", m.IncidentKey, "event", string(m.Event))
		// Later follow-ups then gather under this one.
		return n.postTopLevel(ctx, channel, m, r, m.Event != notify.EventResolved)
	}
	if m.Event == notify.EventResolved {
		// Update first: an update repeats harmlessly if the reply below fails
		// and the outbox retries; a reply posted twice would not.
		if retry, err := n.markResolved(ctx, thCh, thTS, m); err != nil {
			return retry, err
		}
	}
	_, _, err = n.api.PostMessageContext(ctx, thCh, msgOptions(r, thTS)...)
	if err != nil {
		return classify(ctx, "chat.postMessage", err, "", n.secrets...)
	}
	return false, nil
}

func (n *Notifier) postTopLevel(ctx context.Context, channel string, m notify.Message, r rendering, thread bool) (bool, error) {
	ch, ts, err := n.api.PostMessageContext(ctx, channel, msgOptions(r, "")...)
	if err != nil {
		return classify(ctx, "chat.postMessage", err, "", n.secrets...)
	}
	if !thread || m.IncidentKey == "" {
		return false, nil
	}
	if err := n.threads.PutThread(ctx, m.IncidentKey, ch, ts); err != nil {
		// The message is out: a retry would post it twice. Follow-ups will
		// go top-level instead, which is the lesser harm.
		n.log.WarnContext(ctx, "slack: cannot record incident thread",
			"incident", m.IncidentKey, "err", err)
	}
	return false, nil
}

// markResolved rewrites the opening message. If Slack no longer lets us
// edit it (deleted, too old), the reply in the thread still tells the story.
func (n *Notifier) markResolved(ctx context.Context, channel, ts string, m notify.Message) (bool, error) {
	r := renderResolvedOpening(m)
	_, _, _, err := n.api.UpdateMessageContext(ctx, channel, ts,
		slackapi.MsgOptionText(r.Text, false), slackapi.MsgOptionBlocks(r.Blocks...))
	if err == nil {
		return false, nil
	}
	retry, cerr := classify(ctx, "chat.update", err, "", n.secrets...)
	var se *Error
	if errors.As(cerr, &se) {
		switch se.Code {
		case "message_not_found", "cant_update_message", "edit_window_closed":
			n.log.WarnContext(ctx, "slack: cannot mark the opening message resolved",
				"incident", m.IncidentKey, "err", cerr)
			return false, nil
		}
	}
	return retry, cerr
}

func msgOptions(r rendering, threadTS string) []slackapi.MsgOption {
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(r.Text, false),
		slackapi.MsgOptionBlocks(r.Blocks...),
		// Issuer and audience URLs are not worth a preview card.
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
	}
	if threadTS != "" {
		opts = append(opts, slackapi.MsgOptionTS(threadTS))
	}
	return opts
}
