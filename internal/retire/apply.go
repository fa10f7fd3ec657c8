package retire

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/state"
)

// IAM is what apply and undo ask of AWS: the OIDC providers, roles, their
// inline policy and instance profiles a replacement needs. Reads answer
// found=false for what is not there; deletes of what is not there succeed
// (a resumed undo meets what a killed one removed); creates wrap ErrExists
// when the name is taken.
type IAM interface {
	// Account is the account of the credentials the calls are signed with.
	Account(ctx context.Context) (string, error)
	Provider(ctx context.Context, arn string) (Resource, bool, error)
	CreateProvider(ctx context.Context, url string, clientIDs []string, tags map[string]string) (arn string, err error)
	DeleteProvider(ctx context.Context, arn string) error
	Role(ctx context.Context, name string) (Role, bool, error)
	CreateRole(ctx context.Context, name, trust, description string, tags map[string]string) (arn string, err error)
	PutRolePolicy(ctx context.Context, role, name, doc string) error
	DeleteRolePolicy(ctx context.Context, role, name string) error
	DeleteRole(ctx context.Context, name string) error
	InstanceProfile(ctx context.Context, name string) (Resource, bool, error)
	CreateInstanceProfile(ctx context.Context, name string, tags map[string]string) (arn string, err error)
	// AddRoleToInstanceProfile puts role into profile (already there: nil).
	AddRoleToInstanceProfile(ctx context.Context, profile, role string) error
	RemoveRoleFromInstanceProfile(ctx context.Context, profile, role string) error
	DeleteInstanceProfile(ctx context.Context, name string) error
}

// KeyAdmin is what apply, finish and undo ask of the key being retired:
// rotate's own key calls (rotateaws.IAM serves them), so a retired key is
// deactivated, deleted and reactivated exactly as a rotated one.
type KeyAdmin interface {
	rotate.KeyDeleter
	SetActive(ctx context.Context, user, keyID string, active bool) error
}

// Resource is an OIDC provider, a role or an instance profile as IAM has it.
type Resource struct {
	ARN  string
	Tags map[string]string
	// Roles are an instance profile's roles.
	Roles []string
	// ClientIDs are an OIDC provider's audiences.
	ClientIDs []string
}

// Role is a role as IAM has it.
type Role struct {
	Resource
	// LastUsed is IAM's RoleLastUsed (zero: never used, as far as IAM knows).
	LastUsed time.Time
}

// ErrExists is wrapped by a create whose name is taken.
var ErrExists = errors.New("it exists")

// ErrRefused is wrapped when apply refuses a plan before any change.
var ErrRefused = errors.New("refused")

// Kind is the state record kind of a retirement.
const Kind = "retire"

// Tag is the tag key on everything apply creates; its value is the
// retirement's id. A provider, role or instance profile that carries it
// with the retirement's id is that retirement's: a create killed before it
// was journaled, or answered "exists" after the SDK retried it, is found
// again by it, and undo removes nothing else.
const Tag = "keywarden-retire"

// PolicyName is the role's inline policy: the plan's permissions.
const PolicyName = "keywarden-retire"

// The OIDC issuers apply makes a provider for when the plan names none,
// and the audience GitHub's tokens carry for AWS by default.
const (
	githubIssuerURL = "https://token.actions.githubusercontent.com"
	gitlabIssuerURL = "https://gitlab.com"
	githubAudience  = "sts.amazonaws.com"
)

// Steps a retirement's record reaches; each is journaled before the change
// it names, so a killed run is resumed (apply, finish) or undone.
const (
	StepCreatingProvider = "creating-provider" // the OIDC provider may exist
	StepCreatingRole     = "creating-role"     // the role may exist
	StepPuttingPolicy    = "putting-policy"    // the role's inline policy may be set
	StepCreatingProfile  = "creating-profile"  // the instance profile may exist
	StepAddingRole       = "adding-role"       // the role may be in the instance profile
	StepRetiring         = "retiring"          // built: the key waits for its quiet window
	StepDeactivating     = "deactivating"      // the key may be inactive
	StepDeactivated      = "deactivated"       // the key is inactive until DeleteAfter
	StepDeleting         = "deleting"          // the key may be deleted
	StepKept             = "kept"              // used after deactivation: not deleted
	StepRetired          = "retired"           // the key is deleted (closed)
	StepUndoing          = "undoing"           // what apply made being removed
	StepUndone           = "undone"            // (closed)
)

