package awstest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Region is the region tests run in.
const Region = "us-east-1"

// SetEnv points the AWS SDK at s for the rest of the test: endpoint, region,
// dummy credentials, and empty config and credentials files, so the
// developer's real profiles are never read or used.
func (s *MotoServer) SetEnv(t testing.TB) {
	t.Helper()
	// Clear every AWS_ variable first (service endpoints, profiles, SSO,
	// container credentials); t.Setenv restores them after the test.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": s.URL,
		// moto does not serve IAM Access Analyzer: a stand-in does.
		"AWS_ENDPOINT_URL_ACCESSANALYZER": analyzerURL(),
		"AWS_REGION":                      Region,
		"AWS_DEFAULT_REGION":              Region,
		"AWS_ACCESS_KEY_ID":               "testing", // moto accepts anything while auth is off
		"AWS_SECRET_ACCESS_KEY":           "testing",
		"AWS_CONFIG_FILE":                 filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":     filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":       "true",
	} {
		t.Setenv(k, v)
	}
}

// ClosedAddr is a loopback host:port where nothing listens: a port the
// system just handed out and that is closed again, for tests of an endpoint
// that cannot be reached.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
