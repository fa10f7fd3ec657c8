package awstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// CloudTrail's JSON 1.1 protocol: every call is a POST / naming its
// operation in X-Amz-Target. aws-sdk-go-v2 sends the short target
// (CloudTrail_20131101.LookupEvents); botocore, so the AWS CLI, the long one
// (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents).
const (
	ctTargetPrefix = "CloudTrail_20131101."
	ctTargetLong   = "com.amazonaws.cloudtrail.v20131101."
	ctContentType  = "application/x-amz-json-1.1"
	// CloudTrailRateLimit is LookupEvents' quota: requests per second, per
	// account, per region. A request beyond it within any one second is
	// answered ThrottlingException.
	CloudTrailRateLimit = 2
	ctMaxResults        = 50 // the default and the largest page
)

// CloudTrailServer is a fake of CloudTrail's LookupEvents (which moto
// lacks): an httptest server that speaks the real wire protocol, so the real
// SDK is what talks to it. It serves each region the fixtures whose Region
// is that region (the region is read from the request's SigV4 credential
// scope), newest first, in pages, and throttles more than
// CloudTrailRateLimit requests a second per region.
type CloudTrailServer struct {
	URL string

	mu       sync.Mutex
	events   []ctFixture
	requests []CloudTrailRequest
	admitted map[string][]time.Time // region -> times of requests served, within the last second
	limit    int                    // requests a second per region; 0: no quota
	fail     map[string]ctError     // region -> the error every request there gets
}

// CloudTrailRequest is one request the fake received, for assertions.
type CloudTrailRequest struct {
	Target     string // X-Amz-Target as sent
	Operation  string // LookupEvents, ...
	Region     string // from the SigV4 credential scope
	Attributes map[string]string
	StartTime  time.Time // zero when absent
	EndTime    time.Time
	MaxResults int
	NextToken  string
	Status     int    // HTTP status of the answer
	Error      string // the error code answered, "" on success
	Events     int    // events in the answer
}

type ctError struct {
	status        int
	code, message string
}

// NewCloudTrailServer starts the fake serving events; it stops when the test ends.
func NewCloudTrailServer(t testing.TB, events []CloudTrailEventFixture) *CloudTrailServer {
	t.Helper()
	s := &CloudTrailServer{admitted: map[string][]time.Time{}, fail: map[string]ctError{}, limit: CloudTrailRateLimit}
	for i, e := range events {
		f, err := e.prepare()
		if err != nil {
			t.Fatalf("cloudtrail fixture %d: %v", i, err)
		}
		s.events = append(s.events, f)
	}
	// Newest first as AWS answers; ties by event id keep pages stable.
	slices.SortStableFunc(s.events, func(a, b ctFixture) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.EventID, b.EventID)
	})
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// SetEnv points the SDK's CloudTrail clients at the fake for the rest of
// the test (AWS_ENDPOINT_URL_CLOUDTRAIL), leaving other services where they are.
func (s *CloudTrailServer) SetEnv(t testing.TB) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", s.URL)
}

// FailRegion makes every request in region fail with the given error, as
// AWS answers a region the caller may not read (AccessDeniedException) or
// one not enabled for the account (UnrecognizedClientException).
func (s *CloudTrailServer) FailRegion(region, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[region] = ctError{http.StatusBadRequest, code, message}
}

// SetRateLimit changes the quota from CloudTrailRateLimit to n requests a
// second per region; 0 lifts it, for tests about something else.
func (s *CloudTrailServer) SetRateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
}

// Requests returns the requests received so far, in arrival order.
func (s *CloudTrailServer) Requests() []CloudTrailRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Throttled counts the requests answered ThrottlingException.
func (s *CloudTrailServer) Throttled() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Error == "ThrottlingException" {
			n++
		}
	}
	return n
}

// lookupInput is LookupEvents' request body; times are epoch seconds.
type lookupInput struct {
	LookupAttributes []struct {
		AttributeKey   string
		AttributeValue *string
	}
	StartTime     *float64
	EndTime       *float64
	MaxResults    *int
	NextToken     *string
	EventCategory *string
}

func (s *CloudTrailServer) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now() // before any work, so the quota sees arrival times, not our own delays
	req := CloudTrailRequest{Region: signingRegion(r.Header.Get("Authorization"))}
	op, ok := strings.CutPrefix(strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ctTargetLong), ctTargetPrefix)
	req.Target, req.Operation = r.Header.Get("X-Amz-Target"), op
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var in lookupInput
	var answer any
	var cerr *ctError
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		cerr = &ctError{http.StatusNotFound, "UnknownOperationException", "not a CloudTrail JSON 1.1 request"}
	case !strings.HasPrefix(r.Header.Get("Content-Type"), ctContentType):
		cerr = &ctError{http.StatusBadRequest, "SerializationException", "content type must be " + ctContentType}
	case !ok || op != "LookupEvents":
		cerr = &ctError{http.StatusBadRequest, "UnknownOperationException", "the fake serves LookupEvents only"}
	case req.Region == "":
		cerr = &ctError{http.StatusForbidden, "MissingAuthenticationTokenException", "request is not signed"}
	case err != nil || json.Unmarshal(body, &in) != nil:
		cerr = &ctError{http.StatusBadRequest, "SerializationException", "body is not a LookupEvents input"}
	default:
		s.mu.Lock()
		answer, cerr = s.lookup(&req, in, arrived)
		s.mu.Unlock()
	}
	s.respond(w, &req, answer, cerr)
}