// Retirement is one key's retirement as the state database keeps it
// (record id: ID; subject: the key id). No secret is in it.
type Retirement struct {
	ID          string      `json:"id"`
	AccessKeyID string      `json:"access_key_id"`
	User        string      `json:"user"`
	Account     string      `json:"account"`
	Class       Class       `json:"class"`
	Replacement Replacement `json:"replacement"`
	// Policy is the role's inline policy document (the plan's permissions).
	Policy string `json:"policy,omitempty"`
	// ProviderARN is the OIDC provider the role trusts; ProviderOwned says
	// apply created it (undo removes only such a one).
	ProviderARN   string    `json:"provider_arn,omitempty"`
	ProviderOwned bool      `json:"provider_owned,omitempty"`
	RoleARN       string    `json:"role_arn,omitempty"`
	ProfileARN    string    `json:"instance_profile_arn,omitempty"`
	StartedAt     time.Time `json:"started_at"`
	// RetiringAt is when apply finished: the quiet window starts then.
	RetiringAt    time.Time `json:"retiring_at,omitzero"`
	DeactivatedAt time.Time `json:"deactivated_at,omitzero"`
	DeleteAfter   time.Time `json:"delete_after,omitzero"`
	// UndoReactivates says undo found the key touched by finish; Reactivated
	// that undo turned it back on.
	UndoReactivates bool `json:"undo_reactivates,omitempty"`
	Reactivated     bool `json:"reactivated,omitempty"`
	// Note is what the last run found (a late use, a role never used).
	Note string `json:"note,omitempty"`
}

// IDOf is the retirement id of an access key: one retirement per key.
func IDOf(keyID string) string { return "retire-" + keyID }

// Applier runs apply, finish, undo and list.
type Applier struct {
	IAM  IAM
	Keys KeyAdmin
	DB   *state.DB
	Now  func() time.Time
	Out  io.Writer // progress, one line per change
}

// Applied is what apply did for one key of the plan.
type Applied struct {
	Retirement Retirement
	// Resumed: a record was there (a killed apply finished, or an earlier
	// apply's retirement left as it was).
	Resumed bool
	// Skipped says why nothing was built (a key with no single replacement).
	Skipped string
	// Change is what the key's consumer must change now.
	Change string
}

