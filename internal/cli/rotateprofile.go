package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/vault/vaultaws"
)

// mfaSessionLength is how long the MFA session of a rotation lasts: long
// enough for verification through IAM's propagation delay.
const mfaSessionLength = 15 * time.Minute

// rotateProfile rotates the long-term key a profile uses.
func (s *rotateSession) rotateProfile(ctx context.Context, job rotateJob) error {
	p, files, vaulted, err := s.profileKey(job.profile)
	if err != nil {
		return err
	}
	s.warnShadowingEnv()
	old := credential.Key{ID: p.AccessKeyID, Secret: p.SecretAccessKey}
	// Who the key belongs to is asked with the key itself: GetCallerIdentity
	// needs no MFA, and a session's identity is not always the user's.
	cfg, err := staticConfig(ctx, cmpOr(s.opts.region, p.Region), old)
	if err != nil {
		return err
	}
	caller, err := callerUser(ctx, rotateaws.New(cfg), "profile "+job.profile)
	if err != nil {
		return err
	}
	admin, cfg, err := s.profileAdmin(ctx, p, old)
	if err != nil {
		return err
	}
	targets := vaulted
	if targets == nil {
		if targets, err = sharedFileTargets(files, old.ID); err != nil {
			return err
		}
	}
	req := rotate.Request{Account: caller.Account, User: caller.User, OldKeyID: old.ID, OldSecret: old.Secret,
		Targets: append(targets, job.to...), Profile: p.KeyProfile(), Files: files, Grace: job.grace,
		IfOlderThan: job.ifOlderThan, DryRun: s.opts.dryRun}
	what := fmt.Sprintf("profile %s (user %s)", p.KeyProfile(), caller.User)
	rt := s.rotator(admin, cfg)
	if p.MFASerial == "" { // with MFA, the session stays: policies may demand MFA
		rt.Successor = func(k credential.Key) rotate.IAM { return admin.WithKey(k) }
	}
	return s.run(ctx, rt, req, what)
}

