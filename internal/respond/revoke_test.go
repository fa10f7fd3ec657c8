package respond

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

func TestRevokeSessionsCutoff(t *testing.T) {
	cutoff := time.Date(2025, 3, 9, 13, 7, 32, 0, time.UTC)
	tests := []struct {
		name, doc string
		want      time.Time
		wantErr   error
	}{
		{"the document put", RevokeSessionsDocument(cutoff.Add(-300 * time.Millisecond)), cutoff, nil},
		{"percent-encoded as IAM returns it", url.QueryEscape(RevokeSessionsDocument(cutoff)), cutoff, nil},
		{"an exact second is kept", RevokeSessionsDocument(cutoff), cutoff, nil},
		{"a local time is read in UTC",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:tokenissuetime":"2025-03-09T14:07:32+01:00"}}}}`,
			cutoff, nil},
		{"an allow is not a revocation",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2025-03-09T13:07:32Z"}}}}`,
			time.Time{}, errNotRevocation},
		{"a deny of some actions is not a revocation",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2025-03-09T13:07:32Z"}}}}`,
			time.Time{}, errNotRevocation},
		{"another condition key is not a revocation",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2025-03-09T13:07:32Z"}}}}`,
			time.Time{}, errNotRevocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RevokeSessionsCutoff(tt.doc)
			if !errors.Is(err, tt.wantErr) || !got.Equal(tt.want) {
				t.Errorf("RevokeSessionsCutoff = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := RevokeSessionsCutoff(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"yesterday"}}}}`); err == nil {
		t.Error("an unreadable time was accepted")
	}
}

// FuzzRevokeSessionsCutoff: whatever the stored document, reading it back
// returns an answer or an error, and a cutoff it finds survives a round trip.
func FuzzRevokeSessionsCutoff(f *testing.F) {
	f.Add(RevokeSessionsDocument(time.Date(2025, 3, 9, 13, 7, 32, 0, time.UTC)))
	f.Add(`{"Statement":[{"Effect":"Deny","Action":["*"],"Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":["x","y"]}}}]}`)
	f.Add("%7B%22Statement%22%3A%5B%5D%7D")
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := RevokeSessionsCutoff(doc)
		if err != nil {
			return
		}
		again, err := RevokeSessionsCutoff(RevokeSessionsDocument(got))
		if err != nil || !again.Equal(revokeCutoff(got)) {
			t.Errorf("round trip of %v: %v, %v", got, again, err)
		}
	})
}
