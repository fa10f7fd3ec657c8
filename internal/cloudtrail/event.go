// Package cloudtrail decodes CloudTrail records and reads them from where
// they are kept: log files (gzip or plain, {"Records":[...]}), JSON Lines,
// EventBridge envelopes, directories, S3 prefixes, and LookupEvents answers.
// respond (the review of what a key did) and watch (alerts) share it.
package cloudtrail

import (
	"encoding/json"
	"time"
)

// Event is one CloudTrail record, with the fields keywarden judges typed
// and the rest kept raw. Keys match exactly, as CloudTrail writes them:
// unlike encoding/json, "EventName" does not fill EventName, so a record
// cannot carry a second, case-varied value past a rule.
type Event struct {
	EventID             string          `json:"eventID"`
	EventTime           time.Time       `json:"-"` // parsed from eventTime (RFC 3339, or "2006-01-02 15:04:05")
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	EventType           string          `json:"eventType"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	ReadOnly            *bool           `json:"readOnly"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	UserIdentity        UserIdentity    `json:"userIdentity"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	Resources           []Resource      `json:"resources"`
	// Raw is the whole record as read, for reports and user rules; the raw
	// fields above are slices of it. It is a copy of the input, shared
	// with nearby records of the stream in one small slab.
	Raw json.RawMessage `json:"-"`
}

// UserIdentity is who made the call.
type UserIdentity struct {
	Type           string         `json:"type"` // IAMUser, AssumedRole, Root, FederatedUser, AWSService, ...
	PrincipalID    string         `json:"principalId"`
	ARN            string         `json:"arn"`
	AccountID      string         `json:"accountId"`
	AccessKeyID    string         `json:"accessKeyId"`
	UserName       string         `json:"userName"`
	InvokedBy      string         `json:"invokedBy"`
	SessionContext SessionContext `json:"sessionContext"`
}

// SessionContext describes the session of temporary credentials.
type SessionContext struct {
	Attributes    Attributes    `json:"attributes"`
	SessionIssuer SessionIssuer `json:"sessionIssuer"`
}

// Attributes say when a session was made and whether with MFA.
type Attributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// SessionIssuer is the principal whose credentials minted the session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// Resource is one entry of a record's resources list.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}
