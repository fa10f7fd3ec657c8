package respond

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
)

func TestKeysFromHealthEvent(t *testing.T) {
	id := awstest.FakeKeyID("leaked", 123456789012)
	other := awstest.FakeKeyID("other", 123456789012)
	tests := []struct {
		name, event string
		want        []string
		err         string
	}{
		{"affected entity", `{"source":"aws.health","detail-type":"AWS Health Event","detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED","affectedEntities":[{"entityValue":"` + id + `"}]}}`, []string{id}, ""},
		{"description only", `{"detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED","eventDescription":[{"latestDescription":"keys ` + id + ` and ` + other + ` were found on GitHub"}]}}`, []string{id, other}, ""},
		{"another event type", `{"detail":{"eventTypeCode":"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED"}}`, nil, "eventTypeCode"},
		{"no key", `{"detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED"}}`, nil, "names no access key"},
		{"not json", `AKIA`, nil, "read health event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KeysFromHealthEvent([]byte(tt.event))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want an error containing %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeysFromTheArgumentOrTheHealthEvent(t *testing.T) {
	id := awstest.FakeKeyID("leaked", 123456789012)
	event := `{"source":"aws.health","detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED","affectedEntities":[{"entityValue":"` + id + `"}]}}`
	file := filepath.Join(t.TempDir(), "health.json")
	if err := os.WriteFile(file, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(huge, []byte(event+strings.Repeat(" ", 1<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		health string
		want   []string
		err    string
	}{
		{"a key id", []string{id}, "", []string{id}, ""},
		{"a temporary key id", []string{"ASIA" + id[4:]}, "", []string{"ASIA" + id[4:]}, ""},
		{"not a key id", []string{"AKIA123"}, "", nil, `"AKIA123" is not an access key id (AKIA… or ASIA…, 20 characters)`},
		{"a secret, not a key id", []string{strings.Repeat("x", 20)}, "", nil, "is not an access key id"},
		{"nothing", nil, "", nil, "give the exposed access key id, or --health-event FILE"},
		{"both", []string{id}, file, nil, "give an access key id or --health-event, not both"},
		{"the event's file", nil, file, []string{id}, ""},
		{"the event on stdin", nil, "-", []string{id}, ""},
		{"a missing file", nil, file + ".missing", nil, "--health-event: open " + file + ".missing: no such file or directory"},
		{"a file past the bound", nil, huge, nil, "--health-event: read " + huge + ": larger than 1 MiB, not an AWS Health event"},
		{"a device that never ends", nil, "/dev/zero", nil, "--health-event: read /dev/zero: larger than 1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Keys(tc.args, tc.health, strings.NewReader(event))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !cmp.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