// run rotates, turning "not due" into a line and a clean exit.
func (s *rotateSession) run(ctx context.Context, rt *rotate.Rotator, req rotate.Request, what string) error {
	r, err := rt.Rotate(ctx, req)
	if errors.Is(err, rotate.ErrNotDue) {
		fmt.Fprintf(s.deps.Stdout, "%s: %v\n", what, err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("rotate %s: %w", what, err)
	}
	s.report(what, r)
	return nil
}

// profileKey finds the long-term key a profile uses: in the shared files,
// or — for a profile imported with 'creds import', whose credential_process
// runs keywarden — in the store, with the store's profiles holding that key
// as the target (vault:P,Q).
func (s *rotateSession) profileKey(name string) (awsfile.Profile, rotate.Files, []string, error) {
	p, files, err := s.resolveProfile(name)
	if err == nil || !errors.Is(err, awsfile.ErrCredentialProcess) || len(p.Chain) == 0 {
		return p, files, nil, err
	}
	root := p.Chain[len(p.Chain)-1]
	store, err := openVault(&credsOptions{})
	if err != nil {
		return p, files, nil, err
	}
	entry, err := store.Get(root)
	if err != nil {
		return p, files, nil, fmt.Errorf("profile %s uses a credential_process and is not in keywarden's store: %w", root, err)
	}
	listed, err := store.List()
	if err != nil {
		return p, files, nil, err
	}
	var holders []string
	for _, l := range listed {
		if l.AccessKeyID == entry.AccessKeyID {
			holders = append(holders, l.Profile)
		}
	}
	p.SourceProfile, p.AccessKeyID, p.SecretAccessKey = "", entry.AccessKeyID, entry.SecretAccessKey
	if root != name {
		p.SourceProfile = root
	}
	return p, rotate.Files{}, []string{rotate.VaultSpec(holders)}, nil
}

// resolveProfile finds the profile's long-term key and the shared files.
// A profile that takes its key from source_profile rotates the source's.
func (s *rotateSession) resolveProfile(name string) (awsfile.Profile, rotate.Files, error) {
	credsPath, err := awsfile.CredentialsPath()
	if err != nil {
		return awsfile.Profile{}, rotate.Files{}, err
	}
	configPath, err := awsfile.ConfigPath()
	if err != nil {
		return awsfile.Profile{}, rotate.Files{}, err
	}
	creds, config, err := loadSharedFiles()
	if err != nil {
		return awsfile.Profile{}, rotate.Files{}, err
	}
	p, err := awsfile.Resolve(creds, config, name)
	if err != nil {
		return p, rotate.Files{Credentials: credsPath, Config: configPath},
			fmt.Errorf("%w: keywarden rotates long-term access keys held in the shared files or its store", err)
	}
	if p.SourceProfile != "" {
		fmt.Fprintf(s.deps.Stderr, "profile %s gets its key from source_profile %s: rotating %s's key\n", name, p.SourceProfile, p.SourceProfile)
	}
	return p, rotate.Files{Credentials: credsPath, Config: configPath}, nil
}

// sharedFileTargets lists the profiles of each shared file that hold keyID.
func sharedFileTargets(files rotate.Files, keyID string) ([]string, error) {
	var specs []string
	for _, f := range []struct {
		path string
		kind awsfile.Kind
	}{{files.Credentials, awsfile.Credentials}, {files.Config, awsfile.Config}} {
		file, _, err := awsfile.Load(f.path, f.kind)
		if err != nil {
			return nil, err
		}
		if names := file.ProfilesWithKey(keyID); len(names) > 0 {
			specs = append(specs, rotate.SharedFileSpec(f.kind, names))
		}
	}
	return specs, nil
}

// profileAdmin signs with the profile's key, or with an MFA session minted
// from it when the profile names an mfa_serial.
func (s *rotateSession) profileAdmin(ctx context.Context, p awsfile.Profile, key credential.Key) (*rotateaws.IAM, aws.Config, error) {
	cfg, err := staticConfig(ctx, cmpOr(s.opts.region, p.Region), key)
	if err != nil {
		return nil, aws.Config{}, err
	}
	if p.MFASerial == "" || s.opts.dryRun {
		return rotateaws.New(cfg), cfg, nil
	}
	code, err := s.mfaCode(p.MFASerial)
	if err != nil {
		return nil, aws.Config{}, err
	}
	session, _, err := vaultaws.SessionToken(ctx, cfg, key, p.MFASerial, code, mfaSessionLength)
	if err != nil {
		return nil, aws.Config{}, fmt.Errorf("sts get-session-token with mfa %s: %w", p.MFASerial, err)
	}
	if cfg, err = staticConfig(ctx, cmpOr(s.opts.region, p.Region), session); err != nil {
		return nil, aws.Config{}, err
	}
	return rotateaws.New(cfg), cfg, nil
}

// callerUser asks STS whose key signs and refuses what is not an IAM user.
func callerUser(ctx context.Context, admin *rotateaws.IAM, what string) (awsx.Identity, error) {
	c, err := admin.Caller(ctx)
	if err != nil {
		return c, fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case c.Root:
		return c, fmt.Errorf("%s holds a root user key: delete it instead of rotating it (keywarden audit shows how)", what)
	case c.User == "":
		return c, fmt.Errorf("%s is %s, not an IAM user's long-term key", what, c.ARN)
	}
	return c, nil
}

// warnShadowingEnv says when environment credentials would hide the
// profile from programs that use the SDK's default chain.
func (s *rotateSession) warnShadowingEnv() {
	if os.Getenv("AWS_ACCESS_KEY_ID") != "" {
		fmt.Fprintln(s.deps.Stderr, "warning: AWS_ACCESS_KEY_ID is set in the environment: programs run from it use that key, not the profile's")
	}
}

// rotateUser rotates a service user's key with the caller's credentials.
func (s *rotateSession) rotateUser(ctx context.Context, job rotateJob) error {
	cfg, err := awsx.Load(ctx, awsx.Options{Profile: s.opts.callerProfile, Region: s.opts.region})
	if err != nil {
		return err
	}
	admin := rotateaws.New(cfg)
	caller, err := admin.Caller(ctx)
	if err != nil {
		return err
	}
	req := rotate.Request{Account: caller.Account, User: job.user, OldKeyID: job.keyID, Targets: job.to,
		Grace: job.grace, IfOlderThan: job.ifOlderThan, DryRun: s.opts.dryRun}
	return s.run(ctx, s.rotator(admin, cfg), req, "user "+job.user)
}
