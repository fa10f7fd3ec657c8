package rotate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/vault"
)

// Signers make the identities a session's calls sign as (rotateaws.Signers).
type Signers interface {
	// Key signs as key alone: a profile's long-term key, never whatever
	// else the environment holds.
	Key(ctx context.Context, key credential.Key, region string) (Signer, error)
	// MFA signs as a session minted from key with an MFA code.
	MFA(ctx context.Context, key credential.Key, region, serial, code string) (Signer, error)
	// Profile signs with an AWS profile's credentials ("": the SDK's default
	// chain): the caller rotating a service user's key.
	Profile(ctx context.Context, profile, region string) (Signer, error)
	// Role signs as spec's role session, asking mfa for the code when spec
	// names an MFA device.
	Role(ctx context.Context, spec vault.SessionSpec, region string, mfa func(serial string) (string, error)) (Signer, error)
}

// Signer is one identity: the IAM calls it signs, and the rest that sign as it.
type Signer interface {
	IAM
	// Caller asks STS who signs.
	Caller(ctx context.Context) (Caller, error)
	// WithKey signs as key instead (a profile's key, once replaced).
	WithKey(key credential.Key) Signer
	// Kinds are the target kinds that call AWS, signing as this identity.
	Kinds() map[string]target.Kind
}

// Caller is who signs: an account and, for an IAM user, its name.
type Caller struct {
	Account string
	ARN     string
	User    string // empty for the root user and roles
	Root    bool
}

// Session runs the rotations of one `keywarden rotate`: each signed as the
// right identity, journaled in DB, its outcome one line on Out.
type Session struct {
	DB        *state.DB
	Signers   Signers
	Profiles  Profiles
	TargetEnv target.Env                          // the --to targets' (Kinds come from each signer)
	Confirm   func(question string) bool          // asks before a destructive step
	MFACode   func(serial string) (string, error) // the code for an MFA session
	Getenv    func(string) string                 // AWS_PROFILE, AWS_ACCESS_KEY_ID
	Out, Err  io.Writer                           // progress and outcomes; notes, warnings and errors
	Now       func() time.Time

	Region        string // overrides each profile's region
	DryRun        bool
	VerifyTimeout time.Duration
	VerifyEvery   time.Duration // the first wait between verifications; 0: a second
}

// Job is one rotation: a profile's key, or (User set) a service user's.
type Job struct {
	Profile     string
	User, KeyID string
	Caller      string   // with User: the profile whose credentials sign ("": the SDK's default chain)
	To          []string // delivered to besides the places holding the key
	Grace       time.Duration
	IfOlderThan time.Duration
}

// What names the job in messages.
func (j Job) What() string {
	if j.User != "" {
		return "user " + j.User
	}
	return "profile " + j.Profile
}

// about is err said of j's rotation: "profile p: ...", or err alone when it
// begins by naming the profile or user already.
func (j Job) about(err error) string {
	msg, what := err.Error(), j.What()
	kind, name, _ := strings.Cut(what, " ")
	if strings.HasPrefix(msg, what+":") || strings.HasPrefix(msg, fmt.Sprintf("%s %q", kind, name)) {
		return msg
	}
	return what + ": " + msg
}

// ProfileNames are the profiles to rotate: those named, else every profile
// holding a long-term key of its own (all), else AWS_PROFILE or default.
func (s *Session) ProfileNames(named []string, all bool) ([]string, error) {
	switch {
	case len(named) > 0:
		return named, nil
	case all:
		return s.Profiles.WithKeys()
	}
	return []string{cmp.Or(s.Getenv("AWS_PROFILE"), "default")}, nil
}

// Rotate runs one job. The --to targets that need no AWS to be checked
// (a token, a file) are checked before the first AWS call.
func (s *Session) Rotate(ctx context.Context, job Job) error {
	for _, spec := range job.To {
		if err := target.Precheck(ctx, spec, s.TargetEnv); err != nil {
			return fmt.Errorf("rotate %s: %w (checked before any change: nothing was changed)", job.What(), err)
		}
	}
	if job.User != "" {
		return s.rotateUser(ctx, job)
	}
	return s.rotateProfile(ctx, job)
}

