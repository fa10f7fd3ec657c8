package policyaws_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
)

// advisorStandIn answers GenerateServiceLastAccessedDetails and
// GetServiceLastAccessedDetails, the two IAM calls moto does not serve
// (moto 5.2 has neither), in IAM's query protocol: the job is in progress
// on the first Get, then complete, its services on two pages.
type advisorStandIn struct {
	mu    sync.Mutex
	gets  int
	asked []string // the form of each request, for the test to check
}

func (s *advisorStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, r.Form.Encode())
	w.Header().Set("Content-Type", "text/xml")
	const ns = `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`
	switch r.Form.Get("Action") {
	case "GenerateServiceLastAccessedDetails":
		fmt.Fprintf(w, `<GenerateServiceLastAccessedDetailsResponse %s><GenerateServiceLastAccessedDetailsResult><JobId>job-1</JobId></GenerateServiceLastAccessedDetailsResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GenerateServiceLastAccessedDetailsResponse>`, ns)
	case "GetServiceLastAccessedDetails":
		s.gets++
		status, body, more := "IN_PROGRESS", "", ""
		switch {
		case s.gets == 1:
		case r.Form.Get("Marker") == "":
			status, more = "COMPLETED", `<IsTruncated>true</IsTruncated><Marker>page-2</Marker>`
			body = `<member><ServiceName>Amazon S3</ServiceName><ServiceNamespace>s3</ServiceNamespace><LastAuthenticated>2026-11-20T10:00:00Z</LastAuthenticated><TotalAuthenticatedEntities>1</TotalAuthenticatedEntities>` +
				`<TrackedActionsLastAccessed><member><ActionName>GetObject</ActionName><LastAccessedTime>2026-11-20T10:00:00Z</LastAccessedTime><LastAccessedRegion>us-east-1</LastAccessedRegion></member>` +
				`<member><ActionName>PutObject</ActionName></member></TrackedActionsLastAccessed></member>`
		default:
			status = "COMPLETED"
			body = `<member><ServiceName>AWS Key Management Service</ServiceName><ServiceNamespace>kms</ServiceNamespace><LastAuthenticated>2026-10-01T08:00:00Z</LastAuthenticated><TotalAuthenticatedEntities>1</TotalAuthenticatedEntities></member>` +
				`<member><ServiceName>Amazon SQS</ServiceName><ServiceNamespace>sqs</ServiceNamespace></member>`
		}
		fmt.Fprintf(w, `<GetServiceLastAccessedDetailsResponse %s><GetServiceLastAccessedDetailsResult><JobStatus>%s</JobStatus><JobType>ACTION_LEVEL</JobType><JobCreationDate>2026-12-03T10:00:00Z</JobCreationDate><JobCompletionDate>2026-12-03T10:00:01Z</JobCompletionDate><ServicesLastAccessed>%s</ServicesLastAccessed>%s</GetServiceLastAccessedDetailsResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></GetServiceLastAccessedDetailsResponse>`, ns, status, body, more)
	default:
		http.Error(w, "not served", 400)
	}
}

// Access Advisor's facts fill in what a trail window of one week misses:
// S3's tracked GetObject (action level), KMS at service level; SQS never
// accessed and EC2 already in the trail add nothing.
func TestAdvisorFactsAddWhatTheTrailWindowMisses(t *testing.T) {
	stand := &advisorStandIn{}
	srv := httptest.NewServer(stand)
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIASTANDIN", SecretAccessKey: "standin"}, nil
		})}
	a := policyaws.New(cfg)
	a.Poll = time.Millisecond
	p := policy.Principal{Type: "user", Name: "app", ARN: "arn:aws:iam::123456789012:user/app"}
	facts, err := policy.AdvisorFacts(context.Background(), a, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 3 || stand.gets != 3 || !strings.Contains(stand.asked[0], "Granularity=ACTION_LEVEL") {
		t.Fatalf("facts %+v after %d gets; asked %v", facts, stand.gets, stand.asked)
	}
	s := policy.Suggestion{Principal: p, Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"S01","Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}`),
		Actions: []policy.Action{{Action: "ec2:DescribeInstances", Source: policy.SourceCloudTrail}}}
	n, err := s.AddAdvisor(facts, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Fatalf("AddAdvisor = %d, %v", n, err)
	}
	want := `{"Statement":[{"Action":"ec2:DescribeInstances","Effect":"Allow","Resource":"*","Sid":"S01"},` +
		`{"Action":["kms:*"],"Effect":"Allow","Resource":"*","Sid":"AdvisorKms"},` +
		`{"Action":["s3:GetObject"],"Effect":"Allow","Resource":"*","Sid":"AdvisorS3"}],"Version":"2012-10-17"}`
	if string(s.Policy) != want {
		t.Errorf("policy\n%s\nwant\n%s", s.Policy, want)
	}
	if s.Statements["AdvisorS3"] != policy.SourceAccessAdvisor || s.Statements["AdvisorKms"] != policy.SourceAccessAdvisor || len(s.Actions) != 3 {
		t.Errorf("sources %v actions %+v", s.Statements, s.Actions)
	}
	if n, _ := s.AddAdvisor(facts, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); n != 0 {
		t.Errorf("facts older than since were added: %d", n)
	}
}
