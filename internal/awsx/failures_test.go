package awsx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// emptyEnv leaves the SDK nothing to find: no AWS variables, empty shared
// files, no instance metadata.
func emptyEnv(t *testing.T) (credsFile, configFile string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	credsFile, configFile = filepath.Join(dir, "credentials"), filepath.Join(dir, "config")
	for _, f := range []string{credsFile, configFile} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credsFile)
	t.Setenv("AWS_CONFIG_FILE", configFile)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return credsFile, configFile
}

// attempts counts every attempt of a client's calls, retries included.
func attempts(n *atomic.Int32) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// patientRetryer is audit's kind of retryer (a budget of ten attempts),
// without the waits.
func patientRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 10
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

func TestLoadNoCredentialsSaysWhereItLooked(t *testing.T) {
	credsFile, configFile := emptyEnv(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = awsx.CallerIdentity(context.Background(), cfg)
	var nc *awsx.NoCredentialsError
	if !errors.As(err, &nc) {
		t.Fatalf("err = %v, want a NoCredentialsError", err)
	}
	for _, want := range []string{"the environment (AWS_ACCESS_KEY_ID)", `profile "default"`, credsFile, configFile,
		"EC2 instance metadata service (turned off by AWS_EC2_METADATA_DISABLED)"} {
		if !strings.Contains(nc.Error(), want) {
			t.Errorf("%q does not say %q", nc.Error(), want)
		}
	}

	// A profile named explicitly is the only place before the instance
	// metadata: the environment's keys are not consulted.
	if err := os.WriteFile(configFile, []byte("[profile settings]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err = awsx.Load(context.Background(), awsx.Options{Profile: "settings"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = awsx.CallerIdentity(context.Background(), cfg)
	if !errors.As(err, &nc) || strings.Contains(nc.Error(), "environment") || !strings.Contains(nc.Error(), `profile "settings"`) {
		t.Errorf("err = %v, want where a profile without credentials looked", err)
	}
}

func TestLoadCredentialsFoundAreUntouched(t *testing.T) {
	emptyEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil {
		t.Errorf("environment keys: %v", err)
	}
}

func TestLoadMissingProfileNamesFilesAndSetting(t *testing.T) {
	credsFile, _ := emptyEnv(t)
	_, err := awsx.Load(context.Background(), awsx.Options{Profile: "nope"})
	var pe *awsx.ProfileNotFoundError
	if !errors.As(err, &pe) || pe.Setting != "" || !strings.Contains(err.Error(), credsFile) {
		t.Errorf("--profile nope: %v, want a ProfileNotFoundError naming the files", err)
	}
	if strings.Count(err.Error(), "nope") != 1 {
		t.Errorf("%q names the profile more than once", err)
	}
	t.Setenv("AWS_PROFILE", "nope")
	_, err = awsx.Load(context.Background(), awsx.Options{})
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), `profile "nope" (AWS_PROFILE)`) {
		t.Errorf("AWS_PROFILE=nope: %v, want it to name AWS_PROFILE", err)
	}
}

// TestLoadDeadEndpointFailsFast: where nothing listens, a client with ten
// attempts to spend gives up after a few, naming the endpoint and the
// variable that set it; the next call of the same configuration is not
// retried at all.
func TestLoadDeadEndpointFailsFast(t *testing.T) {
	emptyEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	endpoint := "http://" + awstest.ClosedAddr(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	client := iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.Retryer = patientRetryer()
		o.APIOptions = append(o.APIOptions, attempts(&n))
	})
	_, err = client.ListUsers(context.Background(), &iam.ListUsersInput{})
	var ce *awsx.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConnectError", err)
	}
	if want := "cannot connect to " + endpoint + " (AWS_ENDPOINT_URL): connection refused"; ce.Error() != want {
		t.Errorf("ConnectError = %q, want %q", ce.Error(), want)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("attempts = %d, want 3 (not the retryer's 10)", got)
	}
	n.Store(0)
	if _, err := client.ListUsers(context.Background(), &iam.ListUsersInput{}); !errors.As(err, &ce) || n.Load() != 1 {
		t.Errorf("second call: %d attempts (%v), want 1 and a ConnectError", n.Load(), err)
	}
}

// TestLoadThrottlingKeepsItsRetries: answers reset the connect budget, so a
// throttled call is retried as often as its retryer says.
func TestLoadThrottlingKeepsItsRetries(t *testing.T) {
	emptyEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) <= 6 {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
			return
		}
		w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
			`<Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>` +
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = patientRetryer() })
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "123456789012" || served.Load() != 7 {
		t.Errorf("after 6 throttles: %v after %d requests, want the answer of the 7th", err, served.Load())
	}
}

// TestLoadRetriesAnErrorAnswerWithoutItsBody: an error answer whose body is
// empty (a loaded loopback run lost it; AWS always says why) is retried, and
// the retry's real answer is what the caller sees; a body that says why is
// not retried.
func TestLoadRetriesAnErrorAnswerWithoutItsBody(t *testing.T) {
	emptyEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		if served.Add(1) == 1 {
			return // the body lost
		}
		w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no provider</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) { o.Retryer = patientRetryer() })
	_, err = client.GetOpenIDConnectProvider(context.Background(), &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::123456789012:oidc-provider/x")})
	if !awsx.IsNoSuchEntity(err) || served.Load() != 2 {
		t.Errorf("after an empty 404: %v after %d requests, want NoSuchEntity from the 2nd", err, served.Load())
	}
}
