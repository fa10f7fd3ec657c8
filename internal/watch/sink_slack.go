package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/keywarden/keywarden/internal/detect"
)

// slackChunk is how many alerts go in one Slack message: two blocks each
// plus a header stays under Slack's 50-block limit.
const slackChunk = 20

// slackSink posts Slack incoming-webhook messages: a plain-text fallback
// plus blocks listing severity, rule, key, principal and event time.
type slackSink struct {
	p    *poster
	done deliveredSet
}

func newSlackSink(raw string, env SinkEnv) (Sink, error) {
	p, err := newPoster(raw, nil, env)
	if err != nil {
		return nil, fmt.Errorf("slack sink: %w", err)
	}
	return &slackSink{p: p}, nil
}

func (s *slackSink) Send(ctx context.Context, alerts []detect.Alert) error {
	for start := 0; start < len(alerts); start += slackChunk {
		chunk := alerts[start:min(start+slackChunk, len(alerts))]
		body, err := json.Marshal(slackMessage(chunk))
		if err != nil {
			return fmt.Errorf("encode slack message: %w", err)
		}
		key := digest(body)
		if s.done.has(key) {
			continue // posted by a Send that failed later on
		}
		if err := s.p.post(ctx, body); err != nil {
			return err
		}
		s.done.add(key)
	}
	s.done.reset()
	return nil
}

func (s *slackSink) Close() error { return nil }

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text,omitempty"`
	Fields []slackText `json:"fields,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackMessage builds the payload. Everything is plain_text and escaped:
// CloudTrail fields are attacker-controlled, and mrkdwn would turn
// "<https://evil|click>" in a user agent into a link.
func slackMessage(alerts []detect.Alert) slackPayload {
	title := fmt.Sprintf("keywarden: %d alert(s)", len(alerts))
	if len(alerts) == 1 {
		a := alerts[0]
		title = fmt.Sprintf("keywarden: %s %s", strings.ToUpper(a.Severity.String()), a.Rule)
	}
	msg := slackPayload{Text: slackEscape(title),
		Blocks: []slackBlock{{Type: "header", Text: &slackText{Type: "plain_text", Text: slackEscape(truncate(title, 140))}}}}
	var summary []string
	for _, a := range alerts {
		summary = append(summary, fmt.Sprintf("%s %s: %s", strings.ToUpper(a.Severity.String()), a.Rule, a.Title))
		msg.Blocks = append(msg.Blocks,
			slackBlock{Type: "section", Text: &slackText{Type: "plain_text", Text: slackEscape(truncate(a.Title, 300))}},
			slackBlock{Type: "section", Fields: []slackText{
				slackField("Severity", a.Severity.String()),
				slackField("Rule", a.Rule),
				slackField("Key", a.AccessKeyID),
				slackField("Principal", a.Principal),
				slackField("Event time", alertTime(a)),
				slackField("Event", a.EventSource+" "+a.EventName),
			}})
	}
	msg.Text = slackEscape(truncate(title+"\n"+strings.Join(summary, "\n"), 3000))
	return msg
}

func slackField(name, value string) slackText {
	if strings.TrimSpace(value) == "" {
		value = "-"
	}
	return slackText{Type: "plain_text", Text: slackEscape(name + ": " + truncate(value, 200))}
}

// slackEscape applies Slack's three escapes, which also defuse its
// <url|label> link and <!channel> mention syntax.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// deliveredSet remembers what a failing Send already delivered, so the
// caller's retry of the whole batch does not repeat it.
type deliveredSet struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (d *deliveredSet) has(k string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.keys[k]
}

func (d *deliveredSet) add(k string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys == nil {
		d.keys = map[string]bool{}
	}
	d.keys[k] = true
}

func (d *deliveredSet) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
