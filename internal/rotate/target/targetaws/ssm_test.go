package targetaws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
)

// ssmState is what a parameter looks like from outside: decrypted value, type, KMS key.
type ssmState struct {
	Value, Type, KeyID string
	Exists             bool
}

func getParam(t *testing.T, api *ssm.Client, name string) ssmState {
	t.Helper()
	ctx := context.Background()
	out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return ssmState{}
	}
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	st := ssmState{Value: aws.ToString(out.Parameter.Value), Type: string(out.Parameter.Type), Exists: true}
	desc, err := api.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range desc.Parameters {
		st.KeyID = aws.ToString(p.KeyId)
	}
	return st
}

func putParam(t *testing.T, api *ssm.Client, name, value string, typ ssmtypes.ParameterType, keyID string) {
	t.Helper()
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ}
	if keyID != "" {
		in.KeyId = aws.String(keyID)
	}
	if _, err := api.PutParameter(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func TestSSMJSONParameterKeepsFieldsAndKMSKeyAndRestores(t *testing.T) {
	cfg := awsConfig(t)
	api := ssm.NewFromConfig(awstest.Fixture(cfg))
	old, c := targettest.Creds("old"), targettest.Creds("new")
	before := `{"AccessKeyId":"` + old.AccessKeyID + `","SecretAccessKey":"` + old.SecretAccessKey.Reveal() + `","Region":"eu-west-1"}`
	putParam(t, api, "/ci/deploy", before, ssmtypes.ParameterTypeSecureString, "alias/ci-secrets")
	wantBefore := ssmState{Value: before, Type: "SecureString", KeyID: "alias/ci-secrets", Exists: true}
	if diff := cmp.Diff(wantBefore, getParam(t, api, "/ci/deploy")); diff != "" {
		t.Fatalf("fixture (-want +got):\n%s", diff)
	}

	// moto keeps the key on overwrite either way; AWS falls back to the
	// default key when a rewrite omits KeyId, so record what is sent.
	rec := &recordingClient{next: cfg.HTTPClient}
	if rec.next == nil {
		rec.next = &http.Client{}
	}
	cfg.HTTPClient = rec
	tg := mustParse(t, "ssm:/ci/deploy", cfg)
	restore := targettest.Deliver(t, tg, c)
	targettest.Deliver(t, tg, c) // idempotent
	if puts := rec.bodies("AmazonSSM.PutParameter"); len(puts) != 1 || !strings.Contains(puts[0], `"KeyId":"alias/ci-secrets"`) {
		t.Errorf("PutParameter requests %d, want 1 that names the parameter's KMS key", len(puts))
	}
	want := ssmState{
		Value: `{"AccessKeyId":"` + c.AccessKeyID + `","SecretAccessKey":"` + c.SecretAccessKey.Reveal() + `","Region":"eu-west-1"}`,
		Type:  "SecureString", KeyID: "alias/ci-secrets", Exists: true,
	}
	if diff := cmp.Diff(want, getParam(t, api, "/ci/deploy")); diff != "" {
		t.Errorf("after Deliver (-want +got):\n%s", diff)
	}
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantBefore, getParam(t, api, "/ci/deploy")); diff != "" {
		t.Errorf("after restore (-want +got):\n%s", diff)
	}
}

func TestSSMCreatesAMissingJSONParameterAndRestoreDeletesIt(t *testing.T) {
	cfg := awsConfig(t)
	api := ssm.NewFromConfig(awstest.Fixture(cfg))
	c := targettest.Creds("new")
	restore := targettest.Deliver(t, mustParse(t, "ssm:/ci/new", cfg), c)
	got := getParam(t, api, "/ci/new")
	want := `{"AccessKeyId":"` + c.AccessKeyID + `","SecretAccessKey":"` + c.SecretAccessKey.Reveal() + `"}`
	if got.Value != want || got.Type != "SecureString" {
		t.Errorf("created parameter = %+v, want SecureString %s", got, want)
	}
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := getParam(t, api, "/ci/new"); st.Exists {
		t.Errorf("restore left the created parameter: %+v", st)
	}
}

func TestSSMPrefixWritesTwoSecureStringsAndRestores(t *testing.T) {
	cfg := awsConfig(t)
	api := ssm.NewFromConfig(awstest.Fixture(cfg))
	old, c := targettest.Creds("old"), targettest.Creds("new")
	// The key id was a plain String; the secret did not exist yet.
	putParam(t, api, "/app/AWS_ACCESS_KEY_ID", old.AccessKeyID, ssmtypes.ParameterTypeString, "")
	tg := mustParse(t, "ssm:/app/", cfg)
	restore := targettest.Deliver(t, tg, c)
	targettest.Deliver(t, tg, c) // idempotent
	id, sec := getParam(t, api, "/app/AWS_ACCESS_KEY_ID"), getParam(t, api, "/app/AWS_SECRET_ACCESS_KEY")
	if id.Value != c.AccessKeyID || id.Type != "SecureString" || sec.Value != c.SecretAccessKey.Reveal() || sec.Type != "SecureString" {
		t.Errorf("after Deliver: id %+v, secret type %s; want both SecureString with the new values", id, sec.Type)
	}
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := getParam(t, api, "/app/AWS_ACCESS_KEY_ID"); got.Value != old.AccessKeyID || got.Type != "String" {
		t.Errorf("restored key id = %+v, want the old String", got)
	}
	if got := getParam(t, api, "/app/AWS_SECRET_ACCESS_KEY"); got.Exists {
		t.Errorf("restore left the created secret parameter")
	}
}

func TestSSMRefusesANonJSONParameter(t *testing.T) {
	cfg := awsConfig(t)
	api := ssm.NewFromConfig(awstest.Fixture(cfg))
	old := targettest.Creds("old").SecretAccessKey.Reveal()
	putParam(t, api, "/ci/plain", old, ssmtypes.ParameterTypeSecureString, "")
	c := targettest.Creds("new")
	_, err := mustParse(t, "ssm:/ci/plain", cfg).Deliver(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "not a JSON object") || !strings.Contains(err.Error(), "nothing written") {
		t.Fatalf("err = %v, want a not-JSON error", err)
	}
	targettest.AssertNoSecret(t, err, c, targettest.Creds("old"))
	if got := getParam(t, api, "/ci/plain"); got.Value != old {
		t.Errorf("a refused parameter was written")
	}
}

// recordingClient passes requests on and keeps the bodies, by X-Amz-Target.
type recordingClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	mu   sync.Mutex
	sent map[string][]string
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		if r.sent == nil {
			r.sent = map[string][]string{}
		}
		op := req.Header.Get("X-Amz-Target")
		r.sent[op] = append(r.sent[op], string(b))
		r.mu.Unlock()
	}
	return r.next.Do(req)
}

func (r *recordingClient) bodies(op string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[op]
}
