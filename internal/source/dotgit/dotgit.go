// Package dotgit checks a web site for an exposed .git/ directory and other
// well-known leak files, rebuilds what it can over HTTP, and scans it.
package dotgit

import (
	"context"

	"github.com/keywarden/keywarden/internal/scan"
)

// Options bound the work done against one site.
type Options struct{}

// ScanURL scans the site at rawURL. TODO(dotgit agent).
func ScanURL(ctx context.Context, rawURL string, opts Options, env scan.Env) error { return nil }
