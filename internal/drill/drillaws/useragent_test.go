package drillaws_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/drill"
	"github.com/keywarden/keywarden/internal/drill/drillaws"
	"github.com/keywarden/keywarden/internal/secret"
)

// TestEveryDetonatedCallCarriesTheDrillID: the user agent AWS logs (and
// CloudTrail's userAgent field) names the drill, for every call a drill
// makes; a refusal is a result with its code, not an error.
func TestEveryDetonatedCallCarriesTheDrillID(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.Header.Get("User-Agent"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := drillaws.New(cfg)
	key := credential.Key{ID: awstest.FakeKeyID("ua", 123456789012), Secret: secret.New(awstest.FakeSecret("ua"))}
	for _, c := range drill.Supported {
		res, err := a.Call(context.Background(), key, c, "t9")
		if err != nil || res.Allowed || res.Code == "" { // S3 reads its own error shape: Forbidden
			t.Errorf("%s: %+v %v", c, res, err)
		}
	}
	if len(agents) != len(drill.Supported) {
		t.Fatalf("%d requests for %d calls", len(agents), len(drill.Supported))
	}
	for _, ua := range agents {
		if !strings.Contains(ua, "keywarden-drill/t9") {
			t.Errorf("user agent without the drill id: %s", ua)
		}
	}
}
