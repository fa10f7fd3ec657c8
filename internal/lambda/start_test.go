package lambda_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/severity"
)

func TestConfigFromEnv(t *testing.T) {
	tests := map[string]struct {
		table, topic, failOn, canaries string
		want                           lambda.Config
		sink, err                      string
	}{
		"topic and severity": {"state", "arn:aws:sns:us-east-1:123456789012:alerts", "high", "",
			lambda.Config{Table: "state", Topic: "arn:aws:sns:us-east-1:123456789012:alerts", FailOn: severity.High},
			"sns:arn:aws:sns:us-east-1:123456789012:alerts", ""},
		"no topic: the log":  {"state", "", "", "", lambda.Config{Table: "state"}, "jsonl", ""},
		"no table":           {"", "", "", "", lambda.Config{}, "", lambda.EnvTable + " is not set"},
		"a severity unknown": {"state", "", "severe", "", lambda.Config{}, "", lambda.EnvFailOn + ": "},
		"canaries": {"state", "", "", `[{"name":"billing","account":"123456789012","user":"svc-billing","access_key_id":"` + canaryKey +
			`","placements":[{"format":"dotenv","path":"app/.env"}]}]`,
			lambda.Config{Table: "state", Canaries: []canary.Canary{{Name: "billing", Account: "123456789012", User: "svc-billing",
				AccessKeyID: canaryKey, Placements: []canary.Placement{{Format: "dotenv", Path: "app/.env"}}}}}, "jsonl", ""},
		"canaries not json":    {"state", "", "", "AKIA...", lambda.Config{}, "", lambda.EnvCanaries + ": want a JSON array"},
		"a canary without key": {"state", "", "", `[{"name":"x"}]`, lambda.Config{}, "", `canary "x": access_key_id "" is not`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{lambda.EnvTable: tc.table, lambda.EnvTopic: tc.topic, lambda.EnvFailOn: tc.failOn, lambda.EnvCanaries: tc.canaries}
			got, err := lambda.ConfigFromEnv(func(k string) string { return env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil || !cmp.Equal(got, tc.want) || got.Sink() != tc.sink {
				t.Errorf("ConfigFromEnv() = %+v (sink %q), %v; want %+v (sink %q)", got, got.Sink(), err, tc.want, tc.sink)
			}
		})
	}
}
