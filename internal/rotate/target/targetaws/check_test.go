package targetaws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/keywarden/keywarden/internal/rotate/target"
)

// TestChecksReadWithoutWriting: before a rotation creates a key, an AWS
// target is read as its delivery will read it: a missing secret or
// parameter passes (delivery creates it), one that is not a JSON object
// fails naming the target, and nothing is written either way.
func TestChecksReadWithoutWriting(t *testing.T) {
	cfg := awsConfig(t)
	ctx := context.Background()
	createSecret(t, secretsmanager.NewFromConfig(cfg), "ci/plain", "not json")
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/ci/plain"),
		Value: aws.String("not json"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ spec, fails string }{
		{"secretsmanager:ci/missing", ""},
		{"secretsmanager:ci/plain", "target secretsmanager:ci/plain: secret string: "},
		{"ssm:/ci/missing", ""},
		{"ssm:/ci/prefix/", ""},
		{"ssm:/ci/plain", "target ssm:/ci/plain: parameter /ci/plain: "},
	}
	for _, tt := range tests {
		err := target.Check(ctx, mustParse(t, tt.spec, cfg))
		if (err == nil) != (tt.fails == "") || err != nil && !strings.HasPrefix(err.Error(), tt.fails) {
			t.Errorf("%s: %v, want an error starting %q", tt.spec, err, tt.fails)
		}
	}
	if _, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/ci/missing")}); err == nil {
		t.Error("a check created a parameter")
	}
}
