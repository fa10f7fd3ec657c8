package watch

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/detect"
)

// topic is a Publisher that keeps the messages published and refuses the
// ones listed in fail, once each.
type topic struct {
	arn       string
	published []Message
	fail      map[string]bool // subjects refused once
}

func (p *topic) Publish(ctx context.Context, m Message) error {
	if p.fail[m.Subject] {
		delete(p.fail, m.Subject)
		return errors.New("throttled")
	}
	p.published = append(p.published, m)
	return nil
}

const topicARN = "arn:aws:sns:eu-west-1:123456789012:keywarden-alerts"

func snsTestSink(t *testing.T, p *topic) Sink {
	t.Helper()
	s, err := ParseSink("sns:"+topicARN, SinkEnv{SNS: func(arn string) Publisher { p.arn = arn; return p }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSNSSinkPublishesOneMessagePerAlertWithItsAttributes(t *testing.T) {
	p := &topic{}
	s := snsTestSink(t, p)
	a := testAlert("KW-CT-IAM-CREATE-USER", "alice", t0)
	if err := s.Send(context.Background(), []detect.Alert{a}); err != nil {
		t.Fatal(err)
	}
	if p.arn != topicARN || len(p.published) != 1 {
		t.Fatalf("published %d messages to %q; want 1 to %s", len(p.published), p.arn, topicARN)
	}
	m := p.published[0]
	checkAlertJSON(t, []byte(m.Body), a)
	want := Message{Subject: "[keywarden] HIGH KW-CT-IAM-CREATE-USER", Body: m.Body,
		Attributes: map[string]string{"severity": "high", "rule": "KW-CT-IAM-CREATE-USER"}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

// A Send that fails part way is retried whole by the pipeline; what the
// failed Send published is not published again.
func TestSNSSinkRetryOfBatchSkipsWhatWasPublished(t *testing.T) {
	p := &topic{fail: map[string]bool{"[keywarden] HIGH KW-CT-ROOT": true}}
	s := snsTestSink(t, p)
	alerts := []detect.Alert{testAlert("KW-CT-IAM-CREATE-USER", "alice", t0), testAlert("KW-CT-ROOT", "bob", t0)}
	err := s.Send(context.Background(), alerts)
	if err == nil || !strings.Contains(err.Error(), "publish alert KW-CT-ROOT to "+topicARN+": throttled") {
		t.Fatalf("first Send: %v; want the refused alert named", err)
	}
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range p.published {
		subjects = append(subjects, m.Subject)
	}
	if diff := cmp.Diff([]string{"[keywarden] HIGH KW-CT-IAM-CREATE-USER", "[keywarden] HIGH KW-CT-ROOT"}, subjects); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

func TestSNSSinkSpecs(t *testing.T) {
	for spec, env := range map[string]SinkEnv{
		"sns:keywarden-alerts":        {SNS: func(string) Publisher { return &topic{} }},
		"sns:arn:aws:sns:eu-west-1:x": {SNS: func(string) Publisher { return &topic{} }},
		"sns:" + topicARN:             {}, // no AWS access: refused, not a nil publisher
	} {
		if _, err := ParseSink(spec, env); !errors.Is(err, ErrBadSink) {
			t.Errorf("ParseSink(%q) = %v; want ErrBadSink", spec, err)
		}
	}
}

func TestSNSSubjectStaysWithinSNSRules(t *testing.T) {
	a := testAlert("KW-USER-"+string(make([]byte, 200))+"é\n", "alice", t0)
	got := snsSubject(a)
	if len(got) > snsSubjectMax {
		t.Errorf("subject is %d bytes, over %d", len(got), snsSubjectMax)
	}
	for _, r := range got {
		if r < 0x20 || r >= 0x7f {
			t.Fatalf("subject has %q, not printable ASCII", r)
		}
	}
}

func TestSNSMessageDropsDetailsOverTheLimit(t *testing.T) {
	a := testAlert("KW-CT-ROOT", "alice", t0)
	a.Details = map[string]any{"blob": string(make([]byte, snsMessageMax))}
	msg, err := snsMessage(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > snsMessageMax {
		t.Errorf("message is %d bytes, over SNS's limit", len(msg))
	}
}
