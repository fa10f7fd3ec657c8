package policy

import (
	"strings"
	"testing"
)

func TestParseSuggestion(t *testing.T) {
	ok := `{"principal":{"type":"user","name":"ci"},"policy":{"Version":"2012-10-17","Statement":[]},"actions":[{"action":"s3:GetObject","count":2,"source":"cloudtrail"}]}`
	s, err := ParseSuggestion([]byte(ok))
	if err != nil || s.Principal.Name != "ci" || len(s.Actions) != 1 || s.Actions[0].Count != 2 {
		t.Fatalf("ParseSuggestion = %+v, %v", s, err)
	}
	for _, bad := range []string{`{`, `{"principal":{"type":"group","name":"x"},"policy":{}}`, `{"principal":{"type":"role","name":"x"}}`} {
		if _, err := ParseSuggestion([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "read suggestion:") {
			t.Errorf("ParseSuggestion(%s) err = %v", bad, err)
		}
	}
}
