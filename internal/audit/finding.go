package audit

import (
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/severity"
)

// Finding is one failed (or undecidable) practice, as docs/formats.md's
// "Audit finding fields" describes its JSON.
type Finding struct {
	Check       string         `json:"check"`
	Title       string         `json:"title"`
	Severity    severity.Level `json:"severity"`
	AccountID   string         `json:"account_id"`
	Resource    string         `json:"resource"` // ARN of the user, or of the root user
	KeyID       string         `json:"key_id"`   // empty when the key's id is not known
	Evidence    map[string]any `json:"evidence"`
	Controls    []string       `json:"controls"`
	Remediation string         `json:"remediation"`
	// AsOf is when ages were judged (--as-of, else the time of the audit):
	// it lets a later audit's --diff tell which users and keys are new.
	AsOf time.Time `json:"as_of"`
}

// Config holds the thresholds checks judge by. Zero thresholds take the
// defaults of DefaultConfig.
type Config struct {
	// AsOf is the time ages are judged at (--as-of); zero means the
	// inventory's ReportGeneratedAt.
	AsOf        time.Time
	MaxKeyAge   time.Duration // an active key older than this must be rotated (90 days)
	MaxUnused   time.Duration // an active key unused this long must go (45 days)
	NewUser     time.Duration // users created this recently are listed for review (30 days)
	SetupWindow time.Duration // a key created this close to its console user is a "setup" key (10 minutes)
	// ThirdPartyTags are the user tags (KEY=VALUE) that mark a third
	// party's user (KW-THIRD-PARTY-KEY); nil takes DefaultThirdPartyTags.
	ThirdPartyTags []string
	// RequiredTags are the tag keys every user, role, analyzer and trail
	// must have (--required-tag); none means any tag of the account's own.
	RequiredTags []string
}

const day = 24 * time.Hour

// DefaultConfig returns the CIS thresholds, judged at asOf.
func DefaultConfig(asOf time.Time) Config {
	return Config{AsOf: asOf, MaxKeyAge: 90 * day, MaxUnused: 45 * day, NewUser: 30 * day, SetupWindow: 10 * time.Minute,
		ThirdPartyTags: slices.Clone(DefaultThirdPartyTags)}
}

func (c Config) withDefaults(inv Inventory) Config {
	d := DefaultConfig(c.AsOf)
	if c.AsOf.IsZero() {
		d.AsOf = inv.ReportGeneratedAt
	}
	if c.MaxKeyAge > 0 {
		d.MaxKeyAge = c.MaxKeyAge
	}
	if c.MaxUnused > 0 {
		d.MaxUnused = c.MaxUnused
	}
	if c.NewUser > 0 {
		d.NewUser = c.NewUser
	}
	if c.SetupWindow > 0 {
		d.SetupWindow = c.SetupWindow
	}
	if c.ThirdPartyTags != nil {
		d.ThirdPartyTags = c.ThirdPartyTags
	}
	d.RequiredTags = c.RequiredTags
	return d
}

// CheckInfo describes a check: its stable id, title, default severity and
// the CIS AWS Foundations Benchmark / Security Hub controls it implements.
type CheckInfo struct {
	ID       string
	Title    string
	Severity severity.Level
	Controls []string
}

type check struct {
	info CheckInfo
	run  func(Inventory, Config) []Finding
}

