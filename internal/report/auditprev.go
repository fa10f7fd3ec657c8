package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/severity"
)

// prevFinding is one object of an earlier `keywarden audit --format json`
// (or jsonl) report, as far as --diff needs it.
type prevFinding struct {
	Check     *string        `json:"check"`
	Title     string         `json:"title"`
	Severity  string         `json:"severity"`
	AccountID string         `json:"account_id"`
	Resource  string         `json:"resource"`
	KeyID     string         `json:"key_id"`
	Evidence  map[string]any `json:"evidence"`
	AsOf      string         `json:"as_of"`
}

// ReadAuditReport reads back an earlier audit report written as json (an
// array) or jsonl, for `audit --diff`.
func ReadAuditReport(r io.Reader) (audit.Previous, error) {
	prev, err := readAuditReport(bounded(r))
	return prev, tooLarge(err)
}

func readAuditReport(br *bufio.Reader) (audit.Previous, error) {
	first, err := firstByte(br)
	if err != nil {
		return audit.Previous{}, err
	}
	var objs []prevFinding
	dec := json.NewDecoder(br)
	switch first {
	case '[':
		if err := dec.Decode(&objs); err != nil {
			return audit.Previous{}, fmt.Errorf("not a keywarden audit json report: %w", err)
		}
	case '{':
		for n := 1; ; n++ {
			var o prevFinding
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return audit.Previous{}, fmt.Errorf("object %d: not a keywarden audit jsonl report: %w", n, err)
			}
			objs = append(objs, o)
		}
	default:
		return audit.Previous{}, fmt.Errorf("not a keywarden audit json or jsonl report (starts with %q)", first)
	}
	return previous(objs)
}

func previous(objs []prevFinding) (audit.Previous, error) {
	var prev audit.Previous
	for i, o := range objs {
		if o.Check == nil {
			return audit.Previous{}, fmt.Errorf("object %d has no \"check\": want the json of 'keywarden audit', not of 'audit keys' or 'scan'", i+1)
		}
		if *o.Check == AuditIncompleteCheck || *o.Check == AuditCanariesCheck {
			continue // what that audit could not read, or left out: not a finding to compare
		}
		sev, err := severity.Parse(o.Severity)
		if err != nil {
			return audit.Previous{}, fmt.Errorf("object %d: %w", i+1, err)
		}
		f := audit.Finding{Check: *o.Check, Title: o.Title, Severity: sev, AccountID: o.AccountID,
			Resource: o.Resource, KeyID: o.KeyID, Evidence: o.Evidence}
		if o.AsOf != "" {
			if f.AsOf, err = time.Parse(time.RFC3339, o.AsOf); err != nil {
				return audit.Previous{}, fmt.Errorf("object %d: as_of %q: want an RFC 3339 time", i+1, o.AsOf)
			}
			if prev.AsOf.IsZero() {
				prev.AsOf = f.AsOf
			}
		}
		prev.Findings = append(prev.Findings, f)
	}
	return prev, nil
}
