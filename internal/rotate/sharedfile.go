package rotate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/vault"
)

// SharedFileSpec is the target spec of the profiles of an AWS shared file
// (~/.aws/credentials or ~/.aws/config) that hold the rotated key:
// "credentials:default,ci" or "config:dev".
func SharedFileSpec(kind awsfile.Kind, profiles []string) string {
	return kind.String() + ":" + strings.Join(profiles, ",")
}

// sharedFile writes the new key into profiles of one AWS shared file,
// changing nothing else in it. The first delivery keeps a backup of the file
// (the rotation journals where before any is written: recordFiles) until the
// rotation ends.
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
	if s.r.BackupOf == s.path {
		if err := writeBackup(s.path, s.r.Backup); err != nil {
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

// Files is the file Deliver writes.
func (s *sharedFile) Files() []string { return []string{s.path} }

// fileTarget is a target that writes local files (a shared file, a dotenv
// file): a killed write of one may leave its temporary file.
type fileTarget interface{ Files() []string }

// backupDir holds rotations' backups, beside the state database: 0700,
// whatever the mode of ~/.aws.
func backupDir(db *state.DB) string { return filepath.Join(filepath.Dir(db.Path()), "backups") }

// recordFiles fills in, before the rotation's first journal write, the
// secret-bearing files a run of it may leave besides its targets: the
// temporary file of each file target and the backup of the first shared
// file (and the backup's own temporary file). A target that does not
// resolve records nothing: its delivery reports why.
func (rt *Rotator) recordFiles(r *Rotation) {
	for _, t := range r.Targets {
		tg, err := rt.Targets(t.Spec, r)
		ft, ok := tg.(fileTarget)
		if err != nil || !ok {
			continue
		}
		for _, p := range ft.Files() {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			r.Leftovers = append(r.Leftovers, atomicfile.TempPath(p))
			if _, shared := tg.(*sharedFile); shared && r.BackupOf == "" {
				r.BackupOf, r.Backup = p, filepath.Join(backupDir(rt.DB), r.ID+"."+filepath.Base(p)+".bak")
				r.Leftovers = append(r.Leftovers, atomicfile.TempPath(r.Backup))
			}
		}
	}
}

// writeBackup copies the file at path to backup (0600, in a 0700
// directory) unless an earlier run of the rotation did: the copy is of the
// file before the rotation.
func writeBackup(path, backup string) error {
	if err := fault.At("backup " + filepath.Base(path)); err != nil {
		return err
	}
	if _, err := os.Lstat(backup); err == nil {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("back up %s: %w", path, err)
	}
	dir := filepath.Dir(backup)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("back up %s: %w", path, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // MkdirAll is subject to the umask, and the directory may be older
		return fmt.Errorf("back up %s: %w", path, err)
	}
	err = atomicfile.Write(backup, 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("back up %s: %w", path, err)
	}
	return nil
}

// removeFiles removes the temporary files a killed run of r left and, when
// the rotation ends (final), its backup: the old key it holds is gone, or
// back in the file. A temporary file another process is writing (one file
// shared by rotations of two users) is its own.
func (r *Rotation) removeFiles(final bool) error {
	for _, p := range r.Leftovers {
		if err := atomicfile.RemoveTemp(p); err != nil && !errors.Is(err, atomicfile.ErrBusy) {
			return err
		}
	}
	if !final || r.Backup == "" {
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
