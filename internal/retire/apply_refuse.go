package retire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/rotate"
)

// refuse checks the whole plan before apply changes anything: no
// placeholder left, the credentials' account, a role name, a trust policy
// that pins who may assume the role, permissions that parse, and no role
// or instance profile of that name that is not this retirement's.
func (a *Applier) refuse(ctx context.Context, p Plan, account string) error {
	var problems []string
	roles := map[string]string{}
	for _, k := range p.Keys {
		if skipReason(k) != "" {
			continue
		}
		if k.AccessKeyID == "" || k.User == "" {
			problems = append(problems, fmt.Sprintf("a key without its access_key_id or user (%q, %q)", k.AccessKeyID, k.User))
			continue
		}
		if _, step, found, err := a.load(ctx, IDOf(k.AccessKeyID)); err != nil {
			return err
		} else if found && step == StepUndoing {
			problems = append(problems, fmt.Sprintf("%s: its retirement is being undone: run 'keywarden retire undo %s' again first", k.AccessKeyID, IDOf(k.AccessKeyID)))
			continue
		}
		for _, why := range refuseKey(k, p.Account, account) {
			problems = append(problems, k.AccessKeyID+": "+why)
		}
		if _, err := a.Keys.LastUsed(ctx, k.AccessKeyID); errors.Is(err, rotate.ErrNoSuchKey) {
			problems = append(problems, k.AccessKeyID+": no such access key in account "+account)
		} else if err != nil {
			return err
		}
		role := k.Replacement.Role
		if role == "" {
			continue
		}
		if other, ok := roles[role]; ok {
			problems = append(problems, fmt.Sprintf("%s: role %s is also %s's", k.AccessKeyID, role, other))
			continue
		}
		roles[role] = k.AccessKeyID
		for _, check := range []func(context.Context, Key, string) (string, error){a.foreign, a.deafProvider} {
			why, err := check(ctx, k, account)
			if err != nil {
				return err
			}
			if why != "" {
				problems = append(problems, k.AccessKeyID+": "+why)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("retire plan %w, nothing changed: %s", ErrRefused, strings.Join(problems, "; "))
	}
	return nil
}

// refuseKey is what is wrong with one key's plan, judged offline.
func refuseKey(k Key, planAccount, account string) []string {
	var out []string
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the placeholder's < and > as written
	if enc.Encode(k) == nil && strings.Contains(b.String(), Placeholder) {
		out = append(out, fmt.Sprintf("the plan still holds %s (give the repository with 'retire plan --repo owner/name', or edit the plan)", Placeholder))
	}
	for _, acct := range []string{planAccount, k.Account} {
		if acct != "" && acct != account {
			out = append(out, fmt.Sprintf("planned for account %s, but the credentials are of account %s", acct, account))
			break
		}
	}
	rp := k.Replacement
	if !knownReplacement(rp.Kind) {
		return append(out, fmt.Sprintf("unknown replacement %q", rp.Kind))
	}
	if rp.Kind == ReplaceDelete {
		return out
	}
	if rp.Role == "" {
		out = append(out, "no role name")
	}
	if k.Permissions == nil || len(k.Permissions.Policy) == 0 {
		out = append(out, "no permissions for the role (policy suggest's document)")
	} else if _, err := iampolicy.Parse(string(k.Permissions.Policy)); err != nil {
		out = append(out, fmt.Sprintf("the role's permissions: %v", err))
	}
	return append(out, refuseTrust(rp, account)...)
}

func knownReplacement(kind string) bool {
	switch kind {
	case ReplaceInstanceProfile, ReplaceTaskRole, ReplaceFunctionRole, ReplaceServiceRole, ReplaceGitHubOIDC,
		ReplaceGitLabOIDC, ReplaceExecRole, ReplaceExternalIDRole, ReplaceDelete:
		return true
	}
	return false
}

// refuseTrust is what is wrong with a replacement's trust policy: an OIDC
// role must pin the audience and the repository (a sub condition, never a
// bare "*" nor a wildcard in the repository), a third party's must demand
// sts:ExternalId.
func refuseTrust(rp Replacement, account string) []string {
	if len(rp.Trust) == 0 {
		return []string{"no trust policy"}
	}
	d, err := iampolicy.Parse(string(rp.Trust))
	if err != nil {
		return []string{fmt.Sprintf("trust policy: %v", err)}
	}
	switch rp.Kind {
	case ReplaceGitHubOIDC, ReplaceGitLabOIDC:
		return refuseOIDC(d, strings.TrimPrefix(oidcIssuer(rp), "https://"))
	case ReplaceExternalIDRole:
		if open := d.CrossAccountWithoutExternalID(account); len(open) > 0 {
			return []string{fmt.Sprintf("trust policy lets %s assume the role without sts:ExternalId", strings.Join(open, ", "))}
		}
	}
	return nil
}

// refuseOIDC checks every Allow of sts:AssumeRoleWithWebIdentity: it must
// pin host:aud with StringEquals and host:sub to a repository.
func refuseOIDC(d iampolicy.Document, host string) []string {
	var out []string
	n := 0
	for _, s := range d.Statements {
		if s.Effect != iampolicy.Allow || !statementGrants(s, "sts:AssumeRoleWithWebIdentity") {
			continue
		}
		n++
		auds, subs := pinnedValues(s.Condition, host+":aud", false), pinnedValues(s.Condition, host+":sub", true)
		if len(auds) == 0 {
			out = append(out, fmt.Sprintf("trust policy has no StringEquals condition on %s:aud", host))
		}
		if len(subs) == 0 {
			out = append(out, fmt.Sprintf("trust policy has no condition on %s:sub: any repository could assume the role", host))
		}
		for _, v := range subs {
			if err := pinsRepository(v); err != nil {
				out = append(out, fmt.Sprintf("trust policy's %s:sub %q %v", host, v, err))
			}
		}
	}
	if n == 0 {
		out = append(out, "trust policy grants no sts:AssumeRoleWithWebIdentity")
	}
	return out
}

func statementGrants(s iampolicy.Statement, action string) bool {
	for _, a := range s.Action {
		if strings.EqualFold(a, action) || a == "*" || strings.EqualFold(a, "sts:*") || strings.EqualFold(a, "sts:AssumeRoleWith*") {
			return true
		}
	}
	return len(s.NotAction) > 0
}

// pinnedValues are the values a condition pins key to (StringEquals, and
// StringLike when like).
func pinnedValues(c iampolicy.Condition, key string, like bool) []string {
	var out []string
	for op, keys := range c {
		o := strings.ToLower(op)
		if o != "stringequals" && !(like && o == "stringlike") {
			continue
		}
		for k, vals := range keys {
			if strings.EqualFold(k, key) {
				out = append(out, vals...)
			}
		}
	}
	return out
}

// pinsRepository checks a sub value names one repository: GitHub's
// repo:OWNER/NAME:..., GitLab's project_path:GROUP/PROJECT:..., without a
// wildcard in the repository.
func pinsRepository(sub string) error {
	if strings.Trim(sub, "*") == "" {
		return errors.New("is a bare wildcard: any repository could assume the role")
	}
	for _, prefix := range []string{"repo:", "project_path:"} {
		rest, ok := strings.CutPrefix(sub, prefix)
		if !ok {
			continue
		}
		repo, _, _ := strings.Cut(rest, ":")
		if repo == "" || strings.ContainsAny(repo, "*?") || !strings.Contains(repo, "/") {
			return errors.New("does not pin one repository (owner/name, no wildcard)")
		}
		return nil
	}
	return errors.New("names no repository (want repo:owner/name:... or project_path:group/project:...)")
}

// trustAudiences are the aud values the trust policy pins.
func trustAudiences(rp Replacement) []string {
	d, err := iampolicy.Parse(string(rp.Trust))
	if err != nil {
		return nil
	}
	host := strings.TrimPrefix(oidcIssuer(rp), "https://")
	var out []string
	for _, s := range d.Statements {
		for _, v := range pinnedValues(s.Condition, host+":aud", false) {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// foreign says why the key's role or instance profile, when it exists,
// is not this retirement's ("" when free or ours).
func (a *Applier) foreign(ctx context.Context, k Key, _ string) (string, error) {
	id, name := IDOf(k.AccessKeyID), k.Replacement.Role
	role, found, err := a.IAM.Role(ctx, name)
	if err != nil {
		return "", err
	}
	if found && role.Tags[Tag] != id {
		return fmt.Sprintf("role %s exists and is not this retirement's (no tag %s=%s)", name, Tag, id), nil
	}
	if k.Replacement.Kind != ReplaceInstanceProfile || found { // our role: its profile was checked when it was made
		return "", nil
	}
	p, found, err := a.IAM.InstanceProfile(ctx, name)
	if err != nil {
		return "", err
	}
	if found && p.Tags[Tag] != id {
		return fmt.Sprintf("instance profile %s exists and is not this retirement's (no tag %s=%s)", name, Tag, id), nil
	}
	return "", nil
}

// deafProvider says why an existing OIDC provider of the key's issuer
// could not serve the role: it lacks an audience the trust policy names,
// so IAM would refuse every token. Apply uses such a provider as it is and
// changes no one else's; the fix is the owner's one command.
func (a *Applier) deafProvider(ctx context.Context, k Key, account string) (string, error) {
	issuer := oidcIssuer(k.Replacement)
	if issuer == "" {
		return "", nil
	}
	arn := ProviderARN(account, issuer)
	p, found, err := a.IAM.Provider(ctx, arn)
	if err != nil || !found || p.Tags[Tag] != "" {
		return "", err // none yet (apply makes it with the audiences), or a retirement's own
	}
	var missing []string
	for _, aud := range providerAudiences(k.Replacement) {
		if !slices.Contains(p.ClientIDs, aud) {
			missing = append(missing, aud)
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	return fmt.Sprintf("the existing OIDC provider %s does not list the audience %s, so IAM would refuse the role's tokens: add it (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn %s --client-id %s) and apply again",
		arn, strings.Join(missing, ", "), arn, missing[0]), nil
}
