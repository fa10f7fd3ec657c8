// Package git scans every object of a git repository, and what is staged.
package git

import (
	"context"

	"github.com/keywarden/keywarden/internal/scan"
)

// Options tune a repository scan.
type Options struct {
	Skip func(path string) bool // allowlisted paths
}

// IsRepo reports whether dir is the top of a git work tree or a bare repository. TODO(git agent).
func IsRepo(dir string) bool { return false }

// ScanRepo scans every object in the repository at dir. TODO(git agent).
func ScanRepo(ctx context.Context, dir string, opts Options, env scan.Env) error { return nil }

// ScanStaged scans what is staged in the index of the repository at dir. TODO(git agent).
func ScanStaged(ctx context.Context, dir string, opts Options, env scan.Env) error { return nil }

// InstallHook installs keywarden as the pre-commit hook of the repository at dir. TODO(git agent).
func InstallHook(dir string, force bool) (string, error) { return "", nil }
