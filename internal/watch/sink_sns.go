package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/detect"
)

// Message is one message of the sns: sink: a subject, a body, and the
// string attributes subscribers filter on.
type Message struct {
	Subject    string
	Body       string
	Attributes map[string]string
}

// Publisher publishes messages to one topic: SNS in AWS (watchaws.SNS).
type Publisher interface {
	Publish(ctx context.Context, m Message) error
}

// snsMessageMax is SNS's limit on a message; an alert whose details push it
// over is sent without them rather than refused for ever.
const (
	snsMessageMax = 256 << 10
	snsSubjectMax = 100
)

// snsSink publishes one message per alert, so subscribers (email, SQS,
// Lambda) can filter on the severity and rule message attributes.
type snsSink struct {
	topic string
	pub   Publisher
	done  deliveredSet
}

// CheckTopic refuses what is no SNS topic ARN, as an sns: sink does.
func CheckTopic(topic string) error {
	if !strings.HasPrefix(topic, "arn:") || strings.Count(topic, ":") != 5 {
		return fmt.Errorf("%w: sns sink: want a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), got %q", ErrBadSink, field(topic))
	}
	return nil
}

func newSNSSink(topic string, env SinkEnv) (Sink, error) {
	if err := CheckTopic(topic); err != nil {
		return nil, err
	}
	if env.SNS == nil {
		return nil, fmt.Errorf("%w: sns sink: no AWS access to publish with", ErrBadSink)
	}
	return &snsSink{topic: topic, pub: env.SNS(topic)}, nil
}

func (s *snsSink) Send(ctx context.Context, alerts []detect.Alert) error {
	for _, a := range alerts {
		msg, err := snsMessage(a)
		if err != nil {
			return err
		}
		key := digest([]byte(msg))
		if s.done.has(key) {
			continue // published by a Send that failed later on
		}
		err = s.pub.Publish(ctx, Message{Subject: snsSubject(a), Body: msg,
			Attributes: map[string]string{"severity": a.Severity.String(), "rule": orDash(a.Rule)}})
		if err != nil {
			return fmt.Errorf("publish alert %s to %s: %w", a.Rule, s.topic, err)
		}
		s.done.add(key)
	}
	s.done.reset()
	return nil
}

func (s *snsSink) Close() error { return nil }

func snsMessage(a detect.Alert) (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode alert %s: %w", a.Rule, err)
	}
	if len(b) > snsMessageMax {
		a.Details = map[string]any{"truncated": "details dropped: the alert exceeded SNS's 256 KiB message limit"}
		a.UserAgent = truncate(a.UserAgent, 1024)
		a.Title = truncate(a.Title, 1024)
		if b, err = json.Marshal(a); err != nil {
			return "", fmt.Errorf("encode alert %s: %w", a.Rule, err)
		}
	}
	return string(b), nil
}

// snsSubject is "[keywarden] SEVERITY RULE", cut to SNS's rules: ASCII
// printable, no line breaks, at most 100 characters.
func snsSubject(a detect.Alert) string {
	s := "[keywarden] " + strings.ToUpper(a.Severity.String()) + " " + a.Rule
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '_'
		}
		return r
	}, s)
	if len(s) > snsSubjectMax {
		s = s[:snsSubjectMax]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
