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