// checks lists every check in the order Run applies them.
var checks = slices.Concat([]check{
	{rootKeyInfo, checkRootKeys},
	{rootMFAInfo, checkRootMFA},
	{rootHardwareMFAInfo, checkRootHardwareMFA},
}, passwordChecks(), []check{
	{serverCertInfo, checkServerCerts},
	{supportRoleInfo, checkSupportRole},
	{securityContactInfo, checkSecurityContact},
	{analyzerInfo, checkAccessAnalyzer},
	{twoActiveInfo, checkTwoActiveKeys},
	{keyAgeInfo, checkKeyAge},
	{keyUnusedInfo, checkKeyUnused},
	{retirableInfo, checkRetirable},
	{keyInactiveInfo, checkInactiveKeys},
	{setupKeyInfo, checkSetupKeys},
	{consoleMFAInfo, checkConsoleMFA},
	{passwordUnusedInfo, checkPasswordUnused},
	{unused90Info, checkUnused90},
	{adminKeyInfo, checkAdminKeys},
	{adminNoMFAInfo, checkAdminNoMFA},
	{thirdPartyKeyInfo, checkThirdPartyKeys},
	{directPolicyInfo, checkDirectPolicies},
	{adminStarInfo, checkAdminStarPolicies},
	{serviceStarInfo, checkServiceStarPolicies},
	{cloudShellInfo, checkCloudShell},
	{dangerousKeyInfo, checkDangerousKeys},
	{newUserInfo, checkNewUsers},
	{trailInfo, checkMultiRegionTrail},
	{trailValidationInfo, checkTrailValidation},
	{trailKMSInfo, checkTrailKMS},
	{trailLogsInfo, checkTrailLogs},
	{trailBucketPublicInfo, checkTrailBucketPublic},
	{trailBucketLoggingInfo, checkTrailBucketLogging},
	{s3WriteEventsInfo, checkS3WriteEvents},
	{s3ReadEventsInfo, checkS3ReadEvents},
}, monitorChecks(), []check{
	{roleTrustInfo, checkRoleTrust},
	{instanceProfileInfo, checkInstanceProfiles},
	{userTagsInfo, checkUserTags},
	{roleTagsInfo, checkRoleTags},
	{analyzerTagsInfo, checkAnalyzerTags},
	{trailTagsInfo, checkTrailTags},
	{embeddedInfo, checkEmbeddedKeys},
	{accountUnreadInfo, checkAccountUnread},
})

// Checks lists every check Run applies.
func Checks() []CheckInfo {
	out := make([]CheckInfo, len(checks))
	for i, c := range checks {
		out[i] = c.info
		out[i].Controls = slices.Clone(c.info.Controls)
	}
	return out
}

// Run applies every check to inv and returns the findings, worst first, then
// by account, resource, key and check.
func Run(inv Inventory, cfg Config) []Finding {
	cfg = cfg.withDefaults(inv)
	var out []Finding
	for _, c := range checks {
		out = append(out, c.run(inv, cfg)...)
	}
	for i := range out {
		out[i].AsOf = cfg.AsOf
	}
	SortFindings(out)
	return out
}

// newFinding starts a finding of check info about resource.
func newFinding(info CheckInfo, inv Inventory, resource string) Finding {
	return Finding{
		Check: info.ID, Title: info.Title, Severity: info.Severity, AccountID: inv.AccountID,
		Resource: resource, Evidence: map[string]any{}, Controls: slices.Clone(info.Controls),
	}
}

// undecided is the finding for a practice that could not be judged because
// a fact it needs is unknown: reported, never passed.
func undecided(info CheckInfo, inv Inventory, resource string, unknown ...string) Finding {
	f := newFinding(info, inv, resource)
	f.Title = info.Title + " (could not be determined)"
	f.Severity = severity.Low
	f.Evidence["verdict"] = "unknown"
	f.Evidence["unknown"] = unknown
	return f
}

// withKey fills a finding's key fields.
func withKey(f Finding, k Key) Finding {
	f.KeyID = k.ID
	if k.Slot > 0 {
		f.Evidence["key_slot"] = k.Slot
	}
	f.Evidence["key_status"] = k.Status.String()
	return f
}

// ageDays is whole days from t to asOf, never negative.
func ageDays(t, asOf time.Time) int {
	if asOf.Before(t) {
		return 0
	}
	return int(asOf.Sub(t) / day)
}

// days renders a threshold for evidence.
func days(d time.Duration) int { return int(d / day) }