// RotateProfiles rotates each profile's key as job says. One that fails
// does not stop the others; alone, its error is the run's.
func (s *Session) RotateProfiles(ctx context.Context, names []string, job Job) error {
	var failed []string
	for _, name := range names {
		job.Profile = name
		err := s.Rotate(ctx, job)
		if err != nil && len(names) == 1 {
			return err
		}
		if err != nil {
			fmt.Fprintf(s.Err, "error: %s\n", job.about(err))
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d profiles not rotated: %s", len(failed), len(names), strings.Join(failed, ", "))
	}
	return nil
}

// RotateConfig runs every rotation of cfg, read from file name; defaults
// (the flags) give what an entry does not set. One failing entry does not
// stop the others.
func (s *Session) RotateConfig(ctx context.Context, cfg Config, name string, defaults Job) error {
	var failed []string
	for _, e := range cfg.Entries {
		job := e.Job(defaults)
		if err := s.Rotate(ctx, job); err != nil {
			fmt.Fprintf(s.Err, "error: %s:%d: %s\n", name, e.Line, job.about(err))
			failed = append(failed, job.What())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d rotations of %s failed: %s", len(failed), len(cfg.Entries), name, strings.Join(failed, ", "))
	}
	return nil
}

// Job is e's rotation, with defaults for what e leaves unset.
func (e Entry) Job(defaults Job) Job {
	job := Job{Profile: e.Profile, User: e.User, KeyID: e.KeyID, To: e.To, Caller: defaults.Caller,
		Grace: defaults.Grace, IfOlderThan: defaults.IfOlderThan}
	if e.GraceSet {
		job.Grace = e.Grace
	}
	if e.MaxAge > 0 {
		job.IfOlderThan = e.MaxAge
	}
	return job
}

// rotateProfile rotates the long-term key a profile uses, signed as that
// key (or an MFA session minted from it).
func (s *Session) rotateProfile(ctx context.Context, job Job) error {
	pk, err := s.Profiles.Key(job.Profile)
	if err != nil {
		return err
	}
	if s.Getenv("AWS_ACCESS_KEY_ID") != "" {
		fmt.Fprintln(s.Err, "warning: AWS_ACCESS_KEY_ID is set in the environment: programs run from it use that key, not the profile's")
	}
	caller, sg, err := s.profileSigner(ctx, pk, "profile "+job.Profile)
	if err != nil {
		return err
	}
	req := Request{Account: caller.Account, User: caller.User, OldKeyID: pk.AccessKeyID, OldSecret: pk.SecretAccessKey,
		Targets: append(pk.Targets, job.To...), Profile: pk.KeyProfile(), Files: pk.Files, Grace: job.Grace,
		IfOlderThan: job.IfOlderThan, DryRun: s.DryRun, SignedAs: sg.as}
	if sg.as != "" {
		req.Profile = pk.Name // undo signs as the role again
	}
	rt := s.rotator(sg)
	if pk.MFASerial == "" && sg.as == "" { // a session stays: policies may demand MFA, a role outlives the key
		rt.Successor = func(k credential.Key) IAM { return sg.WithKey(k) }
	}
	return s.run(ctx, rt, req, fmt.Sprintf("profile %s (user %s)", pk.KeyProfile(), caller.User))
}

// signer is who signs a rotation's IAM calls; as is the role's ARN when a
// role does, not the user's own key.
type signer struct {
	Signer
	as string
}

// profileSigner finds whose key the profile holds, asking with the key
// itself (GetCallerIdentity needs no MFA, and a session's identity is not
// always the user's), and who signs its rotation: the key, an MFA session
// minted from it when the profile names an mfa_serial (not for a dry run),
// or — when the profile names a role_arn and the user may not list its own
// keys — that role, assumed with one MFA code. The role is said on Err.
func (s *Session) profileSigner(ctx context.Context, pk ProfileKey, what string) (Caller, signer, error) {
	region := cmp.Or(s.Region, pk.Region)
	own, err := s.Signers.Key(ctx, pk.Key(), region)
	if err != nil {
		return Caller{}, signer{}, err
	}
	caller, err := userOf(ctx, own, what)
	if err != nil {
		return caller, signer{}, err
	}
	if pk.Role != nil {
		_, err := own.ListKeys(ctx, caller.User)
		if errors.Is(err, ErrDenied) {
			role, err := s.roleSigner(ctx, pk, caller, region)
			return caller, role, err
		}
		if err != nil {
			return caller, signer{}, err
		}
	}
	if pk.MFASerial == "" || s.DryRun {
		return caller, signer{Signer: own}, nil
	}
	code, err := s.MFACode(pk.MFASerial)
	if err != nil {
		return caller, signer{}, err
	}
	mfa, err := s.Signers.MFA(ctx, pk.Key(), region, pk.MFASerial, code)
	return caller, signer{Signer: mfa}, err
}

// roleSigner signs as the profile's role, for a user denied its own keys.
func (s *Session) roleSigner(ctx context.Context, pk ProfileKey, user Caller, region string) (signer, error) {
	role, err := s.Signers.Role(ctx, *pk.Role, region, s.MFACode)
	if err != nil {
		return signer{}, fmt.Errorf("profile %s: user %s may not manage its own keys, and assuming role %s failed: %w",
			pk.Name, user.User, pk.RoleARN, err)
	}
	who, err := role.Caller(ctx)
	if err != nil {
		return signer{}, fmt.Errorf("profile %s: role %s: %w", pk.Name, pk.RoleARN, err)
	}
	how := ""
	if pk.Role.MFASerial != "" {
		how = ", MFA device " + pk.Role.MFASerial
	}
	fmt.Fprintf(s.Err, "profile %s: user %s may not manage its own keys (iam:ListAccessKeys denied): the IAM calls sign as %s (role_arn of profile %s%s)\n",
		pk.Name, user.User, who.ARN, pk.Name, how)
	return signer{Signer: role, as: who.ARN}, nil
}

// userOf asks who signs and refuses what is not an IAM user.
func userOf(ctx context.Context, signer Signer, what string) (Caller, error) {
	c, err := signer.Caller(ctx)
	if err != nil {
		return c, fmt.Errorf("%s: %w", what, err)
	}
	return c, checkUser(c, what)
}

// checkUser refuses a root key (delete it instead) and a caller that is not
// an IAM user's long-term key.
func checkUser(c Caller, what string) error {
	switch {
	case c.Root:
		return fmt.Errorf("%s holds a root user key: delete it instead of rotating it (keywarden audit shows how)", what)
	case c.User == "":
		return fmt.Errorf("%s is %s, not an IAM user's long-term key", what, c.ARN)
	}
	return nil
}

// rotateUser rotates a service user's key with the caller's credentials.
func (s *Session) rotateUser(ctx context.Context, job Job) error {
	signer, err := s.Signers.Profile(ctx, job.Caller, s.Region)
	if err != nil {
		return err
	}
	caller, err := signer.Caller(ctx)
	if err != nil {
		return err
	}
	req := Request{Account: caller.Account, User: job.User, OldKeyID: job.KeyID, Targets: job.To,
		Grace: job.Grace, IfOlderThan: job.IfOlderThan, DryRun: s.DryRun}
	return s.run(ctx, s.rotator(signer), req, job.What())
}

// run rotates, turning "not due" into a line and a clean exit.
func (s *Session) run(ctx context.Context, rt *Rotator, req Request, what string) error {
	r, err := rt.Rotate(ctx, req)
	if errors.Is(err, ErrNotDue) {
		fmt.Fprintf(s.Out, "%s: %v\n", what, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("rotate %s: %w", what, err)
	}
	if line := Outcome(what, r); line != "" {
		fmt.Fprintln(s.Out, line)
	}
	return nil
}

// Outcome is the one line that reports a rotation's end; "" for a plan.
func Outcome(what string, r *Rotation) string {
	switch r.Step {
	case StepDone:
		return fmt.Sprintf("rotated %s: %s -> %s; old key deleted", what, cmp.Or(r.OldKeyID, "(none)"), r.NewKeyID)
	case StepDeactivated:
		return fmt.Sprintf("rotated %s: %s -> %s; old key inactive until %s, then the next 'keywarden rotate' deletes it",
			what, r.OldKeyID, r.NewKeyID, r.DeleteAfter.Format(time.RFC3339))
	case StepKept:
		return fmt.Sprintf("rotated %s: %s -> %s; old key kept: %s", what, r.OldKeyID, r.NewKeyID, r.Note)
	}
	return ""
}

// Undo puts r's previous key back, signed as the key its profile now holds,
// or for a service user's rotation as caller's credentials.
func (s *Session) Undo(ctx context.Context, r *Rotation, caller string) error {
	var sg signer
	var err error
	if r.Profile == "" {
		sg.Signer, err = s.Signers.Profile(ctx, caller, s.Region)
	} else {
		var pk ProfileKey
		if pk, err = s.Profiles.Key(r.Profile); err == nil {
			_, sg, err = s.profileSigner(ctx, pk, "profile "+r.Profile)
		}
	}
	if err != nil {
		return err
	}
	if err := s.rotator(sg).Undo(ctx, r); err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "undid %s: key %s of %s is active again\n", r.ID, r.OldKeyID, r.User)
	return nil
}

// rotator is a Rotator signing as signer.
func (s *Session) rotator(signer Signer) *Rotator {
	env := s.TargetEnv
	env.Kinds = signer.Kinds()
	return &Rotator{IAM: signer, DB: s.DB, Out: s.Out, Now: s.Now, Confirm: s.Confirm,
		Targets: Targets(env, s.Profiles.Vault), VerifyTimeout: s.VerifyTimeout, VerifyEvery: cmp.Or(s.VerifyEvery, time.Second)}
}