// respond writes the answer or the error and records the request.
func (s *CloudTrailServer) respond(w http.ResponseWriter, req *CloudTrailRequest, answer any, cerr *ctError) {
	w.Header().Set("Content-Type", ctContentType)
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("fake-%d", time.Now().UnixNano()))
	req.Status = http.StatusOK
	if cerr != nil {
		req.Status, req.Error = cerr.status, cerr.code
		answer = map[string]string{"__type": cerr.code, "message": cerr.message}
	}
	s.mu.Lock()
	s.requests = append(s.requests, *req)
	s.mu.Unlock()
	w.WriteHeader(req.Status)
	_ = json.NewEncoder(w).Encode(answer)
}

// lookup answers one LookupEvents call; s.mu is held.
func (s *CloudTrailServer) lookup(req *CloudTrailRequest, in lookupInput, arrived time.Time) (any, *ctError) {
	req.Attributes = map[string]string{}
	for _, a := range in.LookupAttributes {
		if a.AttributeValue != nil {
			req.Attributes[a.AttributeKey] = *a.AttributeValue
		}
	}
	req.StartTime, req.EndTime = epoch(in.StartTime), epoch(in.EndTime)
	req.MaxResults = ctMaxResults
	if in.MaxResults != nil {
		req.MaxResults = *in.MaxResults
	}
	if in.NextToken != nil {
		req.NextToken = *in.NextToken
	}
	if e, ok := s.fail[req.Region]; ok {
		return nil, &e
	}
	if s.limit > 0 && !s.admit(req.Region, arrived) {
		return nil, &ctError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
	}
	switch {
	case len(in.LookupAttributes) > 1 || len(in.LookupAttributes) != len(req.Attributes):
		return nil, &ctError{http.StatusBadRequest, "InvalidLookupAttributesException", "give at most one lookup attribute, with a value"}
	case req.MaxResults < 1 || req.MaxResults > ctMaxResults:
		return nil, &ctError{http.StatusBadRequest, "InvalidMaxResultsException", "MaxResults must be 1 to 50"}
	case !req.StartTime.IsZero() && !req.EndTime.IsZero() && req.StartTime.After(req.EndTime):
		return nil, &ctError{http.StatusBadRequest, "InvalidTimeRangeException", "StartTime is after EndTime"}
	}
	offset, ok := parseToken(req.NextToken)
	if !ok {
		return nil, &ctError{http.StatusBadRequest, "InvalidNextTokenException", "invalid NextToken"}
	}
	matched, cerr := s.matching(req)
	if cerr != nil {
		return nil, cerr
	}
	out := map[string]any{"Events": []map[string]any{}}
	end := min(offset+req.MaxResults, len(matched))
	page := []map[string]any{}
	for _, f := range matched[min(offset, len(matched)):end] {
		page = append(page, f.answer())
	}
	out["Events"], req.Events = page, len(page)
	if end < len(matched) {
		out["NextToken"] = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	return out, nil
}

// matching is the region's events that answer the request, newest first.
func (s *CloudTrailServer) matching(req *CloudTrailRequest) ([]ctFixture, *ctError) {
	var out []ctFixture
	for _, f := range s.events {
		if f.Region != req.Region ||
			(!req.StartTime.IsZero() && f.Time.Before(req.StartTime)) ||
			(!req.EndTime.IsZero() && f.Time.After(req.EndTime)) {
			continue
		}
		ok := true
		for k, v := range req.Attributes {
			m, err := f.matches(k, v)
			if err != nil {
				return nil, &ctError{http.StatusBadRequest, "InvalidLookupAttributesException", err.Error()}
			}
			ok = ok && m
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// admit applies the rate limit: a request is served when fewer than
// s.limit requests of its region were served in the second
// before it. Throttled requests do not count against the quota.
func (s *CloudTrailServer) admit(region string, now time.Time) bool {
	recent := s.admitted[region][:0]
	for _, at := range s.admitted[region] {
		if now.Sub(at) < time.Second {
			recent = append(recent, at)
		}
	}
	s.admitted[region] = recent
	if len(recent) >= s.limit {
		return false
	}
	s.admitted[region] = append(recent, now)
	return true
}

// signingRegion reads the region from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/cloudtrail/aws4_request, ...".
func signingRegion(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[2]
}

func epoch(v *float64) time.Time {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(*v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// parseToken decodes a NextToken the fake issued: the offset of the page.
func parseToken(tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), "offset:")
	n, err := strconv.Atoi(rest)
	return n, ok && err == nil && n >= 0
}

// SetEnvAlone isolates the test's AWS environment as MotoServer.SetEnv does
// (dummy credentials, empty config files, region) with every service
// pointed at the fake, for tests that need CloudTrail only: a call to any
// other service fails fast instead of leaving the machine.
func (s *CloudTrailServer) SetEnvAlone(t testing.TB) {
	t.Helper()
	(&MotoServer{URL: s.URL}).SetEnv(t)
	s.SetEnv(t)
}
