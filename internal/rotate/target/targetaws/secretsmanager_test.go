package targetaws_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
)

func secretString(t *testing.T, sm *secretsmanager.Client, id, stage string) string {
	t.Helper()
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatalf("get %s %s: %v", id, stage, err)
	}
	return aws.ToString(out.SecretString)
}

func createSecret(t *testing.T, sm *secretsmanager.Client, name, value string) string {
	t.Helper()
	out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

func TestSecretsManagerUpdatesKeyFieldsKeepsTheRestAndRestores(t *testing.T) {
	cfg := awsConfig(t)
	sm := secretsmanager.NewFromConfig(awstest.Fixture(cfg))
	old, c := targettest.Creds("old"), targettest.Creds("new")
	before := `{"region":"eu-west-1","aws_access_key_id":"` + old.AccessKeyID + `","aws_secret_access_key":"` + old.SecretAccessKey.Reveal() + `","retries":3}`
	arn := createSecret(t, sm, "ci/deploy", before)

	for _, spec := range []string{"secretsmanager:ci/deploy", "secretsmanager:" + arn} {
		t.Run(spec, func(t *testing.T) {
			tg := mustParse(t, spec, cfg)
			restore := targettest.Deliver(t, tg, c)
			want := `{"region":"eu-west-1","aws_access_key_id":"` + c.AccessKeyID + `","aws_secret_access_key":"` + c.SecretAccessKey.Reveal() + `","retries":3}`
			if diff := cmp.Diff(want, secretString(t, sm, "ci/deploy", "AWSCURRENT")); diff != "" {
				t.Errorf("AWSCURRENT (-want +got):\n%s", diff)
			}
			if got := secretString(t, sm, "ci/deploy", "AWSPREVIOUS"); got != before {
				t.Errorf("AWSPREVIOUS = %q, want the old value", got)
			}
			// A resumed rotation delivers again: no new version, and its
			// restore still goes back to the value before the rotation.
			restore2 := targettest.Deliver(t, tg, c)
			if restore2 == nil {
				t.Fatal("second Deliver returned no restore")
			}
			if err := restore2(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := secretString(t, sm, "ci/deploy", "AWSCURRENT"); got != before {
				t.Errorf("after restore of the second delivery AWSCURRENT = %q, want the old value", got)
			}
			if err := restore(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := secretString(t, sm, "ci/deploy", "AWSCURRENT"); got != before {
				t.Errorf("after restore AWSCURRENT = %q, want the old value", got)
			}
		})
	}
}

func TestSecretsManagerCreatesAMissingSecretAndRestoreDeletesIt(t *testing.T) {
	cfg := awsConfig(t)
	sm := secretsmanager.NewFromConfig(awstest.Fixture(cfg))
	c := targettest.Creds("new")
	restore := targettest.Deliver(t, mustParse(t, "secretsmanager:ci/new", cfg), c)
	want := `{"AccessKeyId":"` + c.AccessKeyID + `","SecretAccessKey":"` + c.SecretAccessKey.Reveal() + `"}`
	if diff := cmp.Diff(want, secretString(t, sm, "ci/new", "AWSCURRENT")); diff != "" {
		t.Errorf("created secret (-want +got):\n%s", diff)
	}
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("ci/new")})
	var nf *smtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("after restore GetSecretValue err = %v, want ResourceNotFound", err)
	}
}

func TestSecretsManagerAddsFieldsToAnObjectWithoutThem(t *testing.T) {
	cfg := awsConfig(t)
	sm := secretsmanager.NewFromConfig(awstest.Fixture(cfg))
	createSecret(t, sm, "app", `{"db_password":"kept"}`)
	c := targettest.Creds("new")
	targettest.Deliver(t, mustParse(t, "secretsmanager:app", cfg), c)
	want := `{"db_password":"kept","AccessKeyId":"` + c.AccessKeyID + `","SecretAccessKey":"` + c.SecretAccessKey.Reveal() + `"}`
	if diff := cmp.Diff(want, secretString(t, sm, "app", "AWSCURRENT")); diff != "" {
		t.Errorf("secret (-want +got):\n%s", diff)
	}
}

func TestSecretsManagerRefusesWhatItCannotEdit(t *testing.T) {
	cfg := awsConfig(t)
	sm := secretsmanager.NewFromConfig(awstest.Fixture(cfg))
	old := targettest.Creds("old").SecretAccessKey.Reveal()
	createSecret(t, sm, "plain", old)
	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("binary"), SecretBinary: []byte{1, 2}}); err != nil {
		t.Fatal(err)
	}
	c := targettest.Creds("new")
	for spec, want := range map[string]string{
		"secretsmanager:plain":  "not a JSON object",
		"secretsmanager:binary": "binary",
		"secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf": "no such secret",
	} {
		_, err := mustParse(t, spec, cfg).Deliver(context.Background(), c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", spec, err, want)
		}
		targettest.AssertNoSecret(t, err, c, targettest.Creds("old"))
	}
	if got := secretString(t, sm, "plain", "AWSCURRENT"); got != old {
		t.Errorf("a refused secret was written: %q", got)
	}
}
