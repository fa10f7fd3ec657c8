package respond

import (
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
