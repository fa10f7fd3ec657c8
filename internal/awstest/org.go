package awstest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// NewOrganization creates an organization in moto with the caller's account
// (moto's 123456789012) as its management account and two member accounts,
// dev and prod, and returns the members' ids.
func (s *MotoServer) NewOrganization(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(Region)) // not awsx.Load: see CreateUserKey
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(Fixture(cfg))
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	var members []string
	for _, name := range []string{"dev", "prod"} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatalf("create account %s: %v", name, err)
		}
		members = append(members, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	return members
}

// DenyAssumeRole serves a proxy to moto that answers AssumeRole into any
// role of account with the AccessDenied STS sends when the role does not
// trust the caller (moto lets anyone assume any role), and returns its URL,
// for AWS_ENDPOINT_URL.
func (s *MotoServer) DenyAssumeRole(t testing.TB, account string) string {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") == "AssumeRole" && strings.Contains(form.Get("RoleArn"), ":"+account+":") {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>x</RequestId></ErrorResponse>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
