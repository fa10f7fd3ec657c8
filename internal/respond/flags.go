package respond

import (
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// FlagEvent names the record a flag was raised on.
type FlagEvent struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Name   string    `json:"name"`
	Source string    `json:"source"`
	Key    string    `json:"key"` // userIdentity.accessKeyId
}

// Flag is one red flag: a call that attackers with a stolen key make.
type Flag struct {
	Rule      string         `json:"rule"`
	Severity  severity.Level `json:"severity"`
	Title     string         `json:"title"`
	Technique string         `json:"technique"` // MITRE ATT&CK id
	Event     FlagEvent      `json:"event"`
	Detail    string         `json:"detail,omitempty"`
}

// Rule is one entry of the red-flag catalogue. IDs are stable: the watch
// issue extends this table and users suppress rules by id.
type Rule struct {
	ID        string
	Severity  severity.Level
	Title     string
	Technique string
	// Match judges one event; detail says what in it made the rule fire.
	Match func(e cloudtrail.Event, req, resp map[string]any) (detail string, ok bool)
}

// Rules is the per-event catalogue, in the order flags are reported for
// one event. The burst rule, which needs many events, is burstRule.
var Rules = []Rule{
	{"KW-CT-IAM-CREATE-USER", severity.High, "IAM user created", "T1136.003", matchCreateUser},
	{"KW-CT-IAM-CREATE-KEY-OTHER", severity.Critical, "access key created for another user", "T1098.001", matchKeyForOther},
	{"KW-CT-IAM-LOGIN-PROFILE", severity.High, "console password set for another user", "T1098", matchLoginProfile},
	{"KW-CT-IAM-ADMIN-ATTACHED", severity.Critical, "administrator rights granted", "T1098.003", matchAdminAttached},
	{"KW-CT-IAM-POLICY-VERSION", severity.High, "new version of a managed policy", "T1098.003", matchPolicyVersion},
	{"KW-CT-STS-SESSION-FROM-KEY", severity.Medium, "temporary credentials minted from a long-term key", "T1550.001", matchSessionFromKey},
	{"KW-CT-RECON-CALLER-ID-SCANNER", severity.High, "key checked by a secret scanner", "T1087.004", matchScannerCallerID},
	{"KW-CT-RECON-LIST", severity.Medium, "account-wide discovery", "T1580", matchReconList},
	{"KW-CT-EVASION", severity.Critical, "logging or detection turned off", "T1562.008", matchEvasion},
	{"KW-CT-SES-RECON", severity.Medium, "SES sending limits or identities probed", "T1496", matchSESRecon},
	{"KW-CT-SES-ABUSE", severity.High, "SES prepared for sending", "T1496", matchSESAbuse},
	{"KW-CT-EC2-MINING", severity.High, "GPU or very large EC2 instances launched", "T1496", matchMining},
	{"KW-CT-ROOT", severity.Critical, "root user activity", "T1078.004", matchRoot},
	{"KW-CT-QUARANTINE-ATTACHED", severity.Critical, "AWS quarantined the key as exposed", "T1552", matchQuarantine},
}

// RedFlags runs every rule over events and returns the flags ordered by
// event time, then by rule order.
func RedFlags(events []cloudtrail.Event) []Flag {
	var out []Flag
	for _, e := range events {
		req, resp := object(e.RequestParameters), object(e.ResponseElements)
		for _, r := range Rules {
			if d, ok := r.Match(e, req, resp); ok {
				out = append(out, r.flag(e, d))
			}
		}
	}
	out = append(out, accessDeniedBursts(events)...)
	slices.SortStableFunc(out, func(a, b Flag) int { return a.Event.At.Compare(b.Event.At) })
	return out
}

func (r Rule) flag(e cloudtrail.Event, detail string) Flag {
	return Flag{Rule: r.ID, Severity: r.Severity, Title: r.Title, Technique: r.Technique, Detail: detail,
		Event: FlagEvent{ID: e.EventID, At: e.EventTime, Name: e.EventName, Source: e.EventSource, Key: e.UserIdentity.AccessKeyID}}
}

// succeeded reports a call that took effect: failed attempts at changes
// are counted by the burst rule instead.
func succeeded(e cloudtrail.Event) bool { return e.ErrorCode == "" }

// awsChecks are services that read account settings on their own schedule
// (Trusted Advisor reads the SES quota daily): their reads are not recon.
var awsChecks = []string{"trustedadvisor.amazonaws.com", "config.amazonaws.com", "securityhub.amazonaws.com",
	"access-analyzer.amazonaws.com", "resource-explorer-2.amazonaws.com"}

// byAWSService is a call AWS made on the account's behalf, not one a key
// holder typed.
func byAWSService(e cloudtrail.Event) bool {
	return e.UserIdentity.Type == "AWSService" || e.UserIdentity.InvokedBy != "" || slices.Contains(awsChecks, e.UserAgent)
}

// self is the name the caller goes by: the IAM user's name, or the
// session name of an assumed role (the last part of its ARN), which is
// how people appear when they sign in through SSO.
func self(e cloudtrail.Event) string {
	if e.UserIdentity.UserName != "" && e.UserIdentity.Type != "AssumedRole" {
		return e.UserIdentity.UserName
	}
	if i := strings.LastIndexByte(e.UserIdentity.ARN, '/'); i >= 0 {
		return e.UserIdentity.ARN[i+1:]
	}
	return ""
}

func is(e cloudtrail.Event, source string, names ...string) bool {
	return (e.EventSource == "" || e.EventSource == source) && slices.Contains(names, e.EventName)
}
