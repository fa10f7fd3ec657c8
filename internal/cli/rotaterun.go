package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/vault"
)

// rotateSession is what every rotation of one run shares.
type rotateSession struct {
	opts  rotateOptions
	deps  Deps
	db    *state.DB
	stdin *bufio.Reader // answers to confirmations and MFA prompts
}

func runRotate(ctx context.Context, opts rotateOptions, deps Deps) error {
	s, err := openRotateSession(opts, deps)
	if err != nil {
		return err
	}
	defer s.db.Close()
	switch {
	case opts.user != "":
		return s.rotateUser(ctx, rotateJob{user: opts.user, keyID: opts.keyID, to: opts.to,
			grace: opts.grace, ifOlderThan: opts.ifOlderThan})
	case opts.config != "":
		return s.rotateConfig(ctx)
	}
	names, err := s.profileNames()
	if err != nil {
		return err
	}
	var failed []string
	for _, name := range names {
		job := rotateJob{profile: name, to: opts.to, grace: opts.grace, ifOlderThan: opts.ifOlderThan}
		if err := s.rotateProfile(ctx, job); err != nil {
			if len(names) == 1 {
				return err
			}
			fmt.Fprintf(deps.Stderr, "error: profile %s: %v\n", name, err)
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d profiles not rotated: %s", len(failed), len(names), strings.Join(failed, ", "))
	}
	return nil
}

func openRotateSession(opts rotateOptions, deps Deps) (*rotateSession, error) {
	path := opts.statePath
	if path == "" {
		var err error
		if path, err = state.DefaultPath(); err != nil {
			return nil, err
		}
	}
	db, err := state.Open(path)
	if err != nil {
		return nil, err
	}
	return &rotateSession{opts: opts, deps: deps, db: db, stdin: bufio.NewReader(deps.Stdin)}, nil
}

// rotateJob is one rotation: a profile's key, or a service user's.
type rotateJob struct {
	profile            string
	user, keyID        string
	to                 []string
	grace, ifOlderThan time.Duration
}

// profileNames are the profiles to rotate: --profile, every profile with a
// long-term key (--all-profiles), else AWS_PROFILE or default.
func (s *rotateSession) profileNames() ([]string, error) {
	if len(s.opts.profiles) > 0 {
		return s.opts.profiles, nil
	}
	if !s.opts.allProfiles {
		return []string{cmpOr(os.Getenv("AWS_PROFILE"), "default")}, nil
	}
	creds, config, err := loadSharedFiles()
	if err != nil {
		return nil, err
	}
	var names []string
	seen := map[string]bool{} // one rotation per key, whatever shares it
	for _, name := range creds.Profiles() {
		p, err := awsfile.Resolve(creds, config, name)
		if err != nil || p.SourceProfile != "" || seen[p.AccessKeyID] {
			continue // not a long-term key of its own: nothing to rotate
		}
		seen[p.AccessKeyID] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("--all-profiles: no profile of the credentials file holds a long-term access key")
	}
	return names, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func loadSharedFiles() (creds, config *awsfile.File, err error) {
	credsPath, err := awsfile.CredentialsPath()
	if err != nil {
		return nil, nil, err
	}
	configPath, err := awsfile.ConfigPath()
	if err != nil {
		return nil, nil, err
	}
	if creds, _, err = awsfile.Load(credsPath, awsfile.Credentials); err != nil {
		return nil, nil, err
	}
	if config, _, err = awsfile.Load(configPath, awsfile.Config); err != nil {
		return nil, nil, err
	}
	return creds, config, nil
}

// rotator builds a Rotator signing with admin.
func (s *rotateSession) rotator(admin *rotateaws.IAM, cfg aws.Config) *rotate.Rotator {
	return &rotate.Rotator{
		IAM: admin, DB: s.db, Out: s.deps.Stdout, Now: time.Now, Confirm: s.confirm,
		Targets: rotate.Targets(target.Env{Kinds: targetaws.Kinds(cfg), Stderr: s.deps.Stderr},
			func() (*vault.Store, error) { return openVault(&credsOptions{}) }),
		VerifyTimeout: s.opts.verifyTimeout, VerifyEvery: time.Second,
	}
}

// confirm asks question on stderr; --yes answers it. Without a terminal to
// ask, the answer is no.
func (s *rotateSession) confirm(question string) bool {
	if s.opts.yes {
		fmt.Fprintf(s.deps.Stderr, "%s yes (--yes)\n", question)
		return true
	}
	if !ui.IsTerminal(s.deps.Stderr) {
		fmt.Fprintf(s.deps.Stderr, "%s no (not a terminal: pass --yes to agree)\n", question)
		return false
	}
	fmt.Fprintf(s.deps.Stderr, "%s [y/N] ", question)
	answer, _ := s.stdin.ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}

// mfaCode is --mfa-token, else one line read after a prompt on stderr.
func (s *rotateSession) mfaCode(serial string) (string, error) {
	if s.opts.mfaToken != "" {
		return s.opts.mfaToken, nil
	}
	fmt.Fprintf(s.deps.Stderr, "MFA code for %s: ", serial)
	code, err := s.stdin.ReadString('\n')
	code = strings.TrimSpace(code)
	if code == "" {
		return "", fmt.Errorf("no MFA code for %s (give --mfa-token for unattended runs): %v", serial, cmpErr(err, io.EOF))
	}
	return code, nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// staticConfig is the SDK configuration for region with key as its only
// credentials: rotation signs with the key it rotates, not with whatever
// the environment holds.
func staticConfig(ctx context.Context, region string, key credential.Key) (aws.Config, error) {
	cfg, err := awsx.Load(ctx, awsx.Options{Region: region})
	if err != nil {
		return aws.Config{}, err
	}
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		key.ID, key.Secret.Reveal(), key.SessionToken.Reveal()))
	return cfg, nil
}

// report prints the outcome of a rotation in one line.
func (s *rotateSession) report(what string, r *rotate.Rotation) {
	switch r.Step {
	case rotate.StepDone:
		fmt.Fprintf(s.deps.Stdout, "rotated %s: %s -> %s; old key deleted\n", what, cmpOr(r.OldKeyID, "(none)"), r.NewKeyID)
	case rotate.StepDeactivated:
		fmt.Fprintf(s.deps.Stdout, "rotated %s: %s -> %s; old key inactive until %s, then the next 'keywarden rotate' deletes it\n",
			what, r.OldKeyID, r.NewKeyID, r.DeleteAfter.Format(time.RFC3339))
	case rotate.StepKept:
		fmt.Fprintf(s.deps.Stdout, "rotated %s: %s -> %s; old key kept: %s\n", what, r.OldKeyID, r.NewKeyID, r.Note)
	}
}
