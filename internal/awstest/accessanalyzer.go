package awstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// moto does not serve IAM Access Analyzer, so the moto environment (SetEnv)
// points the SDK's accessanalyzer client at this stand-in instead
// (AWS_ENDPOINT_URL_ACCESSANALYZER): the two calls the audit and its tests
// make, ListAnalyzers and CreateAnalyzer, in AWS's REST-JSON shapes, one
// list of analyzers per signing region, emptied by MotoServer.Reset. It is
// started once per test binary, on loopback.
type analyzerStandIn struct {
	once sync.Once
	srv  *httptest.Server
	mu   sync.Mutex
	// analyzers by region; deny names the regions that answer
	// AccessDeniedException.
	analyzers map[string][]map[string]any
	deny      map[string]bool
}

var analyzerServer analyzerStandIn

// analyzerURL starts the stand-in if needed and returns its URL.
func analyzerURL() string {
	analyzerServer.once.Do(func() {
		analyzerServer.srv = httptest.NewServer(http.HandlerFunc(analyzerServer.serve))
	})
	return analyzerServer.srv.URL
}

func (s *analyzerStandIn) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analyzers, s.deny = map[string][]map[string]any{}, map[string]bool{}
}

// DenyAccessAnalyzer makes ListAnalyzers and CreateAnalyzer in region
// answer AccessDeniedException until the next Reset.
func (s *MotoServer) DenyAccessAnalyzer(region string) {
	analyzerServer.mu.Lock()
	defer analyzerServer.mu.Unlock()
	analyzerServer.deny[region] = true
}

func (s *analyzerStandIn) serve(w http.ResponseWriter, r *http.Request) {
	region := signingRegion(r.Header.Get("Authorization"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deny[region] {
		analyzerError(w, http.StatusForbidden, "AccessDeniedException", "User is not authorized to perform: access-analyzer:ListAnalyzers")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/analyzer":
		list := slices.DeleteFunc(slices.Clone(s.analyzers[region]), func(a map[string]any) bool {
			t := r.URL.Query().Get("type")
			return t != "" && a["type"] != t
		})
		if list == nil {
			list = []map[string]any{}
		}
		writeJSON(w, map[string]any{"analyzers": list})
	case r.Method == http.MethodPut && r.URL.Path == "/analyzer":
		var in struct {
			AnalyzerName string            `json:"analyzerName"`
			Type         string            `json:"type"`
			Tags         map[string]string `json:"tags"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.AnalyzerName == "" || in.Type == "" {
			analyzerError(w, http.StatusBadRequest, "ValidationException", "analyzerName and type are required")
			return
		}
		arn := fmt.Sprintf("arn:aws:access-analyzer:%s:123456789012:analyzer/%s", region, in.AnalyzerName)
		a := map[string]any{"arn": arn, "name": in.AnalyzerName, "type": in.Type,
			"status": "ACTIVE", "createdAt": time.Now().UTC().Format(time.RFC3339)}
		if len(in.Tags) > 0 {
			a["tags"] = in.Tags
		}
		s.analyzers[region] = append(s.analyzers[region], a)
		writeJSON(w, map[string]any{"arn": arn})
	default:
		analyzerError(w, http.StatusNotFound, "ResourceNotFoundException", "the stand-in serves ListAnalyzers and CreateAnalyzer only")
	}
}

func analyzerError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
