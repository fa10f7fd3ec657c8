package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ServiceAccess is IAM Access Advisor's last-accessed data for one service
// a principal's policies allow.
type ServiceAccess struct {
	Namespace    string    // the IAM prefix, e.g. s3
	LastAccessed time.Time // zero: not in the tracking period (about 400 days)
	// Actions are the tracked actions (action level, for the services IAM
	// tracks them for: S3, EC2, IAM, Lambda, ...); empty elsewhere.
	Actions []ActionAccess
}

// ActionAccess is one tracked action's last access.
type ActionAccess struct {
	Action       string // s3:GetObject
	LastAccessed time.Time
}

// Advisor is what AdvisorFacts asks of AWS: GenerateServiceLastAccessedDetails
// (ACTION_LEVEL) then GetServiceLastAccessedDetails for the principal's ARN.
type Advisor interface {
	LastAccessed(ctx context.Context, arn string) ([]ServiceAccess, error)
}

// AdvisorFacts reads Access Advisor for p.
func AdvisorFacts(ctx context.Context, a Advisor, p Principal) ([]ServiceAccess, error) {
	if p.ARN == "" {
		return nil, fmt.Errorf("access advisor for %s %s: no ARN", p.Type, p.Name)
	}
	facts, err := a.LastAccessed(ctx, p.ARN)
	if err != nil {
		return nil, fmt.Errorf("access advisor for %s: %w", p.ARN, err)
	}
	return facts, nil
}

// AddAdvisor fills in what a short trail window does not show: each
// service Access Advisor saw used since since, but of which no event in the
// window names an action, gets a statement of its own (Sid "Advisor" + the
// namespace; statement_sources says access-advisor): its tracked actions
// when IAM tracks them, else the whole service ("ns:*"), on every resource,
// since Access Advisor names none. Each becomes an Action with source
// access-advisor. It returns how many statements it added.
func (s *Suggestion) AddAdvisor(facts []ServiceAccess, since time.Time) (int, error) {
	seen := map[string]bool{}
	for _, a := range s.Actions {
		if a.Source != SourceAccessAdvisor {
			seen[service(a.Action)] = true
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(s.Policy, &doc); err != nil {
		return 0, fmt.Errorf("the suggested policy: %w", err)
	}
	stmts, _ := doc["Statement"].([]any)
	if one, ok := doc["Statement"].(map[string]any); ok {
		stmts = []any{one}
	}
	sort.Slice(facts, func(i, j int) bool { return facts[i].Namespace < facts[j].Namespace })
	added := 0
	for _, f := range facts {
		ns := strings.ToLower(f.Namespace)
		if seen[ns] || f.LastAccessed.IsZero() || f.LastAccessed.Before(since) {
			continue
		}
		var actions []string
		for _, a := range f.Actions {
			if !a.LastAccessed.IsZero() && !a.LastAccessed.Before(since) {
				actions = append(actions, a.Action)
				s.Actions = append(s.Actions, Action{Action: a.Action, Resources: []string{"*"}, LastSeen: a.LastAccessed,
					FirstSeen: a.LastAccessed, Count: 1, Source: SourceAccessAdvisor})
			}
		}
		if len(actions) == 0 {
			actions = []string{ns + ":*"}
			s.Actions = append(s.Actions, Action{Action: ns + ":*", Resources: []string{"*"}, LastSeen: f.LastAccessed,
				FirstSeen: f.LastAccessed, Count: 1, Source: SourceAccessAdvisor})
		}
		sort.Strings(actions)
		sid := "Advisor" + sidWord(ns)
		stmts = append(stmts, map[string]any{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"})
		if s.Statements == nil {
			s.Statements = map[string]string{}
		}
		s.Statements[sid] = SourceAccessAdvisor
		added++
	}
	if added == 0 {
		return 0, nil
	}
	doc["Statement"] = stmts
	b, err := json.Marshal(doc)
	if err != nil {
		return 0, err
	}
	s.Policy = b
	return added, nil
}

// sidWord is a namespace as a Sid may hold it (alphanumerics only): "Kinesisanalytics".
func sidWord(ns string) string {
	var b strings.Builder
	for i, r := range ns {
		switch {
		case r >= 'a' && r <= 'z' && i == 0:
			b.WriteRune(r - 'a' + 'A')
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
