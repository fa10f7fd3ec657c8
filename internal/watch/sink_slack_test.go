package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/detect"
)

func TestSlackPayloadShape(t *testing.T) {
	rec := &recorder{}
	s, _, _ := newTestSink(t, "slack", rec, "")
	a := testAlert("KW-CT-IAM-CREATE-USER", "alice", t0)
	a.Title = "user <https://evil.example|click> & <!channel>"
	if err := s.Send(context.Background(), []detect.Alert{a}); err != nil {
		t.Fatal(err)
	}
	var got slackPayload
	if err := json.Unmarshal(rec.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	title := "user &lt;https://evil.example|click&gt; &amp; &lt;!channel&gt;"
	want := slackPayload{
		Text: "keywarden: HIGH KW-CT-IAM-CREATE-USER\nHIGH KW-CT-IAM-CREATE-USER: " + title,
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: "keywarden: HIGH KW-CT-IAM-CREATE-USER"}},
			{Type: "section", Text: &slackText{Type: "plain_text", Text: title}},
			{Type: "section", Fields: []slackText{
				{Type: "plain_text", Text: "Severity: high"},
				{Type: "plain_text", Text: "Rule: KW-CT-IAM-CREATE-USER"},
				{Type: "plain_text", Text: "Key: " + a.AccessKeyID},
				{Type: "plain_text", Text: "Principal: arn:aws:iam::123456789012:user/alice"},
				{Type: "plain_text", Text: "Event time: 2024-05-01T12:00:00Z"},
				{Type: "plain_text", Text: "Event: iam.amazonaws.com CreateUser"},
			}},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slack payload (-want +got):\n%s", diff)
	}
	if strings.Contains(string(rec.bodies[0]), "mrkdwn") {
		t.Error("payload uses mrkdwn: attacker text could become links")
	}
}

// A batch larger than one message goes in chunks; when a later chunk
// fails, the caller's retry of the whole batch does not repost the first.
func TestSlackRetryOfBatchSkipsChunksAlreadyPosted(t *testing.T) {
	rec := &recorder{statuses: []int{200, 400}}
	s, _, _ := newTestSink(t, "slack", rec, "")
	var alerts []detect.Alert
	for i := range slackChunk + 5 {
		alerts = append(alerts, testAlert("KW-CT-ROOT", fmt.Sprint("k", i), t0))
	}
	if err := s.Send(context.Background(), alerts); err == nil {
		t.Fatal("Send succeeded although the second chunk was refused")
	}
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies) != 3 {
		t.Fatalf("got %d posts, want 3 (chunk 1, chunk 2 refused, chunk 2 again)", len(rec.bodies))
	}
	for i, want := range []int{slackChunk, 5, 5} {
		var p slackPayload
		if err := json.Unmarshal(rec.bodies[i], &p); err != nil {
			t.Fatal(err)
		}
		if got := (len(p.Blocks) - 1) / 2; got != want {
			t.Errorf("post %d carries %d alerts, want %d", i, got, want)
		}
		if len(p.Blocks) > 50 {
			t.Errorf("post %d has %d blocks, over Slack's 50", i, len(p.Blocks))
		}
	}
}
