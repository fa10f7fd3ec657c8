package rotate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/vault"
)

// SharedFileSpec is the target spec of the profiles of an AWS shared file
// (~/.aws/credentials or ~/.aws/config) that hold the rotated key:
// "credentials:default,ci" or "config:dev".
func SharedFileSpec(kind awsfile.Kind, profiles []string) string {
	return kind.String() + ":" + strings.Join(profiles, ",")
}

// sharedFile writes the new key into profiles of one AWS shared file,
// changing nothing else in it. The first delivery keeps a backup of the file,
// journaled in the rotation, until the old key is deleted.
type sharedFile struct {
	spec     string
	path     string
	kind     awsfile.Kind
	profiles []string
	r        *Rotation
}

// SharedFileTarget turns a SharedFileSpec back into a target writing path.
func SharedFileTarget(spec, path string, r *Rotation) (target.Target, error) {
	kindName, list, ok := strings.Cut(spec, ":")
	kind := awsfile.Credentials
	switch {
	case !ok || list == "":
		return nil, fmt.Errorf("shared file target %q: want credentials:PROFILES or config:PROFILES", spec)
	case kindName == awsfile.Config.String():
		kind = awsfile.Config
	case kindName != awsfile.Credentials.String():
		return nil, fmt.Errorf("shared file target %q: want credentials:PROFILES or config:PROFILES", spec)
	}
	return &sharedFile{spec: spec, path: path, kind: kind, profiles: strings.Split(list, ","), r: r}, nil
}

func (s *sharedFile) String() string { return s.spec + " in " + s.path }

func (s *sharedFile) Deliver(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	if err := target.Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", s, err)
	}
	restore, err := s.write(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", s, err)
	}
	return restore, nil
}

// write puts c into the profiles and returns how to put the file back.
func (s *sharedFile) write(ctx context.Context, c target.Credentials) (func(context.Context) error, error) {
	unlock, err := awsfile.Lock(ctx, s.path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	f, mode, err := awsfile.Load(s.path, s.kind)
	if err != nil {
		return nil, err
	}
	before := f.Bytes()
	for _, p := range s.profiles {
		if err := f.Set(p, "aws_access_key_id", c.AccessKeyID); err != nil {
			return nil, err
		}
		if err := f.Set(p, "aws_secret_access_key", c.SecretAccessKey.Reveal()); err != nil {
			return nil, fmt.Errorf("set the secret of profile %s", p) // never wrap: the error could quote the value
		}
	}
	if s.r.Backup == "" {
		if err := fault.At("backup " + filepath.Base(s.path)); err != nil {
			return nil, err
		}
		if s.r.Backup, err = awsfile.Backup(s.path); err != nil {
			return nil, err
		}
	}
	if err := awsfile.Save(s.path, f, mode); err != nil {
		return nil, err
	}
	restore := func(ctx context.Context) error {
		unlock, err := awsfile.Lock(ctx, s.path)
		if err != nil {
			return err
		}
		defer unlock()
		old, err := awsfile.Parse(before, s.kind)
		if err != nil {
			return err
		}
		return awsfile.Save(s.path, old, mode)
	}
	return restore, nil
}

// dropBackup removes the rotation's backup of the shared file once the old
// key it holds is gone (or back in the file).
func (r *Rotation) dropBackup() error {
	if r.Backup == "" {
		return nil
	}
	if err := fault.At("remove backup"); err != nil {
		return err
	}
	if err := os.Remove(r.Backup); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove backup %s: %w", r.Backup, err)
	}
	return nil
}

// Targets resolves journaled specs: a profile's shared file, the store
// (openVault; nil when there is none), else a --to target of package target
// (env.Kinds holds the kinds that call AWS, targetaws.Kinds).
func Targets(env target.Env, openVault func() (*vault.Store, error)) func(spec string, r *Rotation) (target.Target, error) {
	return func(spec string, r *Rotation) (target.Target, error) {
		switch {
		case strings.HasPrefix(spec, awsfile.Credentials.String()+":"):
			return SharedFileTarget(spec, r.Files.Credentials, r)
		case strings.HasPrefix(spec, awsfile.Config.String()+":"):
			return SharedFileTarget(spec, r.Files.Config, r)
		case strings.HasPrefix(spec, "vault:") && openVault != nil:
			return &vaultTarget{spec: spec, profiles: strings.Split(strings.TrimPrefix(spec, "vault:"), ","), open: openVault}, nil
		}
		return target.Parse(spec, env)
	}
}