// Apply builds every key's replacement and records the key as retiring.
// The whole plan is checked first (refuse); a refusal changes nothing.
func (a *Applier) Apply(ctx context.Context, p Plan) ([]Applied, error) {
	account, err := a.IAM.Account(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.refuse(ctx, p, account); err != nil {
		return nil, err
	}
	var out []Applied
	for _, k := range p.Keys {
		res, err := a.applyKey(ctx, k, account)
		out = append(out, res)
		if err != nil {
			return out, fmt.Errorf("retire %s: %w", k.AccessKeyID, err)
		}
	}
	return out, nil
}

// applyKey builds one key's replacement, or resumes the build a killed run
// left (each step finds what it made again by its tag).
func (a *Applier) applyKey(ctx context.Context, k Key, account string) (Applied, error) {
	if why := skipReason(k); why != "" {
		return Applied{Skipped: why, Retirement: Retirement{AccessKeyID: k.AccessKeyID, User: k.User, Class: k.Class}}, nil
	}
	id := IDOf(k.AccessKeyID)
	unlock, err := a.DB.Lock(ctx, id)
	if err != nil {
		return Applied{}, err
	}
	defer unlock()
	r, step, found, err := a.load(ctx, id)
	if err != nil {
		return Applied{}, err
	}
	res := Applied{Resumed: found && step != StepUndone}
	if res.Resumed && !isBuildStep(step) { // built already: say the change again
		res.Retirement, res.Change = r, Change(r)
		return res, nil
	}
	if !res.Resumed {
		r = Retirement{ID: id, AccessKeyID: k.AccessKeyID, User: k.User, Account: account, Class: k.Class,
			Replacement: k.Replacement, StartedAt: a.Now().UTC()}
		if k.Permissions != nil {
			r.Policy = string(k.Permissions.Policy)
		}
	}
	if err := a.build(ctx, &r); err != nil {
		return res, err
	}
	r.RetiringAt = a.Now().UTC()
	if err := a.save(ctx, &r, StepRetiring); err != nil {
		return res, err
	}
	res.Retirement, res.Change = r, Change(r)
	return res, nil
}

func isBuildStep(s string) bool {
	switch s {
	case StepCreatingProvider, StepCreatingRole, StepPuttingPolicy, StepCreatingProfile, StepAddingRole:
		return true
	}
	return false
}

// skipReason says why apply builds nothing for k ("" when it builds).
func skipReason(k Key) string {
	switch k.Replacement.Kind {
	case "":
		if k.Class == ClassUnknown {
			return "no event says where the key is used from (class unknown): the plan's notes say what to read"
		}
		return fmt.Sprintf("no single replacement (class %s): split the key's uses first", k.Class)
	case ReplaceExecRole:
		if k.Replacement.Role == "" {
			return "a person: use IAM Identity Center (nothing for apply to build)"
		}
	}
	return ""
}

// build runs every step of r's replacement; each finds what a killed run
// made (by its tag) before making it.
func (a *Applier) build(ctx context.Context, r *Retirement) error {
	rp := r.Replacement
	if rp.Kind == ReplaceDelete {
		return nil // nothing replaces an unused key
	}
	if issuer := oidcIssuer(rp); issuer != "" {
		if err := a.provider(ctx, r, issuer); err != nil {
			return err
		}
	}
	if err := a.role(ctx, r); err != nil {
		return err
	}
	if err := a.save(ctx, r, StepPuttingPolicy); err != nil {
		return err
	}
	if err := a.IAM.PutRolePolicy(ctx, rp.Role, PolicyName, r.Policy); err != nil {
		return err
	}
	a.say("set %s's inline policy %s (the plan's permissions)", rp.Role, PolicyName)
	if rp.Kind == ReplaceInstanceProfile {
		return a.instanceProfile(ctx, r)
	}
	return nil
}

// issuerOf is the OIDC issuer of an OIDC replacement ("" for the others).
func oidcIssuer(rp Replacement) string {
	switch rp.Kind {
	case ReplaceGitHubOIDC:
		return cmp.Or(rp.Provider, githubIssuerURL)
	case ReplaceGitLabOIDC:
		return cmp.Or(rp.Provider, gitlabIssuerURL)
	}
	return ""
}

// ProviderARN is the ARN IAM gives the OIDC provider of issuer in account.
func ProviderARN(account, issuer string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + strings.TrimPrefix(issuer, "https://")
}

// provider finds the issuer's OIDC provider or creates it. One that exists
// and is not this retirement's (another retirement's, or made by hand) is
// used and never removed by undo.
func (a *Applier) provider(ctx context.Context, r *Retirement, issuer string) error {
	r.ProviderARN = ProviderARN(r.Account, issuer)
	if err := a.save(ctx, r, StepCreatingProvider); err != nil {
		return err
	}
	p, found, err := a.IAM.Provider(ctx, r.ProviderARN)
	if err != nil {
		return err
	}
	if found {
		r.ProviderOwned = p.Tags[Tag] == r.ID
		if !r.ProviderOwned {
			a.say("using the existing OIDC provider %s", r.ProviderARN)
		}
		return nil
	}
	arn, err := a.IAM.CreateProvider(ctx, issuer, providerAudiences(r.Replacement), a.tags(r))
	if errors.Is(err, ErrExists) {
		// The SDK retried our create after its answer was lost, or someone
		// made it a moment ago: its tag says which.
		if p, found, err = a.IAM.Provider(ctx, r.ProviderARN); err != nil {
			return err
		}
		r.ProviderOwned = found && p.Tags[Tag] == r.ID
		return nil
	}
	if err != nil {
		return err
	}
	r.ProviderARN, r.ProviderOwned = arn, true
	a.say("created the OIDC provider %s", arn)
	return nil
}

// role finds this retirement's role or creates it with the plan's trust
// policy.
func (a *Applier) role(ctx context.Context, r *Retirement) error {
	rp := r.Replacement
	if err := a.save(ctx, r, StepCreatingRole); err != nil {
		return err
	}
	role, found, err := a.IAM.Role(ctx, rp.Role)
	if err != nil {
		return err
	}
	if !found {
		desc := fmt.Sprintf("keywarden retire: replaces access key %s of %s", r.AccessKeyID, r.User)
		arn, err := a.IAM.CreateRole(ctx, rp.Role, string(rp.Trust), desc, a.tags(r))
		if err == nil {
			r.RoleARN = arn
			a.say("created role %s", arn)
			return nil
		}
		if !errors.Is(err, ErrExists) {
			return err
		}
		if role, found, err = a.IAM.Role(ctx, rp.Role); err != nil {
			return err
		}
	}
	if !found || role.Tags[Tag] != r.ID {
		return fmt.Errorf("role %s exists and is not this retirement's (no tag %s=%s): %w", rp.Role, Tag, r.ID, ErrRefused)
	}
	r.RoleARN = role.ARN
	return nil
}

// instanceProfile finds or creates the instance profile named as the role,
// and puts the role in it.
func (a *Applier) instanceProfile(ctx context.Context, r *Retirement) error {
	name := r.Replacement.Role
	if err := a.save(ctx, r, StepCreatingProfile); err != nil {
		return err
	}
	p, found, err := a.IAM.InstanceProfile(ctx, name)
	if err != nil {
		return err
	}
	if !found {
		arn, err := a.IAM.CreateInstanceProfile(ctx, name, a.tags(r))
		switch {
		case err == nil:
			p, found = Resource{ARN: arn, Tags: a.tags(r)}, true
			a.say("created instance profile %s", arn)
		case errors.Is(err, ErrExists):
			if p, found, err = a.IAM.InstanceProfile(ctx, name); err != nil {
				return err
			}
		default:
			return err
		}
	}
	if !found || p.Tags[Tag] != r.ID {
		return fmt.Errorf("instance profile %s exists and is not this retirement's (no tag %s=%s): %w", name, Tag, r.ID, ErrRefused)
	}
	r.ProfileARN = p.ARN
	if err := a.save(ctx, r, StepAddingRole); err != nil {
		return err
	}
	if len(p.Roles) > 0 && p.Roles[0] == name {
		return nil
	}
	if err := a.IAM.AddRoleToInstanceProfile(ctx, name, name); err != nil {
		return err
	}
	a.say("put role %s into instance profile %s", name, name)
	return nil
}

// tags are the tags of everything r creates.
func (a *Applier) tags(r *Retirement) map[string]string { return map[string]string{Tag: r.ID} }

// audiences are the client ids the provider is created with: the trust
// policy's aud values, else the issuer's usual one.
func providerAudiences(rp Replacement) []string {
	if auds := trustAudiences(rp); len(auds) > 0 {
		return auds
	}
	if rp.Kind == ReplaceGitLabOIDC {
		return []string{oidcIssuer(rp)}
	}
	return []string{githubAudience}
}

func (a *Applier) say(format string, args ...any) {
	if a.Out != nil {
		fmt.Fprintf(a.Out, format+"\n", args...)
	}
}
