package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const clear = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// TestSecretNeverFormatsInClear covers every way a value gets printed by accident.
func TestSecretNeverFormatsInClear(t *testing.T) {
	s := New(clear)
	type holder struct{ S Secret }
	outputs := map[string]string{}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s"} {
		outputs[verb] = fmt.Sprintf(verb, s)
		outputs["struct "+verb] = fmt.Sprintf(verb, holder{s})
	}
	outputs["Sprint"] = fmt.Sprint(s)
	outputs["String"] = s.String()
	js, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "secret", s, "held", holder{s})
	outputs["slog"] = logged.String()
	outputs["error"] = fmt.Errorf("use %v: %w", s, errBoom).Error()
	for name, out := range outputs {
		if strings.Contains(out, clear[4:12]) {
			t.Errorf("%s printed the secret: %s", name, out)
		}
	}
	if !strings.Contains(outputs["json"], `"wJal…"`) {
		t.Errorf("json = %s, want the redacted form", outputs["json"])
	}
}

var errBoom = fmt.Errorf("boom")

func TestRevealAndHash(t *testing.T) {
	s := New(clear)
	if s.Reveal() != clear {
		t.Errorf("Reveal lost the value")
	}
	// sha256 of the AWS documentation example secret.
	if got := s.SHA256(); len(got) != 64 || got == New("other").SHA256() {
		t.Errorf("SHA256 = %q, want a 64-hex digest that differs per value", got)
	}
	if !New("").IsZero() || New("").Redacted() != "" || New("").SHA256() != "" {
		t.Errorf("the empty secret must stay empty in every form")
	}
	if got := New("short").Redacted(); got != "…" {
		t.Errorf("short secret redacted to %q, want a bare ellipsis (4 of 5 characters is too much)", got)
	}
}
