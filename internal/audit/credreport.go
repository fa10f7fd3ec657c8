package audit

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The credential report's row for the root user carries this name.
const rootAccountName = "<root_account>"

// maxReportRows bounds a hostile report; IAM allows 5,000 users per account.
const maxReportRows = 100_000

// Columns the parser cannot work without; the others, when missing, leave
// their facts unknown.
var requiredColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated",
	"access_key_2_active", "access_key_2_last_rotated",
}

// ErrCredentialReport marks input that is not a readable credential report.
var ErrCredentialReport = errors.New("not a valid IAM credential report")

// ParseCredentialReport reads the IAM credential report (the decoded CSV of
// GetCredentialReport) generated at generated into an Inventory. Columns are
// found by header name, so added or reordered columns do not break it.
//
// Values follow AWS's documentation: "N/A" means the thing does not exist or
// never happened (no key, key never used); "no_information" and
// "not_supported" and anything unreadable leave the fact unknown, and
// unreadable values are named in Inventory.Warnings. A file that is not CSV
// of the report's shape (empty, no header, missing columns, a short or
// garbled row) is an error wrapping ErrCredentialReport.
func ParseCredentialReport(r io.Reader, generated time.Time) (*Inventory, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the report is empty", ErrCredentialReport)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read header: %v", ErrCredentialReport, err)
	}
	cols, err := indexColumns(header)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{ReportGeneratedAt: generated}
	p := &reportParser{inv: inv, cols: cols}
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrCredentialReport, n, err)
		}
		if n > maxReportRows {
			return nil, fmt.Errorf("%w: more than %d rows", ErrCredentialReport, maxReportRows)
		}
		p.row(n, rec)
	}
	return inv, nil
}

func indexColumns(header []string) (map[string]int, error) {
	cols := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := cols[h]; !dup {
			cols[h] = i
		}
	}
	for _, c := range requiredColumns {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("%w: missing column %q", ErrCredentialReport, c)
		}
	}
	return cols, nil
}

type reportParser struct {
	inv  *Inventory
	cols map[string]int
	line int
	who  string
	rec  []string
}

// get returns a column's trimmed value, "" when the column is absent.
func (p *reportParser) get(col string) string {
	i, ok := p.cols[col]
	if !ok || i >= len(p.rec) {
		return ""
	}
	return strings.TrimSpace(p.rec[i])
}

func (p *reportParser) warn(col, val string) {
	p.inv.Warnings = append(p.inv.Warnings,
		fmt.Sprintf("credential report line %d (%s): %s: unreadable value %q", p.line, p.who, col, val))
}

// tri reads a true/false column.
func (p *reportParser) tri(col string) Tri {
	v := p.get(col)
	switch strings.ToLower(v) {
	case "true":
		return Yes
	case "false":
		return No
	case "", "n/a", "not_supported", "no_information":
		return Unknown
	}
	p.warn(col, v)
	return Unknown
}

// date reads a timestamp column.
func (p *reportParser) date(col string) Date {
	v := p.get(col)
	switch strings.ToLower(v) {
	case "n/a":
		return Never()
	case "", "no_information", "not_supported":
		return Date{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return At(t.UTC())
		}
	}
	p.warn(col, v)
	return Date{}
}

// word reads a free-text column where N/A means none.
func (p *reportParser) word(col string) string {
	v := p.get(col)
	switch strings.ToLower(v) {
	case "n/a", "no_information", "not_supported":
		return ""
	}
	return v
}

func (p *reportParser) row(line int, rec []string) {
	p.line, p.rec = line, rec
	p.who = p.get("user")
	arn := p.get("arn")
	p.noteAccount(arn)
	if p.who == rootAccountName {
		if p.inv.Root != nil {
			p.inv.Warnings = append(p.inv.Warnings,
				fmt.Sprintf("credential report line %d: a second %s row; keeping the first", line, rootAccountName))
			return
		}
		p.inv.Root = &Root{
			ARN: arn, Created: p.date("user_creation_time"),
			PasswordLastUsed: p.date("password_last_used"), MFA: p.tri("mfa_active"), Keys: p.keys(), // calls run left to right: warnings in column order
		}
		return
	}
	p.inv.Users = append(p.inv.Users, User{
		Name: p.who, ARN: arn, Created: p.date("user_creation_time"),
		Password: p.tri("password_enabled"), PasswordLastUsed: p.date("password_last_used"),
		PasswordLastChanged: p.date("password_last_changed"), MFA: p.tri("mfa_active"), Keys: p.keys(),
	})
}

// keys reads the two access-key slots, keeping the ones that exist.
func (p *reportParser) keys() []Key {
	var keys []Key
	for slot := 1; slot <= 2; slot++ {
		pre := fmt.Sprintf("access_key_%d_", slot)
		active := p.get(pre + "active")
		rotated := p.get(pre + "last_rotated")
		// AWS writes active=false and last_rotated=N/A for an empty slot.
		if !strings.EqualFold(active, "true") && (rotated == "" || strings.EqualFold(rotated, "n/a")) {
			continue
		}
		k := Key{Slot: slot, Created: p.date(pre + "last_rotated"), LastUsed: p.date(pre + "last_used_date"),
			LastUsedService: p.word(pre + "last_used_service"), LastUsedRegion: p.word(pre + "last_used_region")}
		if k.Created.State == DateNever { // active key with no creation date: unknown, not absent
			k.Created = Date{}
		}
		switch p.tri(pre + "active") {
		case Yes:
			k.Status = KeyActive
		case No:
			k.Status = KeyInactive
		}
		keys = append(keys, k)
	}
	return keys
}

// noteAccount takes the account id from the first ARN and warns on others.
func (p *reportParser) noteAccount(arn string) {
	acct := arnAccount(arn)
	if acct == "" {
		p.warn("arn", arn)
		return
	}
	if p.inv.AccountID == "" {
		p.inv.AccountID = acct
		return
	}
	if acct != p.inv.AccountID {
		p.inv.Warnings = append(p.inv.Warnings, fmt.Sprintf(
			"credential report line %d (%s): arn names account %s, not %s", p.line, p.who, acct, p.inv.AccountID))
	}
}
