package audit

import "time"

// PasswordPolicy is the account's IAM password policy, as
// GetAccountPasswordPolicy returns it.
type PasswordPolicy struct {
	MinimumLength    int
	RequireUppercase bool
	RequireLowercase bool
	RequireSymbols   bool
	RequireNumbers   bool
	ReusePrevention  int // passwords remembered; 0: reuse allowed
	MaxAgeDays       int // 0: passwords never expire
}

// ServerCert is one server certificate stored in IAM.
type ServerCert struct {
	Name       string
	ARN        string
	Expiration time.Time
}

// RegionAnalyzers is the IAM Access Analyzer analyzers of one region.
type RegionAnalyzers struct {
	Region    string
	Analyzers []Analyzer
}

// Analyzer is one IAM Access Analyzer analyzer.
type Analyzer struct {
	Name   string
	ARN    string
	Type   string // ACCOUNT, ORGANIZATION, ACCOUNT_UNUSED_ACCESS, ...
	Status string // ACTIVE, CREATING, DISABLED, FAILED
	Tags   map[string]string
}
